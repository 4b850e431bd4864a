import { sql } from "kysely";
import type { AccountDb, AccountStatus, LockedReason } from "./account-tables.ts";
import { withAccounts } from "./account-tables.ts";

export type Account = {
  subjectId: string;
  status: AccountStatus;
  lockedReason: LockedReason | null;
  locale: string;
  policyVersion: string;
  createdAt: Date;
};

/** Subject accounts and their password credentials (ACC-1, ACC-3). No personal information here. */
export function createAccountRepo(database: AccountDb) {
  const db = withAccounts(database);
  const columns = [
    "subject_id as subjectId",
    "status",
    "locked_reason as lockedReason",
    "locale",
    "policy_version as policyVersion",
    "created_at as createdAt",
  ] as const;

  return {
    async create(input: { subjectId: string; locale: string; policyVersion: string; now: Date }) {
      await db
        .insertInto("accounts")
        .values({
          subject_id: input.subjectId,
          locale: input.locale,
          policy_version: input.policyVersion,
          status: "active",
          locked_reason: null,
          created_at: input.now,
          updated_at: input.now,
        })
        .execute();
    },

    async get(subjectId: string): Promise<Account | undefined> {
      return db.selectFrom("accounts").select(columns).where("subject_id", "=", subjectId).executeTakeFirst();
    },

    async setStatus(subjectId: string, status: AccountStatus, lockedReason: LockedReason | null, now: Date) {
      await db
        .updateTable("accounts")
        .set({ status, locked_reason: status === "locked" ? lockedReason : null, updated_at: now })
        .where("subject_id", "=", subjectId)
        .execute();
    },

    async setPasswordHash(subjectId: string, passwordHash: string, now: Date) {
      await db
        .insertInto("credentials")
        .values({ subject_id: subjectId, password_hash: passwordHash, updated_at: now })
        .onConflict((oc) =>
          oc.column("subject_id").doUpdateSet({ password_hash: passwordHash, updated_at: now }),
        )
        .execute();
    },

    /** The subject whose registration field (phone, email, username) has this blind index. */
    async findByRegistrationIndex(field: string, blindIndex: Buffer): Promise<string | undefined> {
      const row = await db
        .selectFrom("subject_fields")
        .select("subject_id")
        .where("category", "=", "registration")
        .where("field", "=", field)
        .where("blind_index", "=", blindIndex)
        .executeTakeFirst();
      return row?.subject_id;
    },

    /**
     * OpenID Connect providers linked to the subject. The table belongs to the OIDC module
     * (0004_oidc.sql); it is read defensively, so an absent table or other columns mean "none".
     */
    async listLinkedProviders(
      subjectId: string,
    ): Promise<{ id: string; provider: string; linkedAt: string | null }[]> {
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = current_schema()
          and table_name in ('linked_identities', 'oidc_links', 'subject_identities', 'linked_providers')
        order by table_name limit 1`.execute(db);
      const name = tables.rows[0]?.table_name;
      if (!name) return [];
      try {
        const rows = await sql<Record<string, unknown>>`
          select * from ${sql.table(name)} where subject_id = ${subjectId} limit 50`.execute(db);
        const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : null);
        return rows.rows.map((r) => ({
          id: String(r.provider ?? r.id ?? r.provider_id ?? ""),
          provider: String(r.provider_id ?? r.provider ?? ""),
          linkedAt: iso(r.created_at) ?? iso(r.linked_at),
        }));
      } catch {
        return [];
      }
    },

    async getPasswordHash(subjectId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom("credentials")
        .select("password_hash")
        .where("subject_id", "=", subjectId)
        .executeTakeFirst();
      return row?.password_hash;
    },
  };
}
export type AccountRepo = ReturnType<typeof createAccountRepo>;
