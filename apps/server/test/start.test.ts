import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase } from "@custos/store";
import { type KyselyPlugin, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { StartError, startServer } from "../src/start.ts";
import { buildTestApp } from "./helpers.ts";

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

  it("SEC-4: closes the database it owns last, after the jobs worker and the audit sealer have stopped", async () => {
    const database = await createTestDatabase();
    // Queries the app sends once its database began to close (that close waits 20 ms first, time
    // for the worker, which polls every millisecond, to query again if it were still running).
    let closing = false;
    const late: string[] = [];
    const recorder: KyselyPlugin = {
      transformQuery: ({ node }) => {
        if (closing) late.push(node.kind);
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const t = await buildTestApp({
      deps: {
        ownsDatabase: true,
        workerPollMs: 1,
        database: {
          ...database,
          db: database.db.withPlugin(recorder),
          close: async () => {
            closing = true;
            await new Promise((resolve) => setTimeout(resolve, 20));
            await database.close();
          },
        },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = t.logs.length;
    await t.app.close();
    expect(late).toEqual([]);
    expect(t.logs.slice(before).filter((line) => /"level":(40|50|60)/.test(line))).toEqual([]);
    await expect(sql`select 1`.execute(database.db)).rejects.toThrow(/destroyed|closed/);
    await t.database.close();
  });
});
