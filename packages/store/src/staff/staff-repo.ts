import type { ColumnType, Generated, Kysely, Selectable } from "kysely";
import type { CreatedAt, DB, Jsonb, NullableTimestamp, Timestamp } from "../db-types.ts";

/** Row types of migrations/0005_staff.sql. */
export type StaffTable = {
  id: string;
  email_index: Buffer;
  email_sealed: Buffer;
  name_sealed: Buffer;
  role: string;
  status: Generated<string>;
  password_hash: string;
  totp_secret_sealed: Buffer | null;
  mfa_enrolled_at: NullableTimestamp;
  totp_last_step: number | null;
  failed_attempts: Generated<number>;
  locked_until: NullableTimestamp;
  created_by: string | null;
  created_at: CreatedAt;
  /** migrations/0012: signed in with a one-time password; must choose a new one first. */
  must_change_password: Generated<boolean>;
};

export type StaffSessionsTable = {
  token_hash: Buffer;
  staff_id: string;
  stage: "mfa" | "active";
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
};

export type StaffTrainingTable = {
  id: Generated<number>;
  staff_id: string;
  kind: "confidentiality" | "privacy-training";
  completed_at: Timestamp;
  expires_at: NullableTimestamp;
  recorded_by: string;
  recorded_at: CreatedAt;
};

export type AccessGrantsTable = {
  id: string;
  staff_id: string;
  scope: "subject-pi" | "children-pi" | "bulk-export";
  subject_id: string | null;
  categories: Jsonb<string[]>;
  purpose: string;
  justification_sealed: Buffer;
  duration_minutes: number;
  status: ColumnType<GrantStatus, GrantStatus | undefined, GrantStatus>;
  requested_at: Timestamp;
  decided_by: string | null;
  decided_at: NullableTimestamp;
  expires_at: NullableTimestamp;
};

export type GrantStatus = "pending" | "approved" | "rejected" | "expired" | "revoked";

export type StaffTables = {
  staff: StaffTable;
  staff_sessions: StaffSessionsTable;
  staff_training: StaffTrainingTable;
  access_grants: AccessGrantsTable;
};

export type StaffDb = Kysely<DB & StaffTables>;

export type StaffRow = Selectable<StaffTable>;
export type StaffSessionRow = Selectable<StaffSessionsTable>;
export type StaffTrainingRow = Selectable<StaffTrainingTable>;
export type AccessGrantRow = Selectable<AccessGrantsTable>;

/** The same connection (or transaction) typed with the staff tables. */
export function staffDb(db: Kysely<DB>): StaffDb {
  return db.withTables<StaffTables>();
}

/**
 * Staff accounts and sessions. Repositories are the only code that runs SQL; callers pass `db` or a
 * transaction. Sealing and hashing happen in the service (the repository stores bytes).
 */
export function createStaffRepo(db: Kysely<DB>) {
  const q = staffDb(db);
  return {
    async insert(row: {
      id: string;
      emailIndex: Buffer;
      emailSealed: Buffer;
      nameSealed: Buffer;
      role: string;
      passwordHash: string;
      createdBy: string | null;
      now: Date;
      mustChangePassword?: boolean;
    }): Promise<boolean> {
      const inserted = await q
        .insertInto("staff")
        .values({
          id: row.id,
          email_index: row.emailIndex,
          email_sealed: row.emailSealed,
          name_sealed: row.nameSealed,
          role: row.role,
          password_hash: row.passwordHash,
          created_by: row.createdBy,
          created_at: row.now,
          must_change_password: row.mustChangePassword ?? false,
        })
        .onConflict((oc) => oc.column("email_index").doNothing())
        .returning("id")
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async byId(id: string): Promise<StaffRow | undefined> {
      return q.selectFrom("staff").selectAll().where("id", "=", id).executeTakeFirst();
    },

    async byEmailIndex(index: Buffer): Promise<StaffRow | undefined> {
      return q.selectFrom("staff").selectAll().where("email_index", "=", index).executeTakeFirst();
    },

    async list(): Promise<StaffRow[]> {
      return q.selectFrom("staff").selectAll().orderBy("created_at").orderBy("id").limit(1000).execute();
    },

    async countActiveAdmins(): Promise<number> {
      const row = await q
        .selectFrom("staff")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("role", "=", "admin")
        .where("status", "=", "active")
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async setPasswordHash(id: string, hash: string): Promise<void> {
      await q.updateTable("staff").set({ password_hash: hash }).where("id", "=", id).execute();
    },

    /** Sets a password the staff member chose, clearing the one-time-password flag. */
    async replaceOneTimePassword(id: string, hash: string): Promise<void> {
      await q
        .updateTable("staff")
        .set({ password_hash: hash, must_change_password: false })
        .where("id", "=", id)
        .execute();
    },

    async setStatus(id: string, status: "active" | "suspended"): Promise<boolean> {
      const r = await q.updateTable("staff").set({ status }).where("id", "=", id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** A new pending TOTP secret (only while not enrolled). */
    async setPendingTotp(id: string, sealed: Buffer): Promise<void> {
      await q
        .updateTable("staff")
        .set({ totp_secret_sealed: sealed })
        .where("id", "=", id)
        .where("mfa_enrolled_at", "is", null)
        .execute();
    },

    /** Records an accepted code: enrols on first use, never accepts the same step again. */
    async acceptTotpStep(id: string, step: number, now: Date): Promise<boolean> {
      const r = await q
        .updateTable("staff")
        .set((eb) => ({
          totp_last_step: step,
          mfa_enrolled_at: eb.fn.coalesce("mfa_enrolled_at", eb.val(now)),
          failed_attempts: 0,
          locked_until: null,
        }))
        .where("id", "=", id)
        .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Adds a failure; locks the account until `lockUntil` when the count reaches `limit`. */
    async recordFailure(id: string, limit: number, lockUntil: Date): Promise<{ locked: boolean }> {
      const row = await q
        .updateTable("staff")
        .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
        .where("id", "=", id)
        .returning("failed_attempts")
        .executeTakeFirst();
      if (row && row.failed_attempts >= limit) {
        await q
          .updateTable("staff")
          .set({ locked_until: lockUntil, failed_attempts: 0 })
          .where("id", "=", id)
          .execute();
        return { locked: true };
      }
      return { locked: false };
    },

    async clearFailures(id: string): Promise<void> {
      await q.updateTable("staff").set({ failed_attempts: 0 }).where("id", "=", id).execute();
    },

    // Sessions

    async insertSession(row: {
      tokenHash: Buffer;
      staffId: string;
      stage: "mfa" | "active";
      now: Date;
      expiresAt: Date;
    }): Promise<void> {
      await q
        .insertInto("staff_sessions")
        .values({
          token_hash: row.tokenHash,
          staff_id: row.staffId,
          stage: row.stage,
          created_at: row.now,
          expires_at: row.expiresAt,
        })
        .execute();
    },

    async sessionByHash(tokenHash: Buffer): Promise<StaffSessionRow | undefined> {
      return q
        .selectFrom("staff_sessions")
        .selectAll()
        .where("token_hash", "=", tokenHash)
        .executeTakeFirst();
    },

    async revokeSession(tokenHash: Buffer, now: Date): Promise<void> {
      await q
        .updateTable("staff_sessions")
        .set({ revoked_at: now })
        .where("token_hash", "=", tokenHash)
        .where("revoked_at", "is", null)
        .execute();
    },

    async revokeAllSessions(staffId: string, now: Date, exceptTokenHash?: Buffer): Promise<void> {
      let update = q
        .updateTable("staff_sessions")
        .set({ revoked_at: now })
        .where("staff_id", "=", staffId)
        .where("revoked_at", "is", null);
      if (exceptTokenHash) update = update.where("token_hash", "!=", exceptTokenHash);
      await update.execute();
    },
  };
}
export type StaffRepo = ReturnType<typeof createStaffRepo>;

/** Confidentiality agreements and privacy training (SEC-8). */
export function createStaffTrainingRepo(db: Kysely<DB>) {
  const q = staffDb(db);
  return {
    async insert(row: {
      staffId: string;
      kind: "confidentiality" | "privacy-training";
      completedAt: Date;
      expiresAt: Date | null;
      recordedBy: string;
      now: Date;
    }): Promise<StaffTrainingRow> {
      return q
        .insertInto("staff_training")
        .values({
          staff_id: row.staffId,
          kind: row.kind,
          completed_at: row.completedAt,
          expires_at: row.expiresAt,
          recorded_by: row.recordedBy,
          recorded_at: row.now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async forStaff(staffId: string): Promise<StaffTrainingRow[]> {
      return q
        .selectFrom("staff_training")
        .selectAll()
        .where("staff_id", "=", staffId)
        .orderBy("completed_at", "desc")
        .orderBy("id", "desc")
        .limit(200)
        .execute();
    },

    async all(): Promise<StaffTrainingRow[]> {
      return q
        .selectFrom("staff_training")
        .selectAll()
        .orderBy("completed_at", "desc")
        .orderBy("id", "desc")
        .limit(5000)
        .execute();
    },
  };
}
export type StaffTrainingRepo = ReturnType<typeof createStaffTrainingRepo>;

/** Time-bound access grants (SEC-8, SEC-3, CHD-8). */
export function createAccessGrantRepo(db: Kysely<DB>) {
  const q = staffDb(db);
  return {
    async insert(row: {
      id: string;
      staffId: string;
      scope: AccessGrantRow["scope"];
      subjectId: string | null;
      categories: string[];
      purpose: string;
      justificationSealed: Buffer;
      durationMinutes: number;
      now: Date;
    }): Promise<AccessGrantRow> {
      return q
        .insertInto("access_grants")
        .values({
          id: row.id,
          staff_id: row.staffId,
          scope: row.scope,
          subject_id: row.subjectId,
          categories: JSON.stringify(row.categories),
          purpose: row.purpose,
          justification_sealed: row.justificationSealed,
          duration_minutes: row.durationMinutes,
          requested_at: row.now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async byId(id: string): Promise<AccessGrantRow | undefined> {
      return q.selectFrom("access_grants").selectAll().where("id", "=", id).executeTakeFirst();
    },

    /** Locks the row for a decision (inside a transaction). */
    async byIdForUpdate(id: string): Promise<AccessGrantRow | undefined> {
      return q.selectFrom("access_grants").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
    },

    async decide(
      id: string,
      change: { status: GrantStatus; decidedBy?: string; decidedAt?: Date; expiresAt?: Date | null },
    ): Promise<AccessGrantRow> {
      return q
        .updateTable("access_grants")
        .set({
          status: change.status,
          ...(change.decidedBy !== undefined ? { decided_by: change.decidedBy } : {}),
          ...(change.decidedAt !== undefined ? { decided_at: change.decidedAt } : {}),
          ...(change.expiresAt !== undefined ? { expires_at: change.expiresAt } : {}),
        })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async list(filter: {
      staffId?: string;
      status?: GrantStatus;
      limit?: number;
    }): Promise<AccessGrantRow[]> {
      let query = q.selectFrom("access_grants").selectAll();
      if (filter.staffId) query = query.where("staff_id", "=", filter.staffId);
      if (filter.status) query = query.where("status", "=", filter.status);
      return query
        .orderBy("requested_at", "desc")
        .orderBy("id")
        .limit(filter.limit ?? 200)
        .execute();
    },

    /** Approved, unexpired grants of a staff member on a subject (or on no subject, for bulk export). */
    async activeFor(staffId: string, subjectId: string | null, now: Date): Promise<AccessGrantRow[]> {
      let query = q
        .selectFrom("access_grants")
        .selectAll()
        .where("staff_id", "=", staffId)
        .where("status", "=", "approved")
        .where("expires_at", ">", now);
      query =
        subjectId === null
          ? query.where("subject_id", "is", null)
          : query.where("subject_id", "=", subjectId);
      return query.orderBy("expires_at", "desc").execute();
    },
  };
}
export type AccessGrantRepo = ReturnType<typeof createAccessGrantRepo>;
