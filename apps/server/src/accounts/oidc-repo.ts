import type { DB, Jsonb, NullableTimestamp, Timestamp } from "@custos/store";
import type { Kysely } from "kysely";

/**
 * Row access for migrations/0004_oidc.sql (ACC-2): which subject an identity at a provider belongs
 * to. The provider's `sub` is present only as a keyed blind index; claim values live encrypted in
 * subject_fields (see oidc-service.ts). The only code that runs SQL on linked_identities.
 */

export type LinkedIdentitiesTable = {
  subject_id: string;
  provider: string;
  subject_hash: Buffer;
  claim_fields: Jsonb<string[]>;
  linked_at: Timestamp;
  last_login_at: NullableTimestamp;
};

type OidcTables = { linked_identities: LinkedIdentitiesTable };
type OidcKysely = Kysely<DB & OidcTables>;

export type LinkedIdentity = {
  subjectId: string;
  provider: string;
  claimFields: string[];
  linkedAt: Date;
  lastLoginAt: Date | null;
};

// biome-ignore lint/suspicious/noExplicitAny: any Kysely handle (plain or with other feature tables) works here
type AnyDb = Kysely<any>;

const withOidc = (db: AnyDb): OidcKysely => (db as Kysely<DB>).withTables<OidcTables>() as OidcKysely;

const COLUMNS = [
  "subject_id as subjectId",
  "provider",
  "claim_fields as claimFields",
  "linked_at as linkedAt",
  "last_login_at as lastLoginAt",
] as const;

/** Takes `db` or a transaction. */
export function createLinkedIdentityRepo(database: AnyDb) {
  const db = withOidc(database);
  return {
    async findByIdentity(provider: string, subjectHash: Buffer): Promise<LinkedIdentity | undefined> {
      return db
        .selectFrom("linked_identities")
        .select(COLUMNS)
        .where("provider", "=", provider)
        .where("subject_hash", "=", subjectHash)
        .executeTakeFirst();
    },

    async get(subjectId: string, provider: string): Promise<LinkedIdentity | undefined> {
      return db
        .selectFrom("linked_identities")
        .select(COLUMNS)
        .where("subject_id", "=", subjectId)
        .where("provider", "=", provider)
        .executeTakeFirst();
    },

    async listForSubject(subjectId: string): Promise<LinkedIdentity[]> {
      return db
        .selectFrom("linked_identities")
        .select(COLUMNS)
        .where("subject_id", "=", subjectId)
        .orderBy("linked_at")
        .execute();
    },

    async insert(input: {
      subjectId: string;
      provider: string;
      subjectHash: Buffer;
      claimFields: string[];
      now: Date;
    }): Promise<void> {
      await db
        .insertInto("linked_identities")
        .values({
          subject_id: input.subjectId,
          provider: input.provider,
          subject_hash: input.subjectHash,
          claim_fields: JSON.stringify(input.claimFields),
          linked_at: input.now,
          last_login_at: input.now,
        })
        .execute();
    },

    async recordLogin(subjectId: string, provider: string, claimFields: string[], now: Date): Promise<void> {
      await db
        .updateTable("linked_identities")
        .set({ claim_fields: JSON.stringify(claimFields), last_login_at: now })
        .where("subject_id", "=", subjectId)
        .where("provider", "=", provider)
        .execute();
    },

    async remove(subjectId: string, provider: string): Promise<boolean> {
      const res = await db
        .deleteFrom("linked_identities")
        .where("subject_id", "=", subjectId)
        .where("provider", "=", provider)
        .executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },

    /** Removes this provider's claim fields (category third-party-login, field `<provider>.*`). */
    async removeClaimFields(subjectId: string, category: string, provider: string): Promise<void> {
      await db
        .deleteFrom("subject_fields")
        .where("subject_id", "=", subjectId)
        .where("category", "=", category)
        .where("field", "like", `${provider}.%`)
        .execute();
    },
  };
}

export type LinkedIdentityRepo = ReturnType<typeof createLinkedIdentityRepo>;
