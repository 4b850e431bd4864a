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

/** The only code that runs SQL on the consent tables. */
export function createConsentRepo() {
  return {
    /** Serialises writers of one subject's chain until the transaction ends. */
    async lockSubject(tx: Kysely<DB>, subjectId: string): Promise<void> {
      await sql`select pg_advisory_xact_lock(${SUBJECT_LOCK_NAMESPACE}::int4, hashtext(${subjectId}))`.execute(
        tx,
      );
    },

    async lastHash(tx: Kysely<DB>, subjectId: string): Promise<Buffer | undefined> {
      const row = await consentDb(tx)
        .selectFrom("consent_events")
        .select("hash")
        .where("subject_id", "=", subjectId)
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      return row?.hash;
    },

    async insertEvent(tx: Kysely<DB>, row: Omit<ConsentEventRow, "id">): Promise<number> {
      const inserted = await consentDb(tx)
        .insertInto("consent_events")
        .values({
          subject_id: row.subjectId,
          target_kind: row.targetKind,
          target_id: row.targetId,
          state: row.state,
          notice_version: row.noticeVersion,
          purpose_fingerprint: row.fingerprint,
          language: row.language,
          method: row.method,
          actor: row.actor,
          actor_id: row.actorId,
          reason: row.reason,
          basis: row.basis,
          occurred_at: row.occurredAt,
          prev_hash: row.prevHash,
          hash: row.hash,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      return Number(inserted.id);
    },

    async upsertState(tx: Kysely<DB>, row: ConsentStateRow & { eventId: number }): Promise<void> {
      await consentDb(tx)
        .insertInto("consent_state")
        .values({
          subject_id: row.subjectId,
          target_kind: row.targetKind,
          target_id: row.targetId,
          state: row.state,
          notice_version: row.noticeVersion,
          fingerprint: row.fingerprint,
          event_id: row.eventId,
          updated_at: row.updatedAt,
        })
        .onConflict((oc) =>
          oc.columns(["subject_id", "target_kind", "target_id"]).doUpdateSet({
            state: row.state,
            notice_version: row.noticeVersion,
            fingerprint: row.fingerprint,
            event_id: row.eventId,
            updated_at: row.updatedAt,
          }),
        )
        .execute();
    },

    async statesOf(db: Kysely<DB>, subjectIds: readonly string[]): Promise<ConsentStateRow[]> {
      if (subjectIds.length === 0) return [];
      const rows = await consentDb(db)
        .selectFrom("consent_state")
        .selectAll()
        .where("subject_id", "in", [...subjectIds])
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
