import type { Kysely } from "kysely";
import type { DB } from "./db-types.ts";
import type { KeyProvider } from "./key-provider.ts";

/**
 * Master-key rotation (SEC-1): re-wraps every subject data key, every system key and the
 * blind-index key (a system key) from one master key to another. Field ciphertext and blind
 * indexes are untouched: the data keys themselves do not change, only their wrapping.
 *
 * Resumable: rows move in batches, each batch committed in its own transaction, and a row records
 * which master key wrapped it (`master_key_id`). A crash midway leaves some rows under `from` and
 * the rest under `to`; a vault configured with `keyProvider: to, previousKeyProviders: [from]`
 * reads both, and running the rotation again finishes the rest.
 *
 * Unwrapping and wrapping (a KMS call for a remote provider) happen outside the transaction; the
 * update is a compare-and-swap on the old wrapped key, so a key shredded or rotated by someone
 * else meanwhile is left as it is: a shred during rotation is never undone.
 */
export type RotateMasterKeyOptions = {
  from: KeyProvider;
  to: KeyProvider;
  /** Rows per transaction (default 200). */
  batchSize?: number;
  /** Called after each committed batch (progress, or a test's simulated crash). */
  onBatch?: (progress: RotationProgress) => void | Promise<void>;
};

export type RotationProgress = {
  table: "subject_keys" | "system_keys";
  rewrapped: number;
};

export type RotationReport = {
  subjectKeys: number;
  systemKeys: number;
  /** Rows changed by someone else between read and write (shredded meanwhile): left alone. */
  skipped: number;
  /** Live rows still wrapped by `from` afterwards (0 when the rotation is complete). */
  remaining: number;
};

export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RotationError";
  }
}

export async function rotateMasterKey(
  db: Kysely<DB>,
  options: RotateMasterKeyOptions,
): Promise<RotationReport> {
  const { from, to } = options;
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RotationError("batchSize must be a positive integer");
  if (from.id === to.id)
    throw new RotationError(
      `the new master key has the same id as the old one (${from.id}); give a different key`,
    );
  const report: RotationReport = { subjectKeys: 0, systemKeys: 0, skipped: 0, remaining: 0 };

  const rewrap = async (wrapped: Buffer, where: string): Promise<Buffer> => {
    let key: Buffer;
    try {
      key = await from.unwrap(wrapped);
    } catch {
      throw new RotationError(
        `${where} is marked as wrapped by ${from.id} but does not unwrap with it; rotation stopped (rows done so far stay rotated, run it again after repair)`,
      );
    }
    try {
      return await to.wrap(key);
    } finally {
      key.fill(0);
    }
  };

  // Subject data keys, in key order (keyset pagination: progress even when rows are skipped).
  let after: { subjectId: string; group: string } | undefined;
  for (;;) {
    let q = db
      .selectFrom("subject_keys")
      .select(["subject_id", "key_group", "wrapped_key"])
      .where("master_key_id", "=", from.id)
      .where("wrapped_key", "is not", null)
      .orderBy("subject_id")
      .orderBy("key_group")
      .limit(batchSize);
    if (after) {
      const a = after;
      q = q.where((eb) =>
        eb.or([
          eb("subject_id", ">", a.subjectId),
          eb.and([eb("subject_id", "=", a.subjectId), eb("key_group", ">", a.group)]),
        ]),
      );
    }
    const rows = await q.execute();
    if (rows.length === 0) break;
    const updates: { subjectId: string; group: string; old: Buffer; next: Buffer }[] = [];
    for (const row of rows) {
      if (!row.wrapped_key) continue;
      updates.push({
        subjectId: row.subject_id,
        group: row.key_group,
        old: row.wrapped_key,
        next: await rewrap(row.wrapped_key, `the data key of subject ${row.subject_id} (${row.key_group})`),
      });
    }
    const done = await db.transaction().execute(async (trx) => {
      let n = 0;
      for (const u of updates) {
        const res = await trx
          .updateTable("subject_keys")
          .set({ wrapped_key: u.next, master_key_id: to.id })
          .where("subject_id", "=", u.subjectId)
          .where("key_group", "=", u.group)
          .where("master_key_id", "=", from.id)
          .where("wrapped_key", "=", u.old)
          .executeTakeFirst();
        n += Number(res.numUpdatedRows);
      }
      return n;
    });
    report.subjectKeys += done;
    report.skipped += updates.length - done;
    const last = rows[rows.length - 1];
    if (last) after = { subjectId: last.subject_id, group: last.key_group };
    await options.onBatch?.({ table: "subject_keys", rewrapped: done });
  }

  // System keys (sealing key, blind-index key, …).
  let afterId: string | undefined;
  for (;;) {
    let q = db
      .selectFrom("system_keys")
      .select(["key_id", "wrapped_key"])
      .where("master_key_id", "=", from.id)
      .orderBy("key_id")
      .limit(batchSize);
    if (afterId !== undefined) q = q.where("key_id", ">", afterId);
    const rows = await q.execute();
    if (rows.length === 0) break;
    const updates: { keyId: string; old: Buffer; next: Buffer }[] = [];
    for (const row of rows)
      updates.push({
        keyId: row.key_id,
        old: row.wrapped_key,
        next: await rewrap(row.wrapped_key, `system key ${row.key_id}`),
      });
    const done = await db.transaction().execute(async (trx) => {
      let n = 0;
      for (const u of updates) {
        const res = await trx
          .updateTable("system_keys")
          .set({ wrapped_key: u.next, master_key_id: to.id })
          .where("key_id", "=", u.keyId)
          .where("master_key_id", "=", from.id)
          .where("wrapped_key", "=", u.old)
          .executeTakeFirst();
        n += Number(res.numUpdatedRows);
      }
      return n;
    });
    report.systemKeys += done;
    report.skipped += updates.length - done;
    afterId = rows[rows.length - 1]?.key_id;
    await options.onBatch?.({ table: "system_keys", rewrapped: done });
  }

  const left = await db
    .selectFrom("subject_keys")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("master_key_id", "=", from.id)
    .where("wrapped_key", "is not", null)
    .executeTakeFirstOrThrow();
  const leftSystem = await db
    .selectFrom("system_keys")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("master_key_id", "=", from.id)
    .executeTakeFirstOrThrow();
  report.remaining = Number(left.n) + Number(leftSystem.n);
  return report;
}
