import type { AccountDb, CodeChannel, CodePurpose } from "./account-tables.ts";
import { withAccounts } from "./account-tables.ts";

export type StoredCode = {
  id: string;
  purpose: CodePurpose;
  subjectId: string | null;
  channel: CodeChannel;
  targetIndex: Buffer;
  targetSealed: Buffer;
  codeHash: Buffer;
  payloadSealed: Buffer | null;
  createdAt: Date;
  expiresAt: Date;
  attempts: number;
  maxAttempts: number;
  consumedAt: Date | null;
};

const COLUMNS = [
  "id",
  "purpose",
  "subject_id as subjectId",
  "channel",
  "target_index as targetIndex",
  "target_sealed as targetSealed",
  "code_hash as codeHash",
  "payload_sealed as payloadSealed",
  "created_at as createdAt",
  "expires_at as expiresAt",
  "attempts",
  "max_attempts as maxAttempts",
  "consumed_at as consumedAt",
] as const;

/** One-time codes (ACC-1, ACC-3): only a keyed hash of the code; the target and any payload sealed. */
export function createOtpRepo(database: AccountDb) {
  const db = withAccounts(database);
  return {
    async insert(c: Omit<StoredCode, "attempts" | "consumedAt">) {
      await db
        .insertInto("one_time_codes")
        .values({
          id: c.id,
          purpose: c.purpose,
          subject_id: c.subjectId,
          channel: c.channel,
          target_index: c.targetIndex,
          target_sealed: c.targetSealed,
          code_hash: c.codeHash,
          payload_sealed: c.payloadSealed,
          created_at: c.createdAt,
          expires_at: c.expiresAt,
          max_attempts: c.maxAttempts,
        })
        .execute();
    },

    async get(id: string): Promise<StoredCode | undefined> {
      return db.selectFrom("one_time_codes").select(COLUMNS).where("id", "=", id).executeTakeFirst();
    },

    /** Codes sent to this target since `since` (for the resend cool-down and hourly cap). */
    async sentSince(targetIndex: Buffer, since: Date): Promise<Date[]> {
      const rows = await db
        .selectFrom("one_time_codes")
        .select("created_at")
        .where("target_index", "=", targetIndex)
        .where("created_at", ">", since)
        .orderBy("created_at", "desc")
        .execute();
      return rows.map((r) => r.created_at);
    },

    /** Counts a wrong attempt; returns the attempts now recorded. */
    async addAttempt(id: string): Promise<number> {
      const row = await db
        .updateTable("one_time_codes")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .returning("attempts")
        .executeTakeFirst();
      return row?.attempts ?? 0;
    },

    /** Marks the code used; false when it was used already (a concurrent request won). */
    async consume(id: string, now: Date): Promise<boolean> {
      const res = await db
        .updateTable("one_time_codes")
        .set({ consumed_at: now, payload_sealed: null })
        .where("id", "=", id)
        .where("consumed_at", "is", null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    },

    /** Retires earlier unused codes for the same purpose and target, so only the newest works. */
    async retireOthers(purpose: CodePurpose, targetIndex: Buffer, keepId: string, now: Date) {
      await db
        .updateTable("one_time_codes")
        .set({ consumed_at: now, payload_sealed: null })
        .where("purpose", "=", purpose)
        .where("target_index", "=", targetIndex)
        .where("id", "!=", keepId)
        .where("consumed_at", "is", null)
        .execute();
    },
  };
}
export type OtpRepo = ReturnType<typeof createOtpRepo>;
