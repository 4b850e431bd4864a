import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { StartError, startServer } from "../src/start.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "custos-start-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("startServer", () => {
  it("MAN-3: refuses to start on an invalid manifest, naming file and line", async () => {
    const file = path.join(dir, "bad.yaml");
    await writeFile(file, "manifestVersion: 1\nversion: 7\nproduct:\n  id: Not Kebab\n");
    const config = loadConfig({
      CUSTOS_MANIFEST: file,
      CUSTOS_DATA_DIR: dir,
      CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
      PORT: "0",
    });
    const error = await startServer({ config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartError);
    expect((error as Error).message).toContain(`${file}:`);
    expect((error as Error).message).toMatch(/did not start/);
  });

  it("starts on the default manifest with an embedded database, serves HTTP, and closes", async () => {
    const config = loadConfig({ CUSTOS_DATA_DIR: path.join(dir, "data"), PORT: "0", LOG_LEVEL: "silent" });
    const server = await startServer({ config });
    try {
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { database: string };
      expect(body.database).toBe("up");
      // The master key file was created for the vault.
      await expect(
        import("node:fs/promises").then((fs) => fs.stat(config.masterKeyFile)),
      ).resolves.toBeTruthy();
    } finally {
      await server.close();
    }
  });
});
