import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, dumpPGlite, openPGliteFromDump } from "./database.ts";
import { envKeyProvider } from "./key-provider.ts";
import { migrate } from "./migrate.ts";
import { createSubjectFieldRepo } from "./subject-field-repo.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";
import { createVault } from "./vault.ts";
import { applyShredLog, fileShredLog, type ShredLog } from "./vault-shred-log.ts";

const run = promisify(execFile);

/** How one kind of database is backed up and restored. */
type Backend = {
  name: string;
  open(): Promise<TestDatabase>;
  /** The backup's raw bytes. */
  dump(database: TestDatabase, dir: string): Promise<Buffer>;
  /** A fresh database loaded from those bytes. */
  restore(bytes: Buffer, dir: string): Promise<TestDatabase>;
};

const pglite: Backend = {
  name: "PGlite dumpDataDir/loadDataDir",
  open: () => createTestDatabase({ url: undefined }),
  async dump(database) {
    return Buffer.from(await (await dumpPGlite(database)).arrayBuffer());
  },
  async restore(bytes) {
    const database = await openPGliteFromDump(new Blob([new Uint8Array(bytes)]));
    await migrate(database.db);
    return database;
  },
};

const serverUrl = process.env.DATABASE_URL;
const postgres: Backend = {
  name: "PostgreSQL pg_dump/pg_restore",
  open: () => createTestDatabase({ url: serverUrl }),
  async dump(database, dir) {
    const file = join(dir, `${randomUUID()}.dump`);
    // Custom format without compression, so the test can search the raw bytes.
    await run("pg_dump", [
      "--format=custom",
      "--compress=0",
      "--no-owner",
      `--file=${file}`,
      database.url ?? "",
    ]);
    return readFile(file);
  },
  async restore(bytes, dir) {
    const file = join(dir, `${randomUUID()}.restore.dump`);
    await writeFile(file, bytes);
    const fresh = await createTestDatabase({ url: serverUrl, migrate: false });
    await run("pg_restore", ["--no-owner", "--exit-on-error", `--dbname=${fresh.url ?? ""}`, file]);
    return fresh;
  },
};

const backends = serverUrl ? [pglite, postgres] : [pglite];

/** Plaintext may hide in a dump as UTF-8 or as the hex text of a bytea column. */
function forms(value: string | Buffer): Buffer[] {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const out = [bytes, Buffer.from(bytes.toString("hex"), "utf8")];
  if (typeof value === "string") out.push(Buffer.from(value.toUpperCase(), "utf8"));
  return out;
}
const appearsIn = (dump: Buffer, value: string | Buffer) => forms(value).some((f) => dump.includes(f));

for (const backend of backends) {
  describe(`crypto-shredding and backups on ${backend.name} (SEC-1, RR-8)`, () => {
    let dir: string;
    let log: ShredLog;
    const masterKey = envKeyProvider(randomBytes(32).toString("base64"));
    const open: Database[] = [];
    const track = <T extends Database>(d: T): T => {
      open.push(d);
      return d;
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "custos-shred-"));
      log = fileShredLog(join(dir, "keys", "shred.log"));
    });
    afterAll(async () => {
      for (const d of open) await d.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("SEC-1: a shredded subject stays unreadable in a backup taken after the shred and in a restore of one taken before", async () => {
      const source = track(await backend.open());
      const vault = createVault({ db: source.db, keyProvider: masterKey, shredLog: log });
      const repo = createSubjectFieldRepo(source.db, vault);
      const subject = randomUUID();
      const keeper = randomUUID();
      const pi = {
        email: "shredded.person@example.cn",
        phone: "13987654321",
        name: "欧阳秘密",
        idNumber: "11010519491231002X",
      };
      const put = (
        subjectId: string,
        field: string,
        value: string,
        indexAs?: "email" | "phone" | "id_number",
      ) => repo.put({ subjectId, category: "contact", field, keyGroup: "account", value, indexAs });
      await put(subject, "email", pi.email, "email");
      await put(subject, "phone", pi.phone, "phone");
      await put(subject, "name", pi.name);
      await put(subject, "id-number", pi.idNumber, "id_number");
      await put(keeper, "email", "keeper@example.cn", "email");

      const wrappedBefore = await source.db
        .selectFrom("subject_keys")
        .select("wrapped_key")
        .where("subject_id", "=", subject)
        .executeTakeFirstOrThrow();
      const indexesBefore = await source.db
        .selectFrom("subject_fields")
        .select("blind_index")
        .where("subject_id", "=", subject)
        .where("blind_index", "is not", null)
        .execute();
      expect(indexesBefore).toHaveLength(3);

      const before = await backend.dump(source, dir);
      expect(await vault.shred(subject)).toBe(1);
      const after = await backend.dump(source, dir);

      // No plaintext (nor the hex of it) anywhere in either backup's bytes.
      for (const dump of [before, after]) {
        for (const value of Object.values(pi)) expect(appearsIn(dump, value)).toBe(false);
      }
      // The backup taken before the shred does hold the wrapped key: the restore procedure must act.
      expect(appearsIn(before, wrappedBefore.wrapped_key as Buffer)).toBe(true);

      // 1. A backup taken after the shred: restored as it is, nothing of the subject opens or matches.
      const restoredAfter = track(await backend.restore(after, dir));
      const afterRepo = createSubjectFieldRepo(
        restoredAfter.db,
        createVault({ db: restoredAfter.db, keyProvider: masterKey }),
      );
      await expect(afterRepo.get(subject, "contact", "email")).rejects.toMatchObject({
        reason: "key_destroyed",
      });
      expect(await afterRepo.findSubjectsByBlindIndex("email", "email", pi.email)).toEqual([]);
      expect(await afterRepo.findSubjectsByBlindIndex("phone", "phone", pi.phone)).toEqual([]);
      expect(await afterRepo.get(keeper, "contact", "email")).toBe("keeper@example.cn");
      if (backend === postgres) {
        // A logical dump carries live rows only: neither the wrapped key nor the blind indexes.
        expect(appearsIn(after, wrappedBefore.wrapped_key as Buffer)).toBe(false);
        for (const row of indexesBefore) expect(appearsIn(after, row.blind_index as Buffer)).toBe(false);
      }

      // 2. The backup taken before the shred, restored: the shred log is replayed before use.
      const restoredBefore = track(await backend.restore(before, dir));
      const report = await applyShredLog(restoredBefore.db, log);
      expect(report).toEqual({ entries: 1, keysDestroyed: 1 });
      const coldRepo = createSubjectFieldRepo(
        restoredBefore.db,
        createVault({ db: restoredBefore.db, keyProvider: masterKey }),
      );
      for (const field of ["email", "phone", "name", "id-number"]) {
        await expect(coldRepo.get(subject, "contact", field)).rejects.toMatchObject({
          reason: "key_destroyed",
        });
      }
      expect(await coldRepo.findSubjectsByBlindIndex("email", "email", pi.email)).toEqual([]);
      expect(await coldRepo.findSubjectsByBlindIndex("phone", "phone", pi.phone)).toEqual([]);
      expect(await coldRepo.findSubjectsByBlindIndex("id-number", "id_number", pi.idNumber)).toEqual([]);
      // Everyone else is intact.
      expect(await coldRepo.get(keeper, "contact", "email")).toBe("keeper@example.cn");
      expect(await coldRepo.findSubjectsByBlindIndex("email", "email", "keeper@example.cn")).toEqual([
        keeper,
      ]);
      // Replaying again changes nothing.
      expect(await applyShredLog(restoredBefore.db, log)).toEqual({ entries: 1, keysDestroyed: 0 });
      if (backend === postgres) {
        const redumped = await backend.dump(restoredBefore as TestDatabase, dir);
        expect(appearsIn(redumped, wrappedBefore.wrapped_key as Buffer)).toBe(false);
      }
    });

    it("SEC-1: a restore without the shred log would bring the subject back (why the log is replayed)", async () => {
      const source = track(await backend.open());
      const otherLog = fileShredLog(join(dir, "other", "shred.log"));
      const vault = createVault({ db: source.db, keyProvider: masterKey, shredLog: otherLog });
      const subject = randomUUID();
      const blob = await vault.encryptField(subject, "account", "contact.phone", "13600001111");
      await source.db
        .insertInto("subject_fields")
        .values({
          subject_id: subject,
          category: "contact",
          field: "phone",
          key_group: "account",
          ciphertext: blob,
        })
        .execute();
      const before = await backend.dump(source, dir);
      await vault.shred(subject, ["account"]);
      expect(await otherLog.entries()).toEqual([
        { subjectId: subject, groups: ["account"], at: expect.any(String) },
      ]);
      const restored = track(await backend.restore(before, dir));
      const fresh = () => createVault({ db: restored.db, keyProvider: masterKey });
      expect(await fresh().decryptField(subject, "account", "contact.phone", blob)).toBe("13600001111");
      await applyShredLog(restored.db, otherLog);
      await expect(fresh().decryptField(subject, "account", "contact.phone", blob)).rejects.toMatchObject({
        reason: "key_destroyed",
      });
    });
  });
}

describe("the shred log file (SEC-1)", () => {
  it("SEC-1: a torn last line from a crash is ignored, a damaged earlier line stops the replay", async () => {
    const dir = await mkdtemp(join(tmpdir(), "custos-shredlog-"));
    try {
      const path = join(dir, "shred.log");
      const log = fileShredLog(path);
      expect(await log.entries()).toEqual([]);
      const a = { subjectId: randomUUID(), groups: null, at: new Date().toISOString() };
      const b = { subjectId: randomUUID(), groups: ["account"], at: new Date().toISOString() };
      await log.append(a);
      await log.append(b);
      expect(await log.entries()).toEqual([a, b]);
      await writeFile(path, `${JSON.stringify(a)}\n${JSON.stringify(b)}\n{"subjectId":"`, { flag: "w" });
      expect(await log.entries()).toEqual([a, b]);
      await writeFile(path, `${JSON.stringify(a)}\nnot json\n${JSON.stringify(b)}\n`, { flag: "w" });
      await expect(log.entries()).rejects.toThrow(/unreadable entry on line 2/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
