import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

/**
 * `custos staff create-admin` and `custos audit verify|seal` in this process, on an embedded
 * database in a temporary folder (or a throw-away PostgreSQL database when DATABASE_URL is set).
 */
describe("custos staff and custos audit", () => {
  let dataDir: string;
  let pg: TestDatabase | undefined;
  const savedUrl = process.env.DATABASE_URL;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "custos-staff-cli-"));
    if (savedUrl) {
      pg = await createTestDatabase({ migrate: false });
      process.env.DATABASE_URL = pg.url;
    }
  }, 60_000);
  afterAll(async () => {
    if (savedUrl) process.env.DATABASE_URL = savedUrl;
    await pg?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("ACC-5: create-admin prints a one-time password once, then refuses a second admin unless --force", async () => {
    const first = await runCli(
      "staff",
      "create-admin",
      "--email",
      "root@staff.example",
      "--name",
      "Root",
      "-d",
      dataDir,
    );
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/One-time password \(shown once, keep it safe\): [A-Za-z0-9]{20}\n/);
    expect(first.stdout).not.toContain("root@staff.example");
    const second = await runCli(
      "staff",
      "create-admin",
      "--email",
      "two@staff.example",
      "--name",
      "Two",
      "-d",
      dataDir,
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already exists.*--force/);
    const forced = await runCli(
      "staff",
      "create-admin",
      "--email",
      "two@staff.example",
      "--name",
      "Two",
      "--force",
      "-d",
      dataDir,
    );
    expect(forced.code).toBe(0);
  }, 60_000);

  it("SEC-4: audit seal seals the staff-account events and audit verify prints ok with counts", async () => {
    const sealed = await runCli("audit", "seal", "-d", dataDir);
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toMatch(/Sealed 2 event\(s\) in 1 batch\(es\)/);
    const verified = await runCli("audit", "verify", "-d", dataDir);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^ok: 1 batch\(es\), 2 sealed event\(s\), 0 not yet sealed; head 1:[0-9a-f]{64}\n$/,
    );
    const badAnchor = await runCli("audit", "verify", "--anchor", `1:${"0".repeat(64)}`, "-d", dataDir);
    expect(badAnchor.code).toBe(1);
    expect(badAnchor.stdout).toMatch(/^BROKEN: /);
  }, 60_000);
});
