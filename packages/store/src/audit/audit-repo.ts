import type { ChainEvent } from "@custos/core";
import { type Generated, type Kysely, sql } from "kysely";
import type { DB, Jsonb, Timestamp } from "../db-types.ts";

/** Row types of migrations/0002_audit_ledger.sql (and 0014_audit_range_batches.sql). */
export type AuditEventsTable = {
  id: Generated<number>;
  occurred_at: Timestamp;
  actor_type: string;
  actor_id: string;
  action: string;
  subject_id: string | null;
  category: string | null;
  purpose: string | null;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  details: Jsonb<Record<string, unknown>>;
  batch_id: number | null;
};

export type AuditBatchesTable = {
  batch_id: number;
  first_event_id: number;
  last_event_id: number;
  event_count: number;
  prev_hash: Buffer;
  hash: Buffer;
  event_hashes: Buffer;
  sealed_at: Timestamp;
  /** The batch holds every event with an id in [first_event_id, last_event_id] (see 0014). */
  by_range: Generated<boolean>;
};

export type AuditCountsTable = {
  service: string;
  purpose: string;
  category: string;
  minute: Timestamp;
  count: number;
  folded_count: number;
};

export type AuditTables = {
  audit_events: AuditEventsTable;
  audit_batches: AuditBatchesTable;
  audit_counts: AuditCountsTable;
};

/** Any database handle or transaction; the audit tables are added to its type here. */
export type AuditDb = Kysely<DB> | Kysely<DB & AuditTables>;
type Db = Kysely<DB & AuditTables>;

function withAudit(db: AuditDb): Db {
  return (db as Kysely<DB>).withTables<AuditTables>() as unknown as Db;
}

/** The last event id held by a batch sealed by range (0 when there is none). */
const AFTER_RANGE_BATCHES = sql<number>`(select coalesce(max(last_event_id), 0) from audit_batches where by_range)`;

/** An advisory-lock key (arbitrary constant) that serialises sealers on one database. */
const SEAL_LOCK_ID = 4_242_000_100;

export type NewAuditEventRow = {
  occurredAt: Date;
  actorType: string;
  actorId: string;
  action: string;
  subjectId: string | null;
  category: string | null;
  purpose: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
};

/** A stored event in the shape the hash chain reads (see ChainEvent), plus its batch. */
export type StoredAuditEvent = ChainEvent & { batchId: number | null; details: Record<string, unknown> };

export type StoredBatch = {
  batchId: number;
  firstEventId: number;
  lastEventId: number;
  eventCount: number;
  prevHash: Buffer;
  hash: Buffer;
  eventHashes: Buffer;
  sealedAt: Date;
  /** Sealed by id range: its events keep batch_id null (one writer; see 0014). */
  byRange: boolean;
};

export type AuditListFilter = {
  subjectId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  category?: string | undefined;
  outcome?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Return events with id below this one (newest first). */
  beforeId?: number | undefined;
  limit: number;
};

const CHAIN_COLUMNS = [
  "id",
  "occurred_at as occurredAt",
  "actor_type as actorType",
  "actor_id as actorId",
  "action",
  "subject_id as subjectId",
  "category",
  "purpose",
  "outcome",
  "reason",
  "request_id as requestId",
  "details",
  "batch_id as batchId",
] as const;

const BATCH_COLUMNS = [
  "batch_id as batchId",
  "first_event_id as firstEventId",
  "last_event_id as lastEventId",
  "event_count as eventCount",
  "prev_hash as prevHash",
  "hash",
  "event_hashes as eventHashes",
  "sealed_at as sealedAt",
  "by_range as byRange",
] as const;

/** Rows per INSERT statement (one JSON parameter; PGlite copies it whole into WebAssembly memory). */
const INSERT_CHUNK = 1000;

/** The only code that runs SQL on the audit tables. Every function takes `db` or a transaction. */
export const auditRepo = {
  /**
   * Inserts events in order; their ids in the same order. The rows travel as one JSON array read
   * by jsonb_to_recordset rather than as 11 parameters a row: the embedded database parses each
   * parameter separately, and one array costs it about a quarter less per row. Values are the
   * same either way (a test writes quotes, backslashes, braces, NULL and nulls).
   */
  async insertEvents(db: AuditDb, rows: readonly NewAuditEventRow[]): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const values = rows.slice(i, i + INSERT_CHUNK).map((r) => ({
        occurred_at: r.occurredAt,
        actor_type: r.actorType,
        actor_id: r.actorId,
        action: r.action,
        subject_id: r.subjectId,
        category: r.category,
        purpose: r.purpose,
        outcome: r.outcome,
        reason: r.reason,
        request_id: r.requestId,
        details: r.details,
      }));
      const inserted = await sql<{ id: number }>`
        insert into audit_events
          (occurred_at, actor_type, actor_id, action, subject_id, category, purpose, outcome, reason, request_id, details)
        select occurred_at, actor_type, actor_id, action, subject_id, category, purpose, outcome, reason, request_id, details
        from rows from (jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as (
          occurred_at timestamptz, actor_type text, actor_id text, action text, subject_id uuid, category text,
          purpose text, outcome text, reason text, request_id text, details jsonb
        )) with ordinality as r(occurred_at, actor_type, actor_id, action, subject_id, category, purpose, outcome,
          reason, request_id, details, n)
        order by n
        returning id`.execute(withAudit(db));
      for (const row of inserted.rows) ids.push(row.id);
    }
    return ids;
  },

  /** Adds `count` to the (service, purpose, category, minute) row, creating it when absent. */
  async addCount(
    db: AuditDb,
    row: { service: string; purpose: string; category: string; minute: Date; count: number },
  ): Promise<void> {
    await withAudit(db)
      .insertInto("audit_counts")
      .values({ ...row, folded_count: 0 })
      .onConflict((oc) =>
        oc.columns(["service", "purpose", "category", "minute"]).doUpdateSet({
          count: sql<number>`audit_counts.count + excluded.count`,
        }),
      )
      .execute();
  },

  /** Count rows of closed minutes (before `before`) with unfolded decisions, locked for this transaction. */
  async lockUnfoldedCounts(db: AuditDb, before: Date, limit: number) {
    return withAudit(db)
      .selectFrom("audit_counts")
      .select(["service", "purpose", "category", "minute", "count", "folded_count as foldedCount"])
      .where(sql<boolean>`count > folded_count`)
      .where("minute", "<", before)
      .orderBy("minute")
      .orderBy("service")
      .orderBy("purpose")
      .orderBy("category")
      .limit(limit)
      .forUpdate()
      .execute();
  },

  async markFolded(
    db: AuditDb,
    key: { service: string; purpose: string; category: string; minute: Date },
    foldedCount: number,
  ) {
    await withAudit(db)
      .updateTable("audit_counts")
      .set({ folded_count: foldedCount })
      .where("service", "=", key.service)
      .where("purpose", "=", key.purpose)
      .where("category", "=", key.category)
      .where("minute", "=", key.minute)
      .execute();
  },

  async countsBetween(db: AuditDb, from: Date, to: Date) {
    return withAudit(db)
      .selectFrom("audit_counts")
      .select(["service", "purpose", "category", "minute", "count", "folded_count as foldedCount"])
      .where("minute", ">=", from)
      .where("minute", "<", to)
      .orderBy("minute")
      .execute();
  },

  /** Takes the sealer lock until the end of the current transaction (no-op cost on PGlite). */
  async lockSealer(trx: AuditDb): Promise<void> {
    await sql`select pg_advisory_xact_lock(${SEAL_LOCK_ID})`.execute(withAudit(trx));
  },

  async lastBatch(db: AuditDb): Promise<{ batchId: number; hash: Buffer; lastEventId: number } | undefined> {
    return withAudit(db)
      .selectFrom("audit_batches")
      .select(["batch_id as batchId", "hash", "last_event_id as lastEventId"])
      .orderBy("batch_id", "desc")
      .limit(1)
      .executeTakeFirst();
  },

  /** The oldest unsealed events (for stamping; sealing by range reads unsealedIdsAfter). */
  async unsealedEvents(db: AuditDb, limit: number): Promise<StoredAuditEvent[]> {
    const query = withAudit(db)
      .selectFrom("audit_events")
      .select(CHAIN_COLUMNS)
      .where("batch_id", "is", null)
      // Never an event a batch sealed by range already holds.
      .where("id", ">", AFTER_RANGE_BATCHES);
    return (await query.orderBy("id").limit(limit).execute()) as StoredAuditEvent[];
  },

  /** The ids of the oldest unsealed events after `afterId` (sealing by range). */
  async unsealedIdsAfter(db: AuditDb, limit: number, afterId: number): Promise<number[]> {
    const rows = await withAudit(db)
      .selectFrom("audit_events")
      .select("id")
      .where("batch_id", "is", null)
      .where("id", ">", afterId)
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },

  /** The events with these ids, in id order. */
  async eventsByIds(db: AuditDb, ids: readonly number[]): Promise<StoredAuditEvent[]> {
    if (ids.length === 0) return [];
    return (await withAudit(db)
      .selectFrom("audit_events")
      .select(CHAIN_COLUMNS)
      .where("id", "in", [...ids])
      .orderBy("id")
      .execute()) as StoredAuditEvent[];
  },

  async insertBatch(db: AuditDb, batch: Omit<StoredBatch, "sealedAt"> & { sealedAt: Date }): Promise<void> {
    await withAudit(db)
      .insertInto("audit_batches")
      .values({
        batch_id: batch.batchId,
        first_event_id: batch.firstEventId,
        last_event_id: batch.lastEventId,
        event_count: batch.eventCount,
        prev_hash: batch.prevHash,
        hash: batch.hash,
        event_hashes: batch.eventHashes,
        sealed_at: batch.sealedAt,
        by_range: batch.byRange,
      })
      .execute();
  },

  /** Stamps batch_id on exactly these unsealed events; returns how many rows it stamped. */
  async stampBatch(db: AuditDb, batchId: number, ids: readonly number[]): Promise<number> {
    const result = await withAudit(db)
      .updateTable("audit_events")
      .set({ batch_id: batchId })
      .where("batch_id", "is", null)
      .where(sql<boolean>`id = any(${`{${ids.join(",")}}`}::int8[])`)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  async maxBatchId(db: AuditDb): Promise<number> {
    const row = await withAudit(db)
      .selectFrom("audit_batches")
      .select(sql<number | null>`max(batch_id)`.as("max"))
      .executeTakeFirst();
    return row?.max ?? 0;
  },

  /** Batches after `afterBatchId` up to `maxBatchId`, in order (keyset pagination). */
  async batchesAfter(
    db: AuditDb,
    afterBatchId: number,
    maxBatchId: number,
    limit: number,
  ): Promise<StoredBatch[]> {
    return (await withAudit(db)
      .selectFrom("audit_batches")
      .select(BATCH_COLUMNS)
      .where("batch_id", ">", afterBatchId)
      .where("batch_id", "<=", maxBatchId)
      .orderBy("batch_id")
      .limit(limit)
      .execute()) as StoredBatch[];
  },

  /** Sealed events after the key (batchId, id) with batch_id ≤ maxBatchId, in chain order. */
  async sealedEventsAfter(
    db: AuditDb,
    after: { batchId: number; id: number },
    maxBatchId: number,
    limit: number,
  ): Promise<StoredAuditEvent[]> {
    return (await withAudit(db)
      .selectFrom("audit_events")
      .select(CHAIN_COLUMNS)
      .where("batch_id", "is not", null)
      .where(sql<boolean>`(batch_id, id) > (${after.batchId}::int8, ${after.id}::int8)`)
      .where("batch_id", "<=", maxBatchId)
      .orderBy("batch_id")
      .orderBy("id")
      .limit(limit)
      .execute()) as StoredAuditEvent[];
  },

  /** The events of a batch sealed by range after `afterId`, in id order (they keep batch_id null). */
  async rangeEventsAfter(
    db: AuditDb,
    range: { firstEventId: number; lastEventId: number },
    afterId: number,
    limit: number,
  ): Promise<StoredAuditEvent[]> {
    return (await withAudit(db)
      .selectFrom("audit_events")
      .select(CHAIN_COLUMNS)
      .where("batch_id", "is", null)
      .where("id", ">=", range.firstEventId)
      .where("id", ">", afterId)
      .where("id", "<=", range.lastEventId)
      .orderBy("id")
      .limit(limit)
      .execute()) as StoredAuditEvent[];
  },

  /** The batches sealed by range that hold any id in [fromId, toId], by batch id. */
  async rangeBatchesCovering(
    db: AuditDb,
    fromId: number,
    toId: number,
  ): Promise<{ batchId: number; firstEventId: number; lastEventId: number }[]> {
    return withAudit(db)
      .selectFrom("audit_batches")
      .select(["batch_id as batchId", "first_event_id as firstEventId", "last_event_id as lastEventId"])
      .where("by_range", "=", true)
      .where("last_event_id", ">=", fromId)
      .where("first_event_id", "<=", toId)
      .orderBy("last_event_id")
      .execute();
  },

  /**
   * The first sealed event after batch `afterBatchId` whose batch does not exist. (A batch and the
   * stamps on its events commit in one transaction, so a missing batch was deleted.)
   */
  async firstOrphanEvent(
    db: AuditDb,
    afterBatchId: number,
  ): Promise<{ id: number; batchId: number } | undefined> {
    const row = await withAudit(db)
      .selectFrom("audit_events as e")
      .select(["e.id", "e.batch_id as batchId"])
      .where("e.batch_id", ">", afterBatchId)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("audit_batches as b").select("b.batch_id").whereRef("b.batch_id", "=", "e.batch_id"),
          ),
        ),
      )
      .orderBy("e.batch_id")
      .orderBy("e.id")
      .limit(1)
      .executeTakeFirst();
    return row && row.batchId !== null ? { id: row.id, batchId: row.batchId } : undefined;
  },

  /** How many events are not sealed yet, and when the oldest of them happened. */
  async unsealedSummary(db: AuditDb): Promise<{ count: number; oldest: Date | null }> {
    const row = await withAudit(db)
      .selectFrom("audit_events")
      .select([sql<number>`count(*)`.as("count"), sql<Date | null>`min(occurred_at)`.as("oldest")])
      .where("batch_id", "is", null)
      // Events of batches sealed by range keep batch_id null: only those after the last are unsealed.
      .where("id", ">", AFTER_RANGE_BATCHES)
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), oldest: row.oldest === null ? null : new Date(row.oldest) };
  },

  async list(db: AuditDb, filter: AuditListFilter): Promise<StoredAuditEvent[]> {
    let query = withAudit(db).selectFrom("audit_events").select(CHAIN_COLUMNS);
    if (filter.subjectId !== undefined) query = query.where("subject_id", "=", filter.subjectId);
    if (filter.actorId !== undefined) query = query.where("actor_id", "=", filter.actorId);
    if (filter.action !== undefined) query = query.where("action", "=", filter.action);
    if (filter.category !== undefined) query = query.where("category", "=", filter.category);
    if (filter.outcome !== undefined) query = query.where("outcome", "=", filter.outcome);
    if (filter.from !== undefined) query = query.where("occurred_at", ">=", filter.from);
    if (filter.to !== undefined) query = query.where("occurred_at", "<", filter.to);
    if (filter.beforeId !== undefined) query = query.where("id", "<", filter.beforeId);
    return (await query.orderBy("id", "desc").limit(filter.limit).execute()) as StoredAuditEvent[];
  },
};
