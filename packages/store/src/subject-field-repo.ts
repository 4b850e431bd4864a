import type { Kysely } from "kysely";
import type { DB } from "./db-types.ts";
import type { BlindIndexKind, Vault } from "./vault.ts";

export type PutFieldInput = {
  subjectId: string;
  category: string;
  field: string;
  keyGroup: string;
  value: string;
  /** When set, also stores a blind index of this kind so the field can be found by equality. */
  indexAs?: BlindIndexKind;
};

/** Field reference bound into the ciphertext: a blob moved to another field fails to decrypt. */
export function fieldRef(category: string, field: string): string {
  return `${category}.${field}`;
}

/**
 * Personal fields stored encrypted through the vault (SEC-1). Takes `db` or a transaction;
 * inside a transaction the vault's key queries run on the same transaction.
 */
export function createSubjectFieldRepo(db: Kysely<DB>, vault: Vault) {
  const v = db.isTransaction ? vault.withTransaction(db) : vault;

  return {
    async put(input: PutFieldInput): Promise<void> {
      const ciphertext = await v.encryptField(
        input.subjectId,
        input.keyGroup,
        fieldRef(input.category, input.field),
        input.value,
      );
      const blindIndex = input.indexAs ? await v.blindIndex(input.indexAs, input.value) : null;
      await db
        .insertInto("subject_fields")
        .values({
          subject_id: input.subjectId,
          category: input.category,
          field: input.field,
          key_group: input.keyGroup,
          ciphertext,
          blind_index: blindIndex,
          updated_at: new Date(),
        })
        .onConflict((oc) =>
          oc.columns(["subject_id", "category", "field"]).doUpdateSet({
            key_group: input.keyGroup,
            ciphertext,
            blind_index: blindIndex,
            updated_at: new Date(),
          }),
        )
        .execute();
    },

    /** The decrypted value, or undefined when absent. Throws VaultError when the key was shredded. */
    async get(subjectId: string, category: string, field: string): Promise<string | undefined> {
      const row = await db
        .selectFrom("subject_fields")
        .select(["key_group", "ciphertext"])
        .where("subject_id", "=", subjectId)
        .where("category", "=", category)
        .where("field", "=", field)
        .executeTakeFirst();
      if (!row) return undefined;
      return v.decryptField(subjectId, row.key_group, fieldRef(category, field), row.ciphertext);
    },

    /** All decrypted fields of a subject as { category: { field: value } }. */
    async getAll(subjectId: string): Promise<Record<string, Record<string, string>>> {
      const rows = await db
        .selectFrom("subject_fields")
        .select(["category", "field", "key_group", "ciphertext"])
        .where("subject_id", "=", subjectId)
        .orderBy("category")
        .orderBy("field")
        .execute();
      const out: Record<string, Record<string, string>> = {};
      for (const row of rows) {
        const value = await v.decryptField(
          subjectId,
          row.key_group,
          fieldRef(row.category, row.field),
          row.ciphertext,
        );
        const bucket = out[row.category] ?? {};
        bucket[row.field] = value;
        out[row.category] = bucket;
      }
      return out;
    },

    /** Subjects whose `field` has a blind index equal to that of `value` (normalised by kind). */
    async findSubjectsByBlindIndex(field: string, kind: BlindIndexKind, value: string): Promise<string[]> {
      const index = await v.blindIndex(kind, value);
      const rows = await db
        .selectFrom("subject_fields")
        .select("subject_id")
        .distinct()
        .where("field", "=", field)
        .where("blind_index", "=", index)
        .execute();
      return rows.map((r) => r.subject_id);
    },

    async remove(subjectId: string, category?: string): Promise<number> {
      let q = db.deleteFrom("subject_fields").where("subject_id", "=", subjectId);
      if (category) q = q.where("category", "=", category);
      const res = await q.executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}

export type SubjectFieldRepo = ReturnType<typeof createSubjectFieldRepo>;
