import { AppError, isUuid, newId } from "@custos/core";
import type { Kysely, Selectable } from "kysely";
import type { DB, SubjectsTable } from "./db-types.ts";

export type Subject = {
  subjectId: string;
  region: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
};

export type SubjectPage = { items: Subject[]; nextCursor: string | null };

const REGION_RE = /^[A-Za-z0-9_-]{1,32}$/;
const STATUS_RE = /^[a-z_]{1,32}$/;

function toSubject(row: Selectable<SubjectsTable>): Subject {
  return {
    subjectId: row.subject_id,
    region: row.region,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function encodeCursor(s: Subject): string {
  return Buffer.from(`${s.createdAt.toISOString()}|${s.subjectId}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; subjectId: string } {
  const bad = () =>
    new AppError("validation_failed", {
      message: "cursor is not valid; pass the nextCursor value from the previous page",
      details: { field: "cursor" },
    });
  if (cursor.length > 200) throw bad();
  const [iso, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(iso ?? "");
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) throw bad();
  return { createdAt, subjectId: id };
}

/** People (players) known to Custos. No personal information here: that lives in subject_fields. */
export function createSubjectRepo(db: Kysely<DB>) {
  return {
    async create(input: {
      subjectId?: string;
      region: string;
      status?: string;
      now?: Date;
    }): Promise<Subject> {
      const subjectId = input.subjectId ?? newId();
      if (!isUuid(subjectId)) {
        throw new AppError("validation_failed", {
          message: "subjectId must be a UUID",
          details: { field: "subjectId" },
        });
      }
      if (!REGION_RE.test(input.region)) {
        throw new AppError("validation_failed", {
          message: "region must be 1-32 letters, digits, '_' or '-' (e.g. cn)",
          details: { field: "region" },
        });
      }
      if (input.status !== undefined && !STATUS_RE.test(input.status)) {
        throw new AppError("validation_failed", {
          message: "status must be 1-32 lower-case letters or '_'",
          details: { field: "status" },
        });
      }
      const now = input.now ?? new Date();
      const row = await db
        .insertInto("subjects")
        .values({
          subject_id: subjectId,
          region: input.region,
          ...(input.status ? { status: input.status } : {}),
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column("subject_id").doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) {
        throw new AppError("conflict", {
          message: "a subject with this id already exists",
          details: { field: "subjectId" },
        });
      }
      return toSubject(row);
    },

    async get(subjectId: string): Promise<Subject | undefined> {
      if (!isUuid(subjectId)) return undefined;
      const row = await db
        .selectFrom("subjects")
        .selectAll()
        .where("subject_id", "=", subjectId)
        .executeTakeFirst();
      return row ? toSubject(row) : undefined;
    },

    async setStatus(subjectId: string, status: string, now = new Date()): Promise<Subject> {
      if (!STATUS_RE.test(status)) {
        throw new AppError("validation_failed", {
          message: "status must be 1-32 lower-case letters or '_'",
          details: { field: "status" },
        });
      }
      const row = isUuid(subjectId)
        ? await db
            .updateTable("subjects")
            .set({ status, updated_at: now })
            .where("subject_id", "=", subjectId)
            .returningAll()
            .executeTakeFirst()
        : undefined;
      if (!row) throw new AppError("not_found", { message: "subject not found" });
      return toSubject(row);
    },

    /** Oldest first, keyset paging: pass `nextCursor` back as `cursor`. `limit` 1-500 (default 50). */
    async list(options: { limit?: number; cursor?: string; status?: string } = {}): Promise<SubjectPage> {
      const limit = options.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        throw new AppError("validation_failed", {
          message: "limit must be an integer from 1 to 500",
          details: { field: "limit" },
        });
      }
      let q = db.selectFrom("subjects").selectAll();
      if (options.cursor) {
        const c = decodeCursor(options.cursor);
        q = q.where((eb) =>
          eb.or([
            eb("created_at", ">", c.createdAt),
            eb.and([eb("created_at", "=", c.createdAt), eb("subject_id", ">", c.subjectId)]),
          ]),
        );
      }
      if (options.status) q = q.where("status", "=", options.status);
      const rows = await q
        .orderBy("created_at")
        .orderBy("subject_id")
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit).map(toSubject);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },
  };
}

export type SubjectRepo = ReturnType<typeof createSubjectRepo>;
