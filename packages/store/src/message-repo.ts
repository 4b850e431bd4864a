import { AppError, isUuid, newId } from "@custos/core";
import type { Kysely, Selectable } from "kysely";
import type { DB, MessageChannel, MessageStatus, MessagesTable } from "./db-types.ts";

export const MESSAGE_CHANNELS: readonly MessageChannel[] = ["email", "sms", "push", "inbox"];

export type Message = {
  id: string;
  subjectId: string | null;
  channel: MessageChannel;
  template: string;
  locale: string;
  /** Sealed with the vault (`vault.sealSystem`); never the plain address. */
  recipientSealed: Buffer | null;
  recipientMasked: string;
  subjectLine: string;
  body: string;
  status: MessageStatus;
  error: string | null;
  createdAt: Date;
  sentAt: Date | null;
  readAt: Date | null;
  dev: boolean;
};

export type InsertMessageInput = {
  id?: string;
  subjectId?: string | null;
  channel: MessageChannel;
  template: string;
  locale: string;
  recipientSealed?: Buffer | null;
  recipientMasked?: string;
  subjectLine?: string;
  body: string;
  dev?: boolean;
  now?: Date;
};

const LIMITS = {
  template: 100,
  locale: 16,
  recipientMasked: 200,
  subjectLine: 300,
  body: 100_000,
  error: 1000,
};

function toMessage(row: Selectable<MessagesTable>): Message {
  return {
    id: row.id,
    subjectId: row.subject_id,
    channel: row.channel,
    template: row.template,
    locale: row.locale,
    recipientSealed: row.recipient_sealed,
    recipientMasked: row.recipient_masked,
    subjectLine: row.subject_line,
    body: row.body,
    status: row.status,
    error: row.error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    readAt: row.read_at,
    dev: row.dev,
  };
}

function invalid(field: string, message: string): AppError {
  return new AppError("validation_failed", { message, details: { field } });
}

function checkLimit(limit: number | undefined, max = 200): number {
  const n = limit ?? 50;
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw invalid("limit", `limit must be an integer from 1 to ${max}`);
  return n;
}

/** The notifier's outbox and the in-app inbox. Takes `db` or a transaction. */
export function createMessageRepo(db: Kysely<DB>) {
  async function setOutcome(
    id: string,
    values: { status: MessageStatus; sent_at?: Date; read_at?: Date; error?: string | null },
    guard?: { subjectId?: string; status?: MessageStatus },
  ): Promise<Message | undefined> {
    if (!isUuid(id)) return undefined;
    let q = db.updateTable("messages").set(values).where("id", "=", id);
    if (guard?.subjectId !== undefined) q = q.where("subject_id", "=", guard.subjectId);
    if (guard?.status !== undefined) q = q.where("status", "=", guard.status);
    const row = await q.returningAll().executeTakeFirst();
    return row ? toMessage(row) : undefined;
  }

  return {
    async insert(input: InsertMessageInput): Promise<Message> {
      const id = input.id ?? newId();
      if (!isUuid(id)) throw invalid("id", "message id must be a UUID");
      if (input.subjectId != null && !isUuid(input.subjectId))
        throw invalid("subjectId", "subjectId must be a UUID");
      if (!MESSAGE_CHANNELS.includes(input.channel)) {
        throw invalid("channel", `channel must be one of ${MESSAGE_CHANNELS.join(", ")}`);
      }
      for (const key of ["template", "locale", "recipientMasked", "subjectLine", "body"] as const) {
        const value = input[key];
        if (value !== undefined && value.length > LIMITS[key]) {
          throw invalid(key, `${key} must be at most ${LIMITS[key]} characters`);
        }
      }
      if (input.template.length === 0) throw invalid("template", "template must not be empty");
      if (input.locale.length === 0) throw invalid("locale", "locale must not be empty");
      const row = await db
        .insertInto("messages")
        .values({
          id,
          subject_id: input.subjectId ?? null,
          channel: input.channel,
          template: input.template,
          locale: input.locale,
          recipient_sealed: input.recipientSealed ?? null,
          recipient_masked: input.recipientMasked ?? "",
          subject_line: input.subjectLine ?? "",
          body: input.body,
          dev: input.dev ?? false,
          created_at: input.now ?? new Date(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toMessage(row);
    },

    async get(id: string): Promise<Message | undefined> {
      if (!isUuid(id)) return undefined;
      const row = await db.selectFrom("messages").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? toMessage(row) : undefined;
    },

    /**
     * Marks a message sent. With `ifStatus`, only a message still in that status (e.g. "queued"), so
     * a late or repeated delivery cannot overwrite another outcome; undefined when nothing changed.
     */
    markSent(
      id: string,
      at = new Date(),
      options: { ifStatus?: MessageStatus } = {},
    ): Promise<Message | undefined> {
      return setOutcome(id, { status: "sent", sent_at: at, error: null }, { status: options.ifStatus });
    },

    /**
     * Marks a message failed; `ifStatus` as for `markSent`. `error` must not contain personal
     * information (say what failed, not to whom).
     */
    markFailed(
      id: string,
      error: string,
      options: { ifStatus?: MessageStatus } = {},
    ): Promise<Message | undefined> {
      return setOutcome(
        id,
        { status: "failed", error: error.slice(0, LIMITS.error) },
        { status: options.ifStatus },
      );
    },

    /** Marks an inbox message read; with `subjectId`, only that subject's message. */
    markRead(id: string, options: { subjectId?: string; at?: Date } = {}): Promise<Message | undefined> {
      return setOutcome(
        id,
        { status: "read", read_at: options.at ?? new Date() },
        options.subjectId !== undefined ? { subjectId: options.subjectId } : undefined,
      );
    },

    /** A subject's messages, newest first. */
    async listBySubject(
      subjectId: string,
      options: { channel?: MessageChannel; limit?: number } = {},
    ): Promise<Message[]> {
      const limit = checkLimit(options.limit);
      if (!isUuid(subjectId)) return [];
      let q = db.selectFrom("messages").selectAll().where("subject_id", "=", subjectId);
      if (options.channel) q = q.where("channel", "=", options.channel);
      const rows = await q.orderBy("created_at", "desc").orderBy("id").limit(limit).execute();
      return rows.map(toMessage);
    },

    /** Messages captured in development mode (not delivered), newest first. */
    async listDevOutbox(options: { channel?: MessageChannel; limit?: number } = {}): Promise<Message[]> {
      const limit = checkLimit(options.limit);
      let q = db.selectFrom("messages").selectAll().where("dev", "=", true);
      if (options.channel) q = q.where("channel", "=", options.channel);
      const rows = await q.orderBy("created_at", "desc").orderBy("id").limit(limit).execute();
      return rows.map(toMessage);
    },
  };
}

export type MessageRepo = ReturnType<typeof createMessageRepo>;
