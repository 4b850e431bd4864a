import { createHash, randomBytes, randomUUID } from "node:crypto";
import { loadDefaultManifest } from "@custos/manifest";
import { createApp, loadConfig, parseServiceKeys, SERVICE_KEY_HEADER, type ServiceKey } from "@custos/server";
import { createTestDatabase } from "@custos/store";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

/**
 * `custos service-key create|list` (CON-1: services call decisions with a key of their own). The
 * current CUSTOS_SERVICE_KEYS is read from the environment, as the server reads it.
 */

const saved = process.env.CUSTOS_SERVICE_KEYS;
afterEach(() => {
  if (saved === undefined) delete process.env.CUSTOS_SERVICE_KEYS;
  else process.env.CUSTOS_SERVICE_KEYS = saved;
});

/** The key and the CUSTOS_SERVICE_KEYS value a `create` printed. */
function printed(stdout: string): { key: string; value: string; entries: ServiceKey[] } {
  const key = /^ {2}(custos_sk_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1];
  const value = /^ {2}(\[.*\])$/m.exec(stdout)?.[1];
  if (!key || !value) throw new Error(`unexpected output:\n${stdout}`);
  const parsed = parseServiceKeys(value);
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  return { key, value, entries: parsed.keys };
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("custos service-key", () => {
  it("CON-1: create prints a new key once and CUSTOS_SERVICE_KEYS with only its hash added", async () => {
    const other = { name: "billing", keyHash: sha256("billing's key") };
    process.env.CUSTOS_SERVICE_KEYS = JSON.stringify([other]);
    const first = await runCli("service-key", "create", "game-server");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const a = printed(first.stdout);
    expect(a.entries).toEqual([other, { name: "game-server", keyHash: sha256(a.key) }]);
    // The configuration holds the hash, never the key.
    expect(a.value).not.toContain(a.key);
    const second = await runCli("service-key", "create", "feed");
    expect(printed(second.stdout).key).not.toBe(a.key);
  });

  it("CON-1: a key it made lets that service decide; a wrong one is refused", async () => {
    delete process.env.CUSTOS_SERVICE_KEYS;
    const { key, value } = printed((await runCli("service-key", "create", "game-server")).stdout);
    const database = await createTestDatabase();
    const app = await createApp({
      config: loadConfig({
        CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
        PUBLIC_URL: "http://custos.test",
        LOG_LEVEL: "silent",
        CUSTOS_SERVICE_KEYS: value,
      }),
      database,
      manifest: await loadDefaultManifest(),
      webDistDir: "/nonexistent/custos-web-dist",
      startWorker: false,
    });
    try {
      await app.ready();
      const decide = (serviceKey: string) =>
        app.inject({
          method: "POST",
          url: "/api/v1/decisions",
          headers: { [SERVICE_KEY_HEADER]: serviceKey },
          payload: { subjectId: randomUUID(), purposeId: "account-registration", categories: [] },
        });
      const allowed = await decide(key);
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json()).toMatchObject({ allow: expect.any(Boolean), reason: expect.any(String) });
      expect((await decide(`${key}x`)).statusCode).toBe(401);
    } finally {
      await app.close();
      await database.close();
    }
  });

  it("CON-1: refuses a second key for a service unless --rotate, which keeps both", async () => {
    const old = { name: "game-server", keyHash: sha256("the old key") };
    process.env.CUSTOS_SERVICE_KEYS = JSON.stringify([old]);
    const refused = await runCli("service-key", "create", "game-server");
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/has a key already.*--rotate/);
    const rotated = await runCli("service-key", "create", "game-server", "--rotate");
    expect(rotated.code).toBe(0);
    const { key, entries } = printed(rotated.stdout);
    expect(entries).toEqual([old, { name: "game-server", keyHash: sha256(key) }]);
    expect(rotated.stdout).toContain(`remove its older entry (keyHash ${old.keyHash.slice(0, 12)}…)`);
    const nothing = await runCli("service-key", "create", "feed", "--rotate");
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/no key to rotate/);
  });

  it("refuses a name the server would refuse, and prints no key", async () => {
    delete process.env.CUSTOS_SERVICE_KEYS;
    for (const name of ["game server", "x".repeat(101), "服务"]) {
      const result = await runCli("service-key", "create", name);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^No key was made: the service name is not valid \(/);
    }
  });

  it("refuses to run on a CUSTOS_SERVICE_KEYS the server would not start with", async () => {
    process.env.CUSTOS_SERVICE_KEYS = "[{";
    const result = await runCli("service-key", "create", "game-server");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/CUSTOS_SERVICE_KEYS must be a JSON array/);
  });

  it("CON-1: list names the services and the start of their key hashes", async () => {
    delete process.env.CUSTOS_SERVICE_KEYS;
    expect((await runCli("service-key", "list")).stdout).toMatch(/^No service keys/);
    process.env.CUSTOS_SERVICE_KEYS = JSON.stringify([
      { name: "game-server", keyHash: sha256("a") },
      { name: "feed", keyHash: sha256("b") },
    ]);
    const listed = await runCli("service-key", "list");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe(
      `game-server  keyHash ${sha256("a").slice(0, 12)}…\nfeed         keyHash ${sha256("b").slice(0, 12)}…\n`,
    );
  });
});
