import type { Kysely } from "kysely";
import type { CreatedAt, DB, Timestamp } from "../db-types.ts";
import { type Vault, VaultError } from "../vault.ts";

/**
 * Interest tags inferred about a subject (CON-15), migrations/0010_interest_tags.sql. A tag's id and
 * label are personal information: they are stored only as vault ciphertext, bound to the subject, the
 * key group and the row's field reference; `tag_hash` (a keyed HMAC of subject, purpose and tag id)
 * lets a re-posted tag replace the stored one. Deleting removes the rows.
 */

export type InterestTagsTable = {
  id: string;
  subject_id: string;
  purpose_id: string;
  category: string;
  tag_hash: Buffer;
  key_group: string;
  ciphertext: Buffer;
  source: string;
  inferred_at: Timestamp;
  created_at: CreatedAt;
};

export type InterestTagTables = { interest_tags: InterestTagsTable };

/** A tag's label in the languages the inferring service gave. */
export type InterestTagLabel = { en?: string | undefined; "zh-CN"?: string | undefined };

export type InterestTagInput = { tagId: string; label: InterestTagLabel };

export type InterestTag = {
  /** The row id (what the subject deletes by). */
  id: string;
  purposeId: string;
  category: string;
  tagId: string;
  label: InterestTagLabel;
  source: string;
  inferredAt: Date;
};

export type PutInterestTagsInput = {
  subjectId: string;
  purposeId: string;
  category: string;
  keyGroup: string;
  source: string;
  inferredAt: Date;
  tags: readonly InterestTagInput[];
};

/** The blind-index kind of tag hashes: its own HKDF subkey, never equal to an email or phone index. */
const TAG_INDEX_KIND = "interest-tag";

const tagFieldRef = (category: string, tagHash: Buffer) =>
  `${category}.interest-tag:${tagHash.toString("hex")}`;

/** Takes `db` or a transaction; inside a transaction the vault's key queries run on it too. */
export function createInterestTagRepo(db: Kysely<DB>, vault: Vault, newId: () => string) {
  const tdb = db.withTables<InterestTagTables>();
  const v = db.isTransaction ? vault.withTransaction(db) : vault;

  const tagHash = (subjectId: string, purposeId: string, tagId: string) =>
    v.blindIndex(TAG_INDEX_KIND, `${subjectId}|${purposeId}|${tagId}`);

  return {
    /**
     * Stores the tags (a tag already stored for the subject and purpose is replaced, with the new
     * label and time). Returns how many rows were written.
     */
    async put(input: PutInterestTagsInput): Promise<number> {
      if (input.tags.length === 0) return 0;
      const rows = [];
      const seen = new Set<string>();
      for (const tag of input.tags) {
        const hash = await tagHash(input.subjectId, input.purposeId, tag.tagId);
        const key = hash.toString("hex");
        if (seen.has(key)) continue;
        seen.add(key);
        const ciphertext = await v.encryptField(
          input.subjectId,
          input.keyGroup,
          tagFieldRef(input.category, hash),
          JSON.stringify({ id: tag.tagId, label: tag.label }),
        );
        rows.push({
          id: newId(),
          subject_id: input.subjectId,
          purpose_id: input.purposeId,
          category: input.category,
          tag_hash: hash,
          key_group: input.keyGroup,
          ciphertext,
          source: input.source,
          inferred_at: input.inferredAt,
        });
      }
      await tdb
        .insertInto("interest_tags")
        .values(rows)
        .onConflict((oc) =>
          oc.columns(["subject_id", "purpose_id", "tag_hash"]).doUpdateSet((eb) => ({
            category: eb.ref("excluded.category"),
            key_group: eb.ref("excluded.key_group"),
            ciphertext: eb.ref("excluded.ciphertext"),
            source: eb.ref("excluded.source"),
            inferred_at: eb.ref("excluded.inferred_at"),
          })),
        )
        .execute();
      return rows.length;
    },

    /** How many of `tagIds` are not stored yet for the subject and purpose, and how many are. */
    async countAfterPut(subjectId: string, purposeId: string, tagIds: readonly string[]) {
      const stored = await tdb
        .selectFrom("interest_tags")
        .select("tag_hash")
        .where("subject_id", "=", subjectId)
        .where("purpose_id", "=", purposeId)
        .execute();
      const known = new Set(stored.map((r) => r.tag_hash.toString("hex")));
      const fresh = new Set<string>();
      for (const tagId of tagIds) {
        const hex = (await tagHash(subjectId, purposeId, tagId)).toString("hex");
        if (!known.has(hex)) fresh.add(hex);
      }
      return stored.length + fresh.size;
    },

    /**
     * The subject's tags, newest first, decrypted (optionally of some purposes only). Tags whose key
     * was destroyed (crypto-shredded) are gone and left out.
     */
    async list(subjectId: string, purposeIds?: readonly string[]): Promise<InterestTag[]> {
      let q = tdb
        .selectFrom("interest_tags")
        .select([
          "id",
          "purpose_id",
          "category",
          "tag_hash",
          "key_group",
          "ciphertext",
          "source",
          "inferred_at",
        ])
        .where("subject_id", "=", subjectId);
      if (purposeIds) {
        if (purposeIds.length === 0) return [];
        q = q.where("purpose_id", "in", purposeIds);
      }
      const rows = await q.orderBy("inferred_at", "desc").orderBy("id").execute();
      const out: InterestTag[] = [];
      for (const row of rows) {
        let plain: string;
        try {
          plain = await v.decryptField(
            subjectId,
            row.key_group,
            tagFieldRef(row.category, row.tag_hash),
            row.ciphertext,
          );
        } catch (err) {
          if (err instanceof VaultError && err.reason === "key_destroyed") continue;
          throw err;
        }
        const parsed = JSON.parse(plain) as { id: string; label: InterestTagLabel };
        out.push({
          id: row.id,
          purposeId: row.purpose_id,
          category: row.category,
          tagId: parsed.id,
          label: parsed.label,
          source: row.source,
          inferredAt: row.inferred_at,
        });
      }
      return out;
    },

    /** Deletes one tag of the subject; returns its purpose and category, or undefined when absent. */
    async remove(
      subjectId: string,
      id: string,
    ): Promise<{ purposeId: string; category: string } | undefined> {
      const row = await tdb
        .deleteFrom("interest_tags")
        .where("subject_id", "=", subjectId)
        .where("id", "=", id)
        .returning(["purpose_id", "category"])
        .executeTakeFirst();
      return row ? { purposeId: row.purpose_id, category: row.category } : undefined;
    },

    /**
     * Deletes all the subject's tags (or those of some purposes). Returns the number deleted per
     * purpose and category.
     */
    async removeAll(
      subjectId: string,
      purposeIds?: readonly string[],
    ): Promise<{ purposeId: string; category: string; count: number }[]> {
      if (purposeIds && purposeIds.length === 0) return [];
      let q = tdb.deleteFrom("interest_tags").where("subject_id", "=", subjectId);
      if (purposeIds) q = q.where("purpose_id", "in", purposeIds);
      const rows = await q.returning(["purpose_id", "category"]).execute();
      const counts = new Map<string, { purposeId: string; category: string; count: number }>();
      for (const r of rows) {
        const key = `${r.purpose_id}\u0000${r.category}`;
        const c = counts.get(key) ?? { purposeId: r.purpose_id, category: r.category, count: 0 };
        c.count += 1;
        counts.set(key, c);
      }
      return [...counts.values()];
    },
  };
}

export type InterestTagRepo = ReturnType<typeof createInterestTagRepo>;
