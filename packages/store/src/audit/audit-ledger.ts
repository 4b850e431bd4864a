import { AppError, batchHash, type Clock, EventHasher, genesisHash, isUuid, systemClock } from "@custos/core";
import type { Kysely } from "kysely";
import { z } from "zod";
import type { DB } from "../db-types.ts";
import {
  type AuditDb,
  type AuditListFilter,
  auditRepo,
  type NewAuditEventRow,
  type StoredAuditEvent,
} from "./audit-repo.ts";

/**
 * The audit ledger (SEC-4): every read of personal information by staff or a system, every
 * decision that is audited one by one, and the per-minute counts of the others, in an
 * append-only table chained by hash in batches. See migrations/0002_audit_ledger.sql.
 */

export const AUDIT_ACTOR_TYPES = ["staff", "service", "subject", "system"] as const;
export const AUDIT_OUTCOMES = ["allowed", "denied", "error"] as const;
/** Known actions. The database accepts any lower-case kebab word; add new actions here. */
export const AUDIT_ACTIONS = [
  "read",
  "create",
  "update",
  "delete",
  "export",
  "decide",
  "decide-count",
  "login",
  "logout",
  "grant",
  "revoke",
  "approve",
  "reject",
  "disclose",
  "erase",
  "restrict",
  "notify",
  "verify",
] as const;

export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

// One definition each, for the schema and for isPlainAuditEvent's shortcut.
const CODE_RE = /^[A-Za-z0-9._:/-]+$/;
const DETAIL_KEY_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const DETAIL_STRING_RE = /^[A-Za-z0-9._:/#-]+$/;

/** An id, code or count: what `details` may hold. Free text (names, addresses, messages) may not. */
const detailScalar = z.union([
  z.number().finite(),
  z.boolean(),
  z.null(),
  z
    .string()
    .max(128)
    .regex(DETAIL_STRING_RE, "must be an id or code (letters, digits and . _ : / # -), never free text"),
]);
const detailsSchema = z
  .record(
    z.string().regex(DETAIL_KEY_RE, "keys are identifiers"),
    z.union([detailScalar, z.array(detailScalar).max(100)]),
  )
  .refine((value) => Object.keys(value).length <= 32, "at most 32 keys");

/** Half of a UTF-16 surrogate pair on its own: not text PostgreSQL (or UTF-8) can hold. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const code = (max: number) =>
  z.string().min(1).max(max).regex(CODE_RE, "must be an id or code (letters, digits and . _ : / -)");

export const auditEventInputSchema = z.strictObject({
  actorType: z.enum(AUDIT_ACTOR_TYPES),
  actorId: code(200),
  action: z.enum(AUDIT_ACTIONS),
  subjectId: z.uuid().nullish(),
  category: code(100).nullish(),
  purpose: code(100).nullish(),
  outcome: z.enum(AUDIT_OUTCOMES),
  /** A reason code or a ticket reference; never personal information (SEC-6). */
  reason: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .refine((text) => !LONE_SURROGATE.test(text), "must be well-formed text (no lone UTF-16 surrogate)")
    .nullish(),
  requestId: code(200).nullish(),
  details: detailsSchema.optional(),
  /** Defaults to the ledger's clock. */
  occurredAt: z.date().optional(),
});
export type AuditEventInput = z.input<typeof auditEventInputSchema>;

const ACTOR_TYPE_SET: ReadonlySet<unknown> = new Set(AUDIT_ACTOR_TYPES);
const ACTION_SET: ReadonlySet<unknown> = new Set(AUDIT_ACTIONS);
const OUTCOME_SET: ReadonlySet<unknown> = new Set(AUDIT_OUTCOMES);
const INPUT_KEYS: ReadonlySet<string> = new Set(Object.keys(auditEventInputSchema.shape));

const isCode = (v: unknown, max: number) =>
  typeof v === "string" && v.length >= 1 && v.length <= max && CODE_RE.test(v);
const isCodeOrNone = (v: unknown, max: number) => v === undefined || v === null || isCode(v, max);
const isDetailScalar = (v: unknown) =>
  typeof v === "number"
    ? Number.isFinite(v)
    : typeof v === "boolean" ||
      v === null ||
      (typeof v === "string" && v.length <= 128 && DETAIL_STRING_RE.test(v));

function isPlainDetails(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  if (keys.length > 32) return false;
  for (const key of keys) {
    if (!DETAIL_KEY_RE.test(key)) return false;
    const value = (v as Record<string, unknown>)[key];
    if (Array.isArray(value)) {
      if (value.length > 100) return false;
      for (const item of value) if (!isDetailScalar(item)) return false;
    } else if (!isDetailScalar(value)) return false;
  }
  return true;
}

/**
 * True when the schema would accept the event exactly as it is (nothing to trim or default), so
 * it can be written without running zod: the server audits thousands of decisions a second. It
 * never accepts what the schema refuses (a test checks both agree); anything unusual goes through
 * the schema, which then explains what is wrong.
 */
export function isPlainAuditEvent(e: unknown): e is z.output<typeof auditEventInputSchema> {
  if (typeof e !== "object" || e === null || Object.getPrototypeOf(e) !== Object.prototype) return false;
  for (const key of Object.keys(e)) if (!INPUT_KEYS.has(key)) return false;
  const v = e as Record<string, unknown>;
  const { subjectId, reason, occurredAt } = v;
  return (
    ACTOR_TYPE_SET.has(v.actorType) &&
    isCode(v.actorId, 200) &&
    ACTION_SET.has(v.action) &&
    OUTCOME_SET.has(v.outcome) &&
    (subjectId === undefined || subjectId === null || isUuid(subjectId)) &&
    isCodeOrNone(v.category, 100) &&
    isCodeOrNone(v.purpose, 100) &&
    (reason === undefined ||
      reason === null ||
      (typeof reason === "string" &&
        reason.length >= 1 &&
        reason.length <= 500 &&
        reason.trim() === reason &&
        !LONE_SURROGATE.test(reason))) &&
    isCodeOrNone(v.requestId, 200) &&
    isPlainDetails(v.details) &&
    (occurredAt === undefined || (occurredAt instanceof Date && !Number.isNaN(occurredAt.getTime())))
  );
}

export const decisionCountSchema = z.strictObject({
  service: code(200),
  purpose: code(100),
  category: code(100),
  at: z.date(),
  count: z.number().int().min(1).max(1_000_000_000),
});
export type DecisionCount = z.input<typeof decisionCountSchema>;

const listFilterSchema = z.strictObject({
  subjectId: z.uuid().optional(),
  actorId: code(200).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  category: code(100).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
  limit: z.number().int().min(1).max(500).default(50),
  /** The `nextCursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "is not a cursor returned by a previous page")
    .optional(),
});
export type AuditListInput = z.input<typeof listFilterSchema>;

/** An audit event as the console shows it (no personal information is ever stored in one). */
export type AuditEventView = {
  id: number;
  occurredAt: string;
  actorType: string;
  actorId: string;
  action: string;
  subjectId: string | null;
  category: string | null;
  purpose: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  /** The batch that sealed it, null while not yet sealed. */
  batchId: number | null;
};

export type SealResult = { batches: number; events: number; foldedCounts: number };

export type AuditLedgerOptions = {
  db: Kysely<DB>;
  clock?: Clock;
  /** Most events per batch (default 10 000). */
  maxBatchEvents?: number;
  /**
   * How a batch names its events: "stamp" writes its id on each event (any number of writers);
   * "range" records only the id range (one row per batch, no update of the events). Use "range"
   * only where one connection does all writing, as with the embedded PGlite database: there ids
   * commit in order, so no event can appear inside a range after it was sealed (0014).
   */
  sealBy?: "stamp" | "range";
};

export type AuditLedger = ReturnType<typeof createAuditLedger>;

const MINUTE_MS = 60_000;
const FOLD_CHUNK = 500;

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Paths and messages only: the rejected values may be personal information (SEC-6).
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new AppError("validation_failed", {
    message: `${what} is invalid: ${issues.map((i) => `${i.path || "(root)"} ${i.message}`).join("; ")}. Correct these fields and retry.`,
    details: { issues },
  });
}

function toRow(input: z.output<typeof auditEventInputSchema>, now: Date): NewAuditEventRow {
  return {
    occurredAt: input.occurredAt ?? now,
    actorType: input.actorType,
    actorId: input.actorId,
    action: input.action,
    subjectId: input.subjectId ?? null,
    category: input.category ?? null,
    purpose: input.purpose ?? null,
    outcome: input.outcome,
    reason: input.reason ?? null,
    requestId: input.requestId ?? null,
    details: input.details ?? {},
  };
}

function toView(e: StoredAuditEvent): AuditEventView {
  return {
    id: e.id,
    occurredAt: new Date(e.occurredAt).toISOString(),
    actorType: e.actorType,
    actorId: e.actorId,
    action: e.action,
    subjectId: e.subjectId,
    category: e.category,
    purpose: e.purpose,
    outcome: e.outcome,
    reason: e.reason,
    requestId: e.requestId,
    details: e.details,
    batchId: e.batchId,
  };
}

/** Hashes of appended events kept for sealing by range, at most. */
const MAX_REMEMBERED = 200_000;

export function createAuditLedger({
  db,
  clock = systemClock,
  maxBatchEvents = 10_000,
  sealBy = "stamp",
}: AuditLedgerOptions) {
  if (!Number.isInteger(maxBatchEvents) || maxBatchEvents < 1)
    throw new RangeError("maxBatchEvents must be a positive integer");
  const hasher = new EventHasher();
  // Sealing by range (one writer, ADR 0010), the hash of every event this ledger appends is kept
  // from the append, so a seal reads only the ids of its range and the events it did not append.
  // The verifier still hashes every event as stored: an event changed before its seal no longer
  // matches the hash it was sealed with, and is reported.
  const appended = sealBy === "range" ? new Map<number, string>() : undefined;

  function remember(ids: readonly number[], rows: readonly NewAuditEventRow[]): void {
    if (!appended) return;
    // Seals failing for a long time: forget, and let the seals read the events again.
    if (appended.size + ids.length > MAX_REMEMBERED) appended.clear();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const r = rows[i] as NewAuditEventRow;
      // As the database gives it back: a uuid in lower case (other values come back as written).
      const stored = { ...r, id, subjectId: r.subjectId === null ? null : r.subjectId.toLowerCase() };
      appended.set(id, hasher.digestLatin1(stored));
    }
  }

  /** H(e1) || … || H(en) of the unsealed events after `afterId` (at most maxBatchEvents). */
  async function rangeHashes(trx: AuditDb, afterId: number, known: Map<number, string>) {
    const ids = await auditRepo.unsealedIdsAfter(trx, maxBatchEvents, afterId);
    const missing = ids.filter((id) => !known.has(id));
    const read = new Map((await auditRepo.eventsByIds(trx, missing)).map((e) => [e.id, e]));
    const parts = ids.map((id) => {
      const event = read.get(id);
      const hash = known.get(id) ?? (event && hasher.digestLatin1(event));
      if (hash === undefined) throw new Error(`audit event ${id} vanished while sealing`);
      return hash;
    });
    return { ids, eventHashes: Buffer.from(parts.join(""), "latin1") };
  }

  /** Folds the counts of closed minutes into 'decide-count' events, so the chain covers them. */
  async function foldClosedCounts(): Promise<number> {
    let folded = 0;
    for (;;) {
      const n = await db.transaction().execute(async (trx) => {
        await auditRepo.lockSealer(trx);
        const now = clock.now();
        const closedBefore = new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS);
        const rows = await auditRepo.lockUnfoldedCounts(trx, closedBefore, FOLD_CHUNK);
        if (rows.length === 0) return 0;
        await auditRepo.insertEvents(
          trx,
          rows.map((r) => ({
            occurredAt: now,
            actorType: "service",
            actorId: r.service,
            action: "decide-count",
            subjectId: null,
            category: r.category,
            purpose: r.purpose,
            outcome: "allowed",
            reason: null,
            requestId: null,
            details: {
              minute: new Date(r.minute).toISOString(),
              count: r.count - r.foldedCount,
              total: r.count,
            },
          })),
        );
        for (const r of rows) await auditRepo.markFolded(trx, { ...r, minute: new Date(r.minute) }, r.count);
        return rows.length;
      });
      folded += n;
      if (n < FOLD_CHUNK) return folded;
    }
  }

  /** Seals the oldest unsealed events (up to maxBatchEvents) as the next batch; 0 when none. */
  async function sealOneBatch(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      // One sealer at a time: with the lock held, the last batch and the unsealed events are
      // read after every earlier sealer committed, so the chain cannot fork (prev_hash is also unique).
      await auditRepo.lockSealer(trx);
      const last = await auditRepo.lastBatch(trx);
      const byRange = appended !== undefined;
      let ids: number[];
      let eventHashes: Buffer;
      if (byRange) {
        // Everything up to the last batch is sealed (one writer: nothing commits behind it).
        ({ ids, eventHashes } = await rangeHashes(trx, last?.lastEventId ?? 0, appended));
      } else {
        const events = await auditRepo.unsealedEvents(trx, maxBatchEvents);
        ids = events.map((e) => e.id);
        eventHashes = hasher.digestAll(events);
      }
      if (ids.length === 0) return 0;
      const batchId = (last?.batchId ?? 0) + 1;
      const prevHash = last?.hash ?? genesisHash();
      const lastEventId = ids[ids.length - 1] as number;
      await auditRepo.insertBatch(trx, {
        batchId,
        firstEventId: ids[0] as number,
        lastEventId,
        eventCount: ids.length,
        prevHash,
        hash: batchHash(prevHash, batchId, ids.length, eventHashes),
        eventHashes,
        sealedAt: clock.now(),
        byRange,
      });
      if (byRange) {
        // Ids are appended in increasing order: the sealed ones come first.
        for (const id of appended.keys()) {
          if (id > lastEventId) break;
          appended.delete(id);
        }
        return ids.length;
      }
      const stamped = await auditRepo.stampBatch(trx, batchId, ids);
      if (stamped !== ids.length) {
        throw new AppError("conflict", {
          message: `sealing batch ${batchId} stamped ${stamped} of ${ids.length} events; nothing was sealed, retry`,
        });
      }
      return ids.length;
    });
  }

  /** Fills in the batch of events sealed by range (their batch_id column stays null). */
  async function nameRangeBatches(events: AuditEventView[]): Promise<void> {
    const open = events.filter((e) => e.batchId === null);
    if (open.length === 0) return;
    const ids = open.map((e) => e.id);
    const ranges = await auditRepo.rangeBatchesCovering(db, Math.min(...ids), Math.max(...ids));
    for (const e of open) {
      // Ranges are disjoint and ordered: the first one ending at or after the id is the only candidate.
      let lo = 0;
      let hi = ranges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((ranges[mid] as { lastEventId: number }).lastEventId < e.id) lo = mid + 1;
        else hi = mid;
      }
      const range = ranges[lo];
      if (range && range.firstEventId <= e.id) e.batchId = range.batchId;
    }
  }

  const ledger = {
    /** Appends one event inside the caller's transaction (or on `db` directly). Returns its id. */
    async append(txOrDb: AuditDb, event: AuditEventInput): Promise<number> {
      const [id] = await ledger.appendMany(txOrDb, [event]);
      return id as number;
    },

    /** Appends events in one statement per 1000; all are validated before any is written. */
    async appendMany(txOrDb: AuditDb, events: readonly AuditEventInput[]): Promise<number[]> {
      const now = clock.now();
      const rows = events.map((e, i) =>
        toRow(
          isPlainAuditEvent(e)
            ? e
            : parse(auditEventInputSchema, e, events.length > 1 ? `audit event ${i + 1}` : "the audit event"),
          now,
        ),
      );
      if (rows.length === 0) return [];
      const ids = await auditRepo.insertEvents(txOrDb, rows);
      remember(ids, rows);
      return ids;
    },

    /** Adds allowed decisions to the per-minute count of (service, purpose, category). */
    async recordDecisionCount(input: DecisionCount, txOrDb: AuditDb = db): Promise<void> {
      const c = parse(decisionCountSchema, input, "the decision count");
      const minute = new Date(Math.floor(c.at.getTime() / MINUTE_MS) * MINUTE_MS);
      await auditRepo.addCount(txOrDb, {
        service: c.service,
        purpose: c.purpose,
        category: c.category,
        minute,
        count: c.count,
      });
    },

    /** Counts of one period (for the console; the chain holds them as 'decide-count' events). */
    async counts(from: Date, to: Date) {
      return (await auditRepo.countsBetween(db, from, to)).map((r) => ({
        ...r,
        minute: new Date(r.minute).toISOString(),
      }));
    },

    /**
     * Folds closed minutes of counts into events, then seals every unsealed event into batches.
     * Safe to run from several processes at once (advisory lock). Call it periodically (see
     * startSealing) and on demand.
     */
    async seal(): Promise<SealResult> {
      const foldedCounts = await foldClosedCounts();
      let batches = 0;
      let events = 0;
      for (;;) {
        const n = await sealOneBatch();
        if (n === 0) break;
        batches++;
        events += n;
        if (n < maxBatchEvents) break;
        // Let waiting requests run between batches (with PGlite each batch holds this thread).
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { batches, events, foldedCounts };
    },

    /** Runs seal() every intervalMs (never two at once) until the returned stop() resolves. */
    startSealing(options: { intervalMs: number; onError?: (error: unknown) => void }): {
      stop(): Promise<void>;
    } {
      let running: Promise<unknown> | null = null;
      const timer = setInterval(() => {
        if (running) return;
        running = ledger
          .seal()
          .catch((error: unknown) => options.onError?.(error))
          .finally(() => {
            running = null;
          });
      }, options.intervalMs);
      timer.unref?.();
      return {
        async stop() {
          clearInterval(timer);
          if (running) await running;
        },
      };
    },

    /** Events for the console, newest first, filtered; pass nextCursor back for the next page. */
    async list(input: AuditListInput = {}): Promise<{ events: AuditEventView[]; nextCursor: string | null }> {
      const f = parse(listFilterSchema, input, "the audit filter");
      const filter: AuditListFilter = {
        subjectId: f.subjectId?.toLowerCase(),
        actorId: f.actorId,
        action: f.action,
        category: f.category,
        outcome: f.outcome,
        from: f.from,
        to: f.to,
        beforeId: f.cursor === undefined ? undefined : Number(f.cursor),
        limit: f.limit + 1,
      };
      const rows = await auditRepo.list(db, filter);
      const page = rows.slice(0, f.limit);
      const last = page[page.length - 1];
      const events = page.map(toView);
      await nameRangeBatches(events);
      return { events, nextCursor: rows.length > f.limit && last ? String(last.id) : null };
    },
  };
  return ledger;
}
