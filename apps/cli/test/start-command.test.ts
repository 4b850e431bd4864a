import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type Database } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/custos.mjs", import.meta.url));

/**
 * `custos start --demo` as `npm start` runs it: a real process on a free port, on the embedded
 * database (or a throw-away PostgreSQL database when DATABASE_URL is set).
 */
describe("custos start", () => {
  let dataDir: string;
  let pg: (Database & { url?: string }) | undefined;
  let output = "";
  let baseUrl = "";
  let child: ReturnType<typeof spawn>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "custos-start-"));
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
    delete env.DATABASE_URL;
    if (process.env.DATABASE_URL) {
      pg = await createTestDatabase({ migrate: false });
      env.DATABASE_URL = pg.url;
    }
    child = spawn(process.execPath, [bin, "start", "--port", "0", "--data-dir", dataDir, "--demo"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`custos start did not print its URLs:\n${output}`)),
        90_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = output.match(/API docs:\s+(http:\/\/127\.0\.0\.1:\d+)\/docs/);
        if (m?.[1]) {
          baseUrl = m[1];
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.on("exit", (code) => reject(new Error(`custos start exited with ${code}:\n${output}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await pg?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("prints the URLs of the privacy center, the console and the API docs", () => {
    expect(output).toMatch(/Privacy center: http:\/\/127\.0\.0\.1:\d+\/center/);
    expect(output).toMatch(/Console:\s+http:\/\/127\.0\.0\.1:\d+\/console/);
    expect(output).toMatch(/Sample app:\s+http:\/\/127\.0\.0\.1:\d+\/sample-app/);
    expect(output).toMatch(/policy version 2024-03-26/);
  });

  it("loads demo data and prints what it created, with contacts masked (SEC-6)", () => {
    expect(output).toMatch(/Demo data: 8 players, \d+ encrypted personal fields, \d+ messages\./);
    expect(output).toContain("138****8001");
    expect(output).toMatch(/age \d+ \(child: guardian consent required\)/);
    for (const plaintext of ["13800138001", "jane.doe@example.com", "张伟", "Jane Doe"])
      expect(output).not.toContain(plaintext);
  });

  it("ACC-5: prints one demo staff member per role, once, with a generated password and TOTP secret, labelled demo only", () => {
    expect(output.match(/DEMO STAFF ACCOUNTS \(demo only; shown once, not logged;/g)).toHaveLength(1);
    expect(output).toMatch(/sign in at http:\/\/127\.0\.0\.1:\d+\/console\/sign-in/);
    for (const role of [
      "admin",
      "privacy-officer",
      "children-officer",
      "support-agent",
      "security-analyst",
      "auditor",
    ]) {
      const rows = output.split("\n").filter((l) => l.trimStart().startsWith(`${role} `));
      expect(rows, role).toHaveLength(1);
      expect(rows[0]).toMatch(/@staff\.example\s+[A-Za-z0-9]{20}\s+[A-Z2-7]{16,}$/);
    }
    // Printed straight to the terminal: no JSON log line carries them.
    const logLines = output.split("\n").filter((l) => l.startsWith("{"));
    for (const l of logLines) expect(l).not.toMatch(/@staff\.example/);
  });

  it("serves health, the API docs and the policy", async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", manifest: { version: "2024-03-26" } });
    expect((await fetch(`${baseUrl}/docs`)).status).toBe(200);
    const versions = (await (await fetch(`${baseUrl}/api/v1/policy/versions`)).json()) as {
      versions: unknown[];
    };
    expect(versions.versions).toHaveLength(1);
  });

  it("shows the demo messages in the dev outbox, masked", async () => {
    const res = await fetch(`${baseUrl}/api/v1/dev/outbox`);
    expect(res.status).toBe(200);
    const body = JSON.stringify(await res.json());
    expect(body).toContain("138****8001");
    expect(body).not.toContain("13800138001");
  });
});
