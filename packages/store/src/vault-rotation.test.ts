import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.ts";
import { envKeyProvider, type KeyProvider } from "./key-provider.ts";
import { createSubjectFieldRepo } from "./subject-field-repo.ts";
import { createTestDatabase } from "./test-database.ts";
import { createVault } from "./vault.ts";
import { RotationError, rotateMasterKey } from "./vault-rotation.ts";

const newMasterKey = () => envKeyProvider(randomBytes(32).toString("base64"));

type Person = { subjectId: string; email: string; phone: string; name: string };

describe("master-key rotation (SEC-1)", () => {
  let database: Database;
  let oldKey: KeyProvider;
  let newKey: KeyProvider;
  const people: Person[] = [];
  let sealed: Buffer;
  let shredded: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    oldKey = newMasterKey();
    newKey = newMasterKey();
    const vault = createVault({ db: database.db, keyProvider: oldKey });
    const repo = createSubjectFieldRepo(database.db, vault);
    for (let i = 0; i < 7; i++) {
      const p = {
        subjectId: randomUUID(),
        email: `rotate.${i}@example.cn`,
        phone: `1381234${String(1000 + i)}`,
        name: `轮换${i}`,
      };
      people.push(p);
      const base = { subjectId: p.subjectId, category: "contact" };
      await repo.put({ ...base, field: "email", keyGroup: "account", value: p.email, indexAs: "email" });
      await repo.put({ ...base, field: "phone", keyGroup: "account", value: p.phone, indexAs: "phone" });
      await repo.put({ ...base, category: "identity", field: "name", keyGroup: "identity", value: p.name });
    }
    sealed = await vault.sealSystem("sealed.recipient@example.cn");
    shredded = randomUUID();
    await vault.encryptField(shredded, "account", "contact.email", "gone@example.cn");
    await vault.shred(shredded);
  });
  afterAll(async () => {
    await database?.close();
  });

  const masterKeyIds = async () => {
    const subject = await database.db
      .selectFrom("subject_keys")
      .select("master_key_id")
      .where("wrapped_key", "is not", null)
      .execute();
    const system = await database.db.selectFrom("system_keys").select("master_key_id").execute();
    return [...subject, ...system].map((r) => r.master_key_id);
  };

  it("SEC-1: a rotation that crashes midway leaves a mix both keys read, and a second run finishes it", async () => {
    let batches = 0;
    await expect(
      rotateMasterKey(database.db, {
        from: oldKey,
        to: newKey,
        batchSize: 4,
        onBatch: () => {
          batches++;
          if (batches === 2) throw new Error("simulated crash after two batches");
        },
      }),
    ).rejects.toThrow("simulated crash");
    const ids = await masterKeyIds();
    expect(ids.filter((id) => id === newKey.id)).toHaveLength(8);
    expect(ids.filter((id) => id === oldKey.id).length).toBeGreaterThan(0);

    // The mixed state: a vault on the new key that still knows the old one reads everything.
    const mixed = createVault({ db: database.db, keyProvider: newKey, previousKeyProviders: [oldKey] });
    const mixedRepo = createSubjectFieldRepo(database.db, mixed);
    for (const p of people) {
      expect(await mixedRepo.getAll(p.subjectId)).toEqual({
        contact: { email: p.email, phone: p.phone },
        identity: { name: p.name },
      });
    }
    // The new key alone cannot read the rows still under the old one.
    const newOnly = createSubjectFieldRepo(
      database.db,
      createVault({ db: database.db, keyProvider: newKey }),
    );
    const results = await Promise.allSettled(people.map((p) => newOnly.getAll(p.subjectId)));
    expect(results.filter((r) => r.status === "rejected").length).toBeGreaterThan(0);

    const report = await rotateMasterKey(database.db, { from: oldKey, to: newKey, batchSize: 4 });
    expect(report.remaining).toBe(0);
    expect(report.subjectKeys).toBe(14 - 8);
    expect(report.systemKeys).toBe(2); // the sealing key and the blind-index key
    expect(new Set(await masterKeyIds())).toEqual(new Set([newKey.id]));
    // Running it again is a no-op.
    expect(await rotateMasterKey(database.db, { from: oldKey, to: newKey })).toEqual({
      subjectKeys: 0,
      systemKeys: 0,
      skipped: 0,
      remaining: 0,
    });
  });

  it("SEC-1: after rotation, data written before decrypts with the new key alone, and blind indexes still match", async () => {
    const vault = createVault({ db: database.db, keyProvider: newKey });
    const repo = createSubjectFieldRepo(database.db, vault);
    for (const p of people) {
      expect(await repo.get(p.subjectId, "contact", "email")).toBe(p.email);
      expect(await repo.get(p.subjectId, "identity", "name")).toBe(p.name);
      expect(await repo.findSubjectsByBlindIndex("email", "email", p.email.toUpperCase())).toEqual([
        p.subjectId,
      ]);
      expect(await repo.findSubjectsByBlindIndex("phone", "phone", p.phone)).toEqual([p.subjectId]);
    }
    expect(await vault.openSystem(sealed)).toBe("sealed.recipient@example.cn");
    // A shredded subject stays shredded: rotation never brings a destroyed key back.
    await expect(
      vault.decryptField(shredded, "account", "contact.email", Buffer.alloc(40, 1)),
    ).rejects.toMatchObject({ reason: "key_destroyed" });
    const gone = await database.db
      .selectFrom("subject_keys")
      .select(["wrapped_key", "master_key_id"])
      .where("subject_id", "=", shredded)
      .execute();
    expect(gone.map((r) => r.wrapped_key)).toEqual([null]);
  });

  it("SEC-1: after rotation, the old master key alone can no longer unwrap any key", async () => {
    const rows = [
      ...(await database.db
        .selectFrom("subject_keys")
        .select("wrapped_key")
        .where("wrapped_key", "is not", null)
        .execute()),
      ...(await database.db.selectFrom("system_keys").select("wrapped_key").execute()),
    ];
    expect(rows.length).toBe(16);
    for (const row of rows) {
      await expect(oldKey.unwrap(row.wrapped_key as Buffer)).rejects.toThrow(/wrong master key/);
    }
    const oldVault = createVault({ db: database.db, keyProvider: oldKey });
    const oldRepo = createSubjectFieldRepo(database.db, oldVault);
    const [first] = people;
    if (!first) throw new Error("no people");
    await expect(oldRepo.get(first.subjectId, "contact", "email")).rejects.toThrow(/wrong master key/);
    await expect(oldVault.blindIndex("email", first.email)).rejects.toThrow(/wrong master key/);
    await expect(oldVault.openSystem(sealed)).rejects.toThrow(/wrong master key/);
  });

  it("SEC-1: rotation refuses the same key twice and stops, saying which key, on a row the old key cannot open", async () => {
    await expect(rotateMasterKey(database.db, { from: newKey, to: newKey })).rejects.toThrow(/same id/);
    // Rows now under newKey claim (falsely) to be under a third key: the rotation names the row and stops.
    const liar = newMasterKey();
    const other = await createTestDatabase();
    try {
      const v = createVault({ db: other.db, keyProvider: newKey });
      await v.encryptField(randomUUID(), "account", "f", "x");
      await other.db.updateTable("subject_keys").set({ master_key_id: liar.id }).execute();
      await expect(rotateMasterKey(other.db, { from: liar, to: newMasterKey() })).rejects.toThrow(
        RotationError,
      );
      await expect(rotateMasterKey(other.db, { from: liar, to: newMasterKey() })).rejects.toThrow(
        /does not unwrap with it; rotation stopped/,
      );
    } finally {
      await other.close();
    }
  });
});
