import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { DB } from "./db-types.ts";
import type { KeyProvider } from "./key-provider.ts";
import type { ShredLog } from "./vault-shred-log.ts";

/**
 * The vault (SEC-1): per-subject data keys, one per key group, wrapped by the master key;
 * fields encrypted with AES-256-GCM bound to subject, key group and field; keyed blind indexes for
 * equality lookups; crypto-shredding by destroying a key.
 *
 * Field blob: [version 1][iv 12][tag 16][ciphertext]. Associated data:
 * "custos:field:v1|<subjectId>|<group>|<fieldRef>", so a blob copied to another subject or field fails.
 * System blob (PI with no subject yet): [version 1][key id length][key id][iv 12][tag 16][ciphertext].
 */

export type VaultErrorReason = "key_destroyed" | "tampered" | "bad_format";

/** Decryption refused. The message never contains personal information. */
export class VaultError extends Error {
  readonly reason: VaultErrorReason;
  constructor(reason: VaultErrorReason, message: string) {
    super(message);
    this.name = "VaultError";
    this.reason = reason;
  }
}

export type BlindIndexKind = "email" | "phone" | "id_number" | (string & {});

export type Vault = {
  encryptField(subjectId: string, group: string, fieldRef: string, plaintext: string): Promise<Buffer>;
  /**
   * Fast path for hot loops: the same blob as `encryptField`, synchronously, when the subject's
   * key is already cached (after any encrypt or decrypt for it); undefined on a cache miss, when
   * the caller falls back to `encryptField`.
   */
  encryptFieldCached(
    subjectId: string,
    group: string,
    fieldRef: string,
    plaintext: string,
  ): Buffer | undefined;
  decryptField(subjectId: string, group: string, fieldRef: string, blob: Buffer): Promise<string>;
  blindIndex(kind: BlindIndexKind, value: string): Promise<Buffer>;
  sealSystem(plaintext: string): Promise<Buffer>;
  openSystem(sealed: Buffer): Promise<string>;
  /** Destroys the subject's keys (all groups, or the given ones). Returns the number of keys destroyed. */
  shred(subjectId: string, groups?: readonly string[]): Promise<number>;
  /**
   * The same vault running its key queries on `trx` (use it inside a transaction: on PGlite a
   * query on the outer `db` would wait for the transaction). Keys it creates are not cached until
   * read again outside the transaction, so a rollback cannot leave a phantom key in the cache.
   */
  withTransaction(trx: Kysely<DB>): Vault;
};

export type VaultOptions = {
  db: Kysely<DB>;
  /** The current master key: new keys are wrapped with it. */
  keyProvider: KeyProvider;
  /**
   * Earlier master keys, still able to unwrap rows they wrapped (chosen by the row's
   * `master_key_id`) while `rotateMasterKey` moves rows to the current key.
   */
  previousKeyProviders?: readonly KeyProvider[];
  /**
   * The key-destruction log kept outside the backed-up database (see docs/adr/0005-vault.md):
   * every shred is appended here first, and `applyShredLog` replays it after a restore.
   */
  shredLog?: ShredLog;
  /** Bound on cached unwrapped data keys (LRU). Default 1000. */
  cacheSize?: number;
  /** How long a cached data key is trusted, so a shred in another process takes effect. Default 60 s. */
  cacheTtlMs?: number;
  now?: () => number;
};

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SYSTEM_KEY_ID = "system-1";
const BLIND_INDEX_KEY_ID = "blind-index-1";
const MAX_PLAINTEXT_BYTES = 64 * 1024;

class LruCache<V> {
  readonly #map = new Map<string, { value: V; expires: number }>();
  constructor(
    readonly max: number,
    readonly ttlMs: number,
    readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    this.#map.delete(key);
    if (hit.expires <= this.now()) return undefined;
    this.#map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  deletePrefix(prefix: string): void {
    for (const key of [...this.#map.keys()]) if (key.startsWith(prefix)) this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}

function aesGcmEncrypt(
  key: Buffer,
  plaintext: Buffer,
  aad: Buffer,
): { iv: Buffer; tag: Buffer; body: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), body };
}

function aesGcmDecrypt(key: Buffer, iv: Buffer, tag: Buffer, body: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new VaultError(
      "tampered",
      "encrypted data failed its integrity check (altered, or for another subject or field)",
    );
  }
}

function fieldAad(subjectId: string, group: string, fieldRef: string): Buffer {
  return Buffer.from(`custos:field:v1|${subjectId}|${group}|${fieldRef}`, "utf8");
}

function checkPlaintext(plaintext: string): Buffer {
  if (typeof plaintext !== "string") throw new TypeError("the vault encrypts strings");
  const bytes = Buffer.from(plaintext, "utf8");
  if (bytes.length > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(`a field may hold at most ${MAX_PLAINTEXT_BYTES} bytes`);
  }
  return bytes;
}

/** Normalises a value before blind indexing so equal inputs index equally. */
export function normaliseForIndex(kind: BlindIndexKind, value: string): string {
  const v = value.normalize("NFKC").trim();
  switch (kind) {
    case "email":
      return v.toLowerCase();
    case "phone":
      return v.replace(/\D/g, "");
    case "id_number":
      return v.replace(/\s/g, "").toUpperCase();
    default:
      return v;
  }
}

type Shared = {
  keyProvider: KeyProvider;
  unwrap(masterKeyId: string, wrapped: Buffer): Promise<Buffer>;
  shredLog: ShredLog | undefined;
  now: () => number;
  dataKeys: LruCache<Buffer>;
  systemKeys: Map<string, Buffer>;
};

/**
 * Unwraps with the provider named by the row's `master_key_id`; a row wrapped by a key that is not
 * configured is tried with the current key, which fails with "wrong master key".
 */
export function unwrapperFor(
  current: KeyProvider,
  previous: readonly KeyProvider[] = [],
): (masterKeyId: string, wrapped: Buffer) => Promise<Buffer> {
  const byId = new Map<string, KeyProvider>();
  for (const p of previous) byId.set(p.id, p);
  byId.set(current.id, current);
  return (masterKeyId, wrapped) => (byId.get(masterKeyId) ?? current).unwrap(wrapped);
}

export function createVault(options: VaultOptions): Vault {
  const now = options.now ?? Date.now;
  const shared: Shared = {
    keyProvider: options.keyProvider,
    unwrap: unwrapperFor(options.keyProvider, options.previousKeyProviders),
    shredLog: options.shredLog,
    now,
    dataKeys: new LruCache<Buffer>(options.cacheSize ?? 1000, options.cacheTtlMs ?? 60_000, now),
    systemKeys: new Map(),
  };
  return bind(shared, options.db, false);
}

function bind(shared: Shared, db: Kysely<DB>, inTransaction: boolean): Vault {
  const { keyProvider, unwrap, shredLog, dataKeys, systemKeys } = shared;
  const cacheKey = (subjectId: string, group: string) => `${subjectId}\u0000${group}`;

  async function readDataKey(subjectId: string, group: string) {
    return db
      .selectFrom("subject_keys")
      .select(["wrapped_key", "destroyed_at", "master_key_id"])
      .where("subject_id", "=", subjectId)
      .where("key_group", "=", group)
      .executeTakeFirst();
  }

  async function dataKey(subjectId: string, group: string, create: boolean): Promise<Buffer> {
    const ck = cacheKey(subjectId, group);
    const cached = dataKeys.get(ck);
    if (cached) return cached;
    let row = await readDataKey(subjectId, group);
    if (!row && create) {
      const fresh = randomBytes(32);
      await db
        .insertInto("subject_keys")
        .values({
          subject_id: subjectId,
          key_group: group,
          wrapped_key: await keyProvider.wrap(fresh),
          master_key_id: keyProvider.id,
        })
        .onConflict((oc) => oc.columns(["subject_id", "key_group"]).doNothing())
        .execute();
      // Read back: a concurrent writer may have won the insert.
      row = await readDataKey(subjectId, group);
    }
    if (!row || row.destroyed_at || !row.wrapped_key) {
      throw new VaultError(
        "key_destroyed",
        "the data key for this subject and key group does not exist or was destroyed",
      );
    }
    const key = await unwrap(row.master_key_id, row.wrapped_key);
    if (!inTransaction) dataKeys.set(ck, key);
    return key;
  }

  async function systemKey(keyId: string, create: boolean): Promise<Buffer> {
    const cached = systemKeys.get(keyId);
    if (cached) return cached;
    const read = () =>
      db
        .selectFrom("system_keys")
        .select(["wrapped_key", "master_key_id"])
        .where("key_id", "=", keyId)
        .executeTakeFirst();
    let row = await read();
    if (!row && create) {
      await db
        .insertInto("system_keys")
        .values({
          key_id: keyId,
          wrapped_key: await keyProvider.wrap(randomBytes(32)),
          master_key_id: keyProvider.id,
        })
        .onConflict((oc) => oc.column("key_id").doNothing())
        .execute();
      row = await read();
    }
    if (!row) throw new VaultError("key_destroyed", `system key ${keyId} does not exist`);
    const key = await unwrap(row.master_key_id, row.wrapped_key);
    if (!inTransaction) systemKeys.set(keyId, key);
    return key;
  }

  const sealField = (key: Buffer, subjectId: string, group: string, fieldRef: string, bytes: Buffer) => {
    const { iv, tag, body } = aesGcmEncrypt(key, bytes, fieldAad(subjectId, group, fieldRef));
    return Buffer.concat([Buffer.from([VERSION]), iv, tag, body]);
  };

  const vault: Vault = {
    async encryptField(subjectId, group, fieldRef, plaintext) {
      const bytes = checkPlaintext(plaintext);
      const key = await dataKey(subjectId, group, true);
      return sealField(key, subjectId, group, fieldRef, bytes);
    },

    encryptFieldCached(subjectId, group, fieldRef, plaintext) {
      const bytes = checkPlaintext(plaintext);
      const key = dataKeys.get(cacheKey(subjectId, group));
      return key ? sealField(key, subjectId, group, fieldRef, bytes) : undefined;
    },

    async decryptField(subjectId, group, fieldRef, blob) {
      if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== VERSION) {
        throw new VaultError("bad_format", "encrypted field has an unknown format version");
      }
      const key = await dataKey(subjectId, group, false);
      const iv = blob.subarray(1, 1 + IV_BYTES);
      const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const body = blob.subarray(1 + IV_BYTES + TAG_BYTES);
      return aesGcmDecrypt(key, iv, tag, body, fieldAad(subjectId, group, fieldRef)).toString("utf8");
    },

    async blindIndex(kind, value) {
      // The index root key is a random key stored wrapped (so it survives master-key rotation);
      // each kind gets its own HKDF subkey, so an email and a phone never share an index value.
      const root = await systemKey(BLIND_INDEX_KEY_ID, true);
      const subkey = Buffer.from(
        hkdfSync("sha256", root, Buffer.alloc(0), `custos:blind-index:v1:${kind}`, 32),
      );
      return createHmac("sha256", subkey).update(normaliseForIndex(kind, value), "utf8").digest();
    },

    async sealSystem(plaintext) {
      const bytes = checkPlaintext(plaintext);
      const key = await systemKey(SYSTEM_KEY_ID, true);
      const id = Buffer.from(SYSTEM_KEY_ID, "utf8");
      const aad = Buffer.from(`custos:system:v1|${SYSTEM_KEY_ID}`, "utf8");
      const { iv, tag, body } = aesGcmEncrypt(key, bytes, aad);
      return Buffer.concat([Buffer.from([VERSION, id.length]), id, iv, tag, body]);
    },

    async openSystem(sealed) {
      if (sealed.length < 2 || sealed[0] !== VERSION) {
        throw new VaultError("bad_format", "sealed data has an unknown format version");
      }
      const idLength = sealed[1] ?? 0;
      const start = 2 + idLength;
      if (sealed.length < start + IV_BYTES + TAG_BYTES)
        throw new VaultError("bad_format", "sealed data is truncated");
      const keyId = sealed.subarray(2, start).toString("utf8");
      const key = await systemKey(keyId, false);
      const iv = sealed.subarray(start, start + IV_BYTES);
      const tag = sealed.subarray(start + IV_BYTES, start + IV_BYTES + TAG_BYTES);
      const body = sealed.subarray(start + IV_BYTES + TAG_BYTES);
      const aad = Buffer.from(`custos:system:v1|${keyId}`, "utf8");
      return aesGcmDecrypt(key, iv, tag, body, aad).toString("utf8");
    },

    async shred(subjectId, groups) {
      if (groups && groups.length === 0) return 0;
      const destroyedAt = new Date(shared.now());
      // The tombstone goes to the log (outside the backed-up database) before the keys are
      // destroyed: a crash in between leaves a tombstone whose replay finishes the shred.
      await shredLog?.append({
        subjectId,
        groups: groups ? [...groups] : null,
        at: destroyedAt.toISOString(),
      });
      const destroyed = await destroySubjectKeys(db, subjectId, groups ?? null, destroyedAt);
      for (const group of destroyed) dataKeys.delete(cacheKey(subjectId, group));
      // Also evict keys another process already destroyed.
      if (groups) for (const g of groups) dataKeys.delete(cacheKey(subjectId, g));
      else dataKeys.deletePrefix(cacheKey(subjectId, ""));
      return destroyed.length;
    },

    withTransaction(trx) {
      return bind(shared, trx, true);
    },
  };
  return vault;
}

/**
 * Destroys a subject's data keys (all groups when `groups` is null) and clears the blind indexes of
 * the fields they protected: an index of a shredded email would still confirm that the address
 * was ours. Returns the key groups destroyed now (already destroyed ones are not counted).
 */
export async function destroySubjectKeys(
  db: Kysely<DB>,
  subjectId: string,
  groups: readonly string[] | null,
  destroyedAt: Date,
): Promise<string[]> {
  if (groups && groups.length === 0) return [];
  if (!db.isTransaction)
    return db.transaction().execute((trx) => destroySubjectKeys(trx, subjectId, groups, destroyedAt));
  let keys = db
    .updateTable("subject_keys")
    .set({ wrapped_key: null, destroyed_at: destroyedAt })
    .where("subject_id", "=", subjectId)
    .where("destroyed_at", "is", null);
  let indexes = db
    .updateTable("subject_fields")
    .set({ blind_index: null })
    .where("subject_id", "=", subjectId)
    .where("blind_index", "is not", null);
  if (groups) {
    keys = keys.where("key_group", "in", groups);
    indexes = indexes.where("key_group", "in", groups);
  }
  const rows = await keys.returning("key_group").execute();
  await indexes.execute();
  return rows.map((r) => r.key_group);
}
