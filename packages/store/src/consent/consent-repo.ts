import { type Generated, type Kysely, sql } from "kysely";
import type { DB, Timestamp } from "../db-types.ts";

/** Row types of migrations/0007_consent.sql and 0009_consent_targets.sql. */
export type ConsentTargetKind = "purpose" | "permission" | "cookie" | "policy" | "setting" | "marketing";
export type ConsentEventState = "given" | "refused" | "withdrawn" | "expired" | "invalidated";
export type ConsentMethod = "web" | "app" | "api" | "banner" | "import" | "system" | "sms" | "email";
export type ConsentActor = "self" | "guardian" | "staff" | "system";

export type ConsentEventsTable = {
  id: Generated<number>;
  subject_id: string;
  target_kind: ConsentTargetKind;
  target_id: string;
  state: ConsentEventState;
  notice_version: string;
  purpose_fingerprint: string;
  language: "en" | "zh-CN";
  method: ConsentMethod;
  actor: ConsentActor;
  actor_id: string | null;
  reason: string | null;
  basis: string | null;
  occurred_at: Timestamp;
  prev_hash: Buffer;
  hash: Buffer;
};

export type ConsentStateTable = {
  subject_id: string;
  target_kind: ConsentTargetKind;
  target_id: string;
  state: ConsentEventState;
  notice_version: string;
  fingerprint: string;
  event_id: number;
  updated_at: Timestamp;
};

export type ConsentTables = { consent_events: ConsentEventsTable; consent_state: ConsentStateTable };
export type ConsentDb = Kysely<DB & ConsentTables>;

export function consentDb(db: Kysely<DB>): ConsentDb {
  return db.withTables<ConsentTables>();
}

export type ConsentEventRow = {
  id: number;
  subjectId: string;
  targetKind: ConsentTargetKind;
  targetId: string;
  state: ConsentEventState;
  noticeVersion: string;
  fingerprint: string;
  language: "en" | "zh-CN";
  method: ConsentMethod;
  actor: ConsentActor;
  actorId: string | null;
  reason: string | null;
  basis: string | null;
  occurredAt: Date;
  prevHash: Buffer;
  hash: Buffer;
};

export type ConsentStateRow = {
  subjectId: string;
  targetKind: ConsentTargetKind;
  targetId: string;
  state: ConsentEventState;
  noticeVersion: string;
  fingerprint: string;
  updatedAt: Date;
};

/** A two-part (int4, int4) advisory lock key per subject (chain writers for one subject queue up). */
const SUBJECT_LOCK_NAMESPACE = 424_200_070;

/** A consent event ready to insert: chained (prev_hash, hash), id not yet assigned. */
export type NewConsentEventRow = Omit<ConsentEventRow, "id">;

/** The only code that runs SQL on the consent tables. */
export function createConsentRepo() {
  return {
    /**
     * Serialises writers of these subjects' chains until the transaction ends. The locks are taken
     * in one statement, in ascending key order, so two writers locking overlapping sets of subjects
     * never wait for each other in a cycle. The key is the lower-case subject id, so every spelling
     * of one uuid takes the same lock.
     */
    async lockSubjects(tx: Kysely<DB>, subjectIds: readonly string[]): Promise<void> {
      if (subjectIds.length === 0) return;
      const ids = subjectIds.map((s) => s.toLowerCase());
      await sql`select pg_advisory_xact_lock(${SUBJECT_LOCK_NAMESPACE}::int4, k)
        from (select distinct hashtext(s) as k from unnest(${ids}::text[]) as s order by k) as keys`.execute(
        tx,
      );
    },

    /**
     * The hash of each subject's last event (absent: no event yet), keyed by the lower-case subject
     * id. Read after `lockSubjects`, in a statement of its own, so it sees the commits of the writers
     * it waited for.
     */
    async lastHashes(tx: Kysely<DB>, subjectIds: readonly string[]): Promise<Map<string, Buffer>> {
      const out = new Map<string, Buffer>();
      if (subjectIds.length === 0) return out;
      const result = await sql<{ subject_id: string; hash: Buffer | null }>`
        select s.id::text as subject_id,
               (select e.hash from consent_events e where e.subject_id = s.id order by e.id desc limit 1) as hash
        from unnest(${subjectIds.map((s) => s.toLowerCase())}::uuid[]) as s (id)`.execute(tx);
      for (const r of result.rows) if (r.hash) out.set(r.subject_id.toLowerCase(), r.hash);
      return out;
    },

    /**
     * Inserts chained events and upserts the projection (the last event of each subject and target)
     * in ONE statement, rows passed as one JSON parameter; ids are assigned in row order. With
     * `lock`, the statement first takes the advisory locks of the rows' subjects (like
     * lockSubjects), before it inserts anything: run outside a transaction, the statement is its own
     * transaction (one round trip, one commit), and the unique (subject_id, prev_hash) index refuses
     * it whole if a row's prev_hash is no longer its subject's last hash. Returns `{ id, hash }` of
     * every inserted event.
     */
    async insertEvents(
      db: Kysely<DB>,
      rows: readonly NewConsentEventRow[],
      options: { lock?: boolean } = {},
    ): Promise<{ id: number; hash: Buffer }[]> {
      if (rows.length === 0) return [];
      const json = JSON.stringify(
        rows.map((r) => ({
          subject_id: r.subjectId,
          target_kind: r.targetKind,
          target_id: r.targetId,
          state: r.state,
          notice_version: r.noticeVersion,
          purpose_fingerprint: r.fingerprint,
          language: r.language,
          method: r.method,
          actor: r.actor,
          actor_id: r.actorId,
          reason: r.reason,
          basis: r.basis,
          occurred_at: r.occurredAt.toISOString(),
          prev_hash: r.prevHash.toString("hex"),
          hash: r.hash.toString("hex"),
        })),
      );
      const subjects = options.lock ? [...new Set(rows.map((r) => r.subjectId.toLowerCase()))] : [];
      // A one-time filter (an InitPlan), evaluated before the first row is inserted.
      const locked = options.lock
        ? sql`where (select count(pg_advisory_xact_lock(${SUBJECT_LOCK_NAMESPACE}::int4, k))
            from (select distinct hashtext(s) as k from unnest(${subjects}::text[]) as s order by k) as keys) >= 0`
        : sql``;
      const result = await sql<{ id: number; hash: Buffer }>`
        with inserted as (
          insert into consent_events (subject_id, target_kind, target_id, state, notice_version,
            purpose_fingerprint, language, method, actor, actor_id, reason, basis, occurred_at, prev_hash, hash)
          select subject_id, target_kind, target_id, state, notice_version, purpose_fingerprint, language,
                 method, actor, actor_id, reason, basis, occurred_at, decode(prev_hash, 'hex'), decode(hash, 'hex')
          from json_to_recordset(${json}::json) as r (subject_id uuid, target_kind text, target_id text,
            state text, notice_version text, purpose_fingerprint text, language text, method text, actor text,
            actor_id text, reason text, basis text, occurred_at timestamptz, prev_hash text, hash text)
          ${locked}
          returning id, hash, subject_id, target_kind, target_id, state, notice_version, purpose_fingerprint,
                    occurred_at
        ), projected as (
          insert into consent_state (subject_id, target_kind, target_id, state, notice_version, fingerprint,
                                     event_id, updated_at)
          select distinct on (subject_id, target_kind, target_id)
                 subject_id, target_kind, target_id, state, notice_version, purpose_fingerprint, id, occurred_at
          from inserted
          order by subject_id, target_kind, target_id, id desc
          on conflict (subject_id, target_kind, target_id) do update set
            state = excluded.state, notice_version = excluded.notice_version,
            fingerprint = excluded.fingerprint, event_id = excluded.event_id, updated_at = excluded.updated_at
        )
        select id, hash from inserted`.execute(db);
      return result.rows.map((r) => ({ id: Number(r.id), hash: r.hash }));
    },

    /** The ids of those of `hashes` that are stored (to learn whether an interrupted write committed). */
    async idsByHash(
      db: Kysely<DB>,
      subjectIds: readonly string[],
      hashes: readonly Buffer[],
    ): Promise<Map<string, number>> {
      const rows = await consentDb(db)
        .selectFrom("consent_events")
        .select(["id", "hash"])
        .where("subject_id", "in", [...new Set(subjectIds.map((s) => s.toLowerCase()))])
        .where("hash", "in", [...hashes])
        .execute();
      return new Map(rows.map((r) => [r.hash.toString("hex"), Number(r.id)]));
    },

    /** Subject ids with consent state, in order, after a cursor (the SDK snapshot's pages). */
    async subjectIdsAfter(db: Kysely<DB>, after: string | undefined, limit: number): Promise<string[]> {
      const rows = await sql<{ subject_id: string }>`
        select distinct subject_id from consent_state
        where ${after === undefined ? sql`true` : sql`subject_id > ${after}::uuid`}
        order by subject_id limit ${limit}`.execute(db);
      return rows.rows.map((r) => String(r.subject_id));
    },

    async statesOf(db: Kysely<DB>, subjectIds: readonly string[]): Promise<ConsentStateRow[]> {
      if (subjectIds.length === 0) return [];
      // One array parameter, whatever the count: one statement text (kept prepared, ADR 0016).
      const rows = await consentDb(db)
        .selectFrom("consent_state")
        .selectAll()
        .where(sql<boolean>`subject_id = any(${[...subjectIds]}::uuid[])`)
        .execute();
      return rows.map((r) => ({
        subjectId: r.subject_id,
        targetKind: r.target_kind,
        targetId: r.target_id,
        state: r.state,
        noticeVersion: r.notice_version,
        fingerprint: r.fingerprint,
        updatedAt: r.updated_at,
      }));
    },

    /** Current `given` states of one target whose fingerprint differs from `fingerprint`. */
    async givenWithOtherFingerprint(
      db: Kysely<DB>,
      targetKind: ConsentTargetKind,
      targetId: string,
      fingerprint: string,
    ): Promise<ConsentStateRow[]> {
      const rows = await consentDb(db)
        .selectFrom("consent_state")
        .selectAll()
        .where("target_kind", "=", targetKind)
        .where("target_id", "=", targetId)
        .where("state", "=", "given")
        .where("fingerprint", "<>", fingerprint)
        .execute();
      return rows.map((r) => ({
        subjectId: r.subject_id,
        targetKind: r.target_kind,
        targetId: r.target_id,
        state: r.state,
        noticeVersion: r.notice_version,
        fingerprint: r.fingerprint,
        updatedAt: r.updated_at,
      }));
    },

    /** One subject's events in chain order. */
    async eventsOf(db: Kysely<DB>, subjectId: string): Promise<ConsentEventRow[]> {
      const rows = await consentDb(db)
        .selectFrom("consent_events")
        .selectAll()
        .where("subject_id", "=", subjectId)
        .orderBy("id", "asc")
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        subjectId: r.subject_id,
        targetKind: r.target_kind,
        targetId: r.target_id,
        state: r.state,
        noticeVersion: r.notice_version,
        fingerprint: r.purpose_fingerprint,
        language: r.language,
        method: r.method,
        actor: r.actor,
        actorId: r.actor_id,
        reason: r.reason,
        basis: r.basis,
        occurredAt: r.occurred_at,
        prevHash: r.prev_hash,
        hash: r.hash,
      }));
    },
  };
}
export type ConsentRepo = ReturnType<typeof createConsentRepo>;
