import type { AccountDb, SessionKind } from "./account-tables.ts";
import { withAccounts } from "./account-tables.ts";

export type StoredSession = {
  id: string;
  subjectId: string;
  kind: SessionKind;
  method: string;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  expiresAt: Date;
  freshUntil: Date | null;
  revokedAt: Date | null;
  deviceHash: Buffer;
  userAgentSummary: string;
};

export type NewSession = Omit<StoredSession, "revokedAt" | "freshUntil"> & { tokenSha256: Buffer };

const COLUMNS = [
  "id",
  "subject_id as subjectId",
  "kind",
  "method",
  "created_at as createdAt",
  "last_seen_at as lastSeenAt",
  "idle_expires_at as idleExpiresAt",
  "expires_at as expiresAt",
  "fresh_until as freshUntil",
  "revoked_at as revokedAt",
  "device_hash as deviceHash",
  "user_agent_summary as userAgentSummary",
] as const;

/** Sessions (web cookie or API bearer); only the SHA-256 of a token is stored. */
export function createSessionRepo(database: AccountDb) {
  const db = withAccounts(database);
  return {
    async insert(s: NewSession) {
      await db
        .insertInto("sessions")
        .values({
          id: s.id,
          subject_id: s.subjectId,
          token_sha256: s.tokenSha256,
          kind: s.kind,
          method: s.method,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          idle_expires_at: s.idleExpiresAt,
          expires_at: s.expiresAt,
          device_hash: s.deviceHash,
          user_agent_summary: s.userAgentSummary,
        })
        .execute();
    },

    async findByTokenHash(tokenSha256: Buffer): Promise<StoredSession | undefined> {
      return db
        .selectFrom("sessions")
        .select(COLUMNS)
        .where("token_sha256", "=", tokenSha256)
        .executeTakeFirst();
    },

    async touch(id: string, now: Date, idleExpiresAt: Date) {
      await db
        .updateTable("sessions")
        .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .execute();
    },

    async setFreshUntil(id: string, freshUntil: Date) {
      await db.updateTable("sessions").set({ fresh_until: freshUntil }).where("id", "=", id).execute();
    },

    /** Live (not revoked, not expired) sessions of a subject, newest first. */
    async listLive(subjectId: string, now: Date): Promise<StoredSession[]> {
      return db
        .selectFrom("sessions")
        .select(COLUMNS)
        .where("subject_id", "=", subjectId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", now)
        .where("idle_expires_at", ">", now)
        .orderBy("created_at", "desc")
        .limit(200)
        .execute();
    },

    /** Revokes one session of the subject; false when it is not theirs or already revoked. */
    async revoke(subjectId: string, id: string, now: Date): Promise<boolean> {
      const res = await db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("subject_id", "=", subjectId)
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    },

    /** Revokes every live session of the subject (optionally keeping one). Returns how many. */
    async revokeAll(subjectId: string, now: Date, exceptId?: string): Promise<number> {
      let q = db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("subject_id", "=", subjectId)
        .where("revoked_at", "is", null);
      if (exceptId) q = q.where("id", "!=", exceptId);
      const res = await q.executeTakeFirst();
      return Number(res.numUpdatedRows);
    },
  };
}
export type SessionRepo = ReturnType<typeof createSessionRepo>;
