import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.ts";
import { envKeyProvider, fileKeyProvider } from "./key-provider.ts";
import { createSubjectFieldRepo } from "./subject-field-repo.ts";
import { createTestDatabase } from "./test-database.ts";
import { createVault, normaliseForIndex, type Vault, VaultError } from "./vault.ts";

const masterKey = () => envKeyProvider(randomBytes(32).toString("base64"));

describe("vault (SEC-1)", () => {
  let database: Database;
  let vault: Vault;

  beforeAll(async () => {
    database = await createTestDatabase();
    vault = createVault({ db: database.db, keyProvider: masterKey() });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("SEC-1: a field round-trips, and each encryption uses a fresh IV", async () => {
    const subject = randomUUID();
    const a = await vault.encryptField(subject, "account", "contact.email", "li.si@example.cn");
    const b = await vault.encryptField(subject, "account", "contact.email", "li.si@example.cn");
    expect(a[0]).toBe(1); // version byte
    expect(a.equals(b)).toBe(false);
    expect(await vault.decryptField(subject, "account", "contact.email", a)).toBe("li.si@example.cn");
    expect(await vault.decryptField(subject, "account", "contact.email", b)).toBe("li.si@example.cn");
    expect(
      await vault.decryptField(
        subject,
        "account",
        "contact.name",
        await vault.encryptField(subject, "account", "contact.name", "张三"),
      ),
    ).toBe("张三");
  });

  it("SEC-1: a flipped byte, another subject or another field fails the integrity check", async () => {
    const subject = randomUUID();
    const other = randomUUID();
    const blob = await vault.encryptField(subject, "account", "contact.phone", "13812341234");
    await vault.encryptField(other, "account", "contact.phone", "13900000000"); // other has a key too

    for (let i = 1; i < blob.length; i += 7) {
      const flipped = Buffer.from(blob);
      flipped[i] = (flipped[i] ?? 0) ^ 0x01;
      await expect(vault.decryptField(subject, "account", "contact.phone", flipped)).rejects.toThrow(
        VaultError,
      );
    }
    await expect(vault.decryptField(other, "account", "contact.phone", blob)).rejects.toMatchObject({
      reason: "tampered",
    });
    await expect(vault.decryptField(subject, "account", "contact.email", blob)).rejects.toMatchObject({
      reason: "tampered",
    });
    const badVersion = Buffer.from(blob);
    badVersion[0] = 9;
    await expect(vault.decryptField(subject, "account", "contact.phone", badVersion)).rejects.toMatchObject({
      reason: "bad_format",
    });
  });

  it("SEC-1: keys are per subject and per key group, stored wrapped", async () => {
    const subject = randomUUID();
    await vault.encryptField(subject, "account", "f", "x");
    await vault.encryptField(subject, "gameplay", "f", "y");
    const keys = await database.db
      .selectFrom("subject_keys")
      .selectAll()
      .where("subject_id", "=", subject)
      .execute();
    expect(keys.map((k) => k.key_group).sort()).toEqual(["account", "gameplay"]);
    for (const k of keys) {
      expect(k.wrapped_key?.length).toBeGreaterThan(32);
      expect(k.master_key_id).toMatch(/^env:[0-9a-f]{16}$/);
    }
  });

  it("SEC-1: blind indexes are equal for normalised-equal inputs and differ across kinds and keys", async () => {
    expect(normaliseForIndex("email", "  Li.Si@Example.CN ")).toBe("li.si@example.cn");
    expect(normaliseForIndex("phone", "+86 138-1234-1234")).toBe("8613812341234");
    expect(normaliseForIndex("id_number", "11010519491231002x ")).toBe("11010519491231002X");

    const e1 = await vault.blindIndex("email", "Li.Si@Example.CN");
    const e2 = await vault.blindIndex("email", "  li.si@example.cn");
    expect(e1.equals(e2)).toBe(true);
    expect(e1).toHaveLength(32);
    expect((await vault.blindIndex("email", "wang.wu@example.cn")).equals(e1)).toBe(false);
    expect(
      (await vault.blindIndex("phone", "138 1234 1234")).equals(
        await vault.blindIndex("phone", "13812341234"),
      ),
    ).toBe(true);
    // Another kind with the same text gets another index.
    expect((await vault.blindIndex("username", "li.si@example.cn")).equals(e1)).toBe(false);

    // Another installation (other database, other master key) gets other indexes.
    const other = await createTestDatabase();
    try {
      const otherVault = createVault({ db: other.db, keyProvider: masterKey() });
      expect((await otherVault.blindIndex("email", "li.si@example.cn")).equals(e1)).toBe(false);
    } finally {
      await other.close();
    }
  });

  it("SEC-1: the subject_fields table holds no plaintext, and lookups work by blind index", async () => {
    const subject = randomUUID();
    const repo = createSubjectFieldRepo(database.db, vault);
    const secrets = { email: "zhao.liu.secret@example.cn", phone: "13712345678", name: "赵六" };
    await repo.put({
      subjectId: subject,
      category: "contact",
      field: "email",
      keyGroup: "account",
      value: secrets.email,
      indexAs: "email",
    });
    await repo.put({
      subjectId: subject,
      category: "contact",
      field: "phone",
      keyGroup: "account",
      value: secrets.phone,
      indexAs: "phone",
    });
    await repo.put({
      subjectId: subject,
      category: "identity",
      field: "name",
      keyGroup: "account",
      value: secrets.name,
    });

    const rows = await database.db.selectFrom("subject_fields").selectAll().execute();
    const dump = Buffer.concat(
      rows.flatMap((r) => [
        Buffer.from(`${r.subject_id}|${r.category}|${r.field}|${r.key_group}|`),
        r.ciphertext,
        r.blind_index ?? Buffer.alloc(0),
      ]),
    );
    for (const secret of Object.values(secrets)) {
      expect(dump.includes(Buffer.from(secret, "utf8"))).toBe(false);
      expect(dump.includes(Buffer.from(secret.toUpperCase(), "utf8"))).toBe(false);
    }

    expect(await repo.get(subject, "contact", "email")).toBe(secrets.email);
    expect(await repo.getAll(subject)).toEqual({
      contact: { email: secrets.email, phone: secrets.phone },
      identity: { name: secrets.name },
    });
    expect(await repo.findSubjectsByBlindIndex("email", "email", " ZHAO.LIU.SECRET@example.cn")).toEqual([
      subject,
    ]);
    expect(await repo.findSubjectsByBlindIndex("phone", "phone", "137-1234-5678")).toEqual([subject]);
    expect(await repo.findSubjectsByBlindIndex("email", "email", "nobody@example.cn")).toEqual([]);

    await repo.put({
      subjectId: subject,
      category: "contact",
      field: "email",
      keyGroup: "account",
      value: "new@example.cn",
      indexAs: "email",
    });
    expect(await repo.get(subject, "contact", "email")).toBe("new@example.cn");
    expect(await repo.findSubjectsByBlindIndex("email", "email", secrets.email)).toEqual([]);
  });

  it("SEC-1: fields written inside a transaction use the transaction, and a rollback leaves nothing", async () => {
    const subject = randomUUID();
    await expect(
      database.db.transaction().execute(async (trx) => {
        const repo = createSubjectFieldRepo(trx, vault);
        await repo.put({
          subjectId: subject,
          category: "contact",
          field: "email",
          keyGroup: "account",
          value: "tx@example.cn",
        });
        expect(await repo.get(subject, "contact", "email")).toBe("tx@example.cn");
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const keys = await database.db
      .selectFrom("subject_keys")
      .select("key_group")
      .where("subject_id", "=", subject)
      .execute();
    expect(keys).toEqual([]);
    // A new key is made after the rollback and works.
    const repo = createSubjectFieldRepo(database.db, vault);
    await repo.put({
      subjectId: subject,
      category: "contact",
      field: "email",
      keyGroup: "account",
      value: "after@example.cn",
    });
    expect(await repo.get(subject, "contact", "email")).toBe("after@example.cn");
  });

  it("SEC-1: shredding a key makes its fields undecryptable, other groups stay readable", async () => {
    const subject = randomUUID();
    const account = await vault.encryptField(subject, "account", "contact.email", "shred.me@example.cn");
    const gameplay = await vault.encryptField(subject, "gameplay", "stats.level", "42");

    expect(await vault.shred(subject, ["account"])).toBe(1);
    await expect(vault.decryptField(subject, "account", "contact.email", account)).rejects.toMatchObject({
      reason: "key_destroyed",
    });
    // A second vault with a cold cache cannot read it either.
    const cold = createVault({ db: database.db, keyProvider: masterKey() });
    await expect(cold.decryptField(subject, "account", "contact.email", account)).rejects.toThrow(VaultError);
    expect(await vault.decryptField(subject, "gameplay", "stats.level", gameplay)).toBe("42");
    // No new data can be written under a destroyed key.
    await expect(vault.encryptField(subject, "account", "contact.email", "again")).rejects.toMatchObject({
      reason: "key_destroyed",
    });

    expect(await vault.shred(subject)).toBe(1);
    await expect(vault.decryptField(subject, "gameplay", "stats.level", gameplay)).rejects.toThrow(
      VaultError,
    );
    const keys = await database.db
      .selectFrom("subject_keys")
      .selectAll()
      .where("subject_id", "=", subject)
      .execute();
    for (const k of keys) {
      expect(k.wrapped_key).toBeNull();
      expect(k.destroyed_at).toBeInstanceOf(Date);
    }
  });

  it("SEC-1: sealed system data opens only with its key and fails when altered", async () => {
    const sealed = await vault.sealSystem("recipient@example.cn");
    expect(sealed.includes(Buffer.from("recipient@example.cn"))).toBe(false);
    expect(await vault.openSystem(sealed)).toBe("recipient@example.cn");
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 0xff;
    await expect(vault.openSystem(altered)).rejects.toMatchObject({ reason: "tampered" });
    const wrongMaster = createVault({ db: database.db, keyProvider: masterKey() });
    await expect(wrongMaster.openSystem(sealed)).rejects.toThrow(/wrong master key/);
  });
});

describe("key providers", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "custos-keys-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("SEC-1: fileKeyProvider creates a 0600 key file once and reuses it", async () => {
    const path = join(dir, "sub", "master.key");
    const first = fileKeyProvider(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(path, "utf8")).trim(), "base64")).toHaveLength(32);
    const second = fileKeyProvider(path);
    expect(second.id).toBe(first.id);
    const dataKey = randomBytes(32);
    expect((await second.unwrap(await first.wrap(dataKey))).equals(dataKey)).toBe(true);
  });

  it("SEC-6: a bad master key is refused with a message that does not echo it", async () => {
    const path = join(dir, "bad.key");
    await writeFile(path, "c2hvcnQ=\n");
    expect(() => fileKeyProvider(path)).toThrow(/must decode to 32 bytes/);
    try {
      envKeyProvider("not base64 at all!");
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/base64 master key/);
      expect((err as Error).message).not.toContain("not base64 at all");
    }
    const a = envKeyProvider(randomBytes(32).toString("base64"));
    const b = envKeyProvider(randomBytes(32).toString("base64"));
    await expect(b.unwrap(await a.wrap(randomBytes(32)))).rejects.toThrow(/wrong master key/);
  });
});
