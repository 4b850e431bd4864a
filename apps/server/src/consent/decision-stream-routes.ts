import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import {
  AppError,
  type Clock,
  canonicalJson,
  DECISION_REASONS,
  type DecisionReason,
  decide,
  type SubjectConsentState,
} from "@custos/core";
import type { Manifest } from "@custos/manifest";
import { type DecisionSchema, PROTOCOL_VERSION, type WireEntry } from "@custos/sdk";
import { type AuditEventInput, type AuditLedger, createConsentRepo, type DB } from "@custos/store";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { type Kysely, sql } from "kysely";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import { bridgeConsentChanges, type ConsentChange, type ConsentChanges } from "./consent-changes.ts";
import { type ConsentService, decisionAuditEvent } from "./consent-service.ts";
import { type ServiceKey, serviceGuard } from "./service-auth.ts";

/**
 * The server side of the SDK (issue 4, section 5; DESIGN.md "Decisions"): services keep a snapshot
 * of every subject's purpose-level decisions in memory and decide in-process, fed by a change
 * stream of server-sent events. Four routes (service key):
 *
 * - `GET /api/v1/decisions/schema`: what the SDK needs to decide locally (purposes in bit order,
 *   categories, permissions, marketing channels) and a `schemaHash`.
 * - `GET /api/v1/decisions/snapshot`: one compact entry per subject with consent state, paged.
 * - `GET /api/v1/decisions/stream`: `text/event-stream` of changed entries, with replay after a gap.
 * - `POST /api/v1/decisions/report`: the SDK's own decisions, audited like the server's.
 *
 * Masks are lower-case hexadecimal strings without a prefix: bit i (least significant = 0) is
 * element i of the schema's list (`BigInt("0x" + mask)`); "0" is the empty mask. An entry is
 * `{ s, a, d?, p?, m? }`: s the subject id; a the purposes `decide()` allows with no categories
 * (consent, setting and restriction level); d the denied purposes by reason for every reason other
 * than `consent-missing` (the default for a denied purpose); p the switched-off device permissions
 * (CON-10); m the unsubscribed marketing channels (CON-9). The SDK applies p and m per request
 * exactly as `decide()` does. Details in docs/CONTRACTS.md ("SDK and decision stream").
 */

export const SNAPSHOT_PAGE_MAX = 10_000;
/** A change touching more subjects than this is not streamed: the SDKs reload their snapshot. */
export const MAX_STREAMED_SUBJECTS = 5_000;
export const MAX_REPORTED_DECISIONS = 1_000;
export const MAX_REPORTED_COUNTS = 5_000;
const DEFAULT_HEARTBEAT_MS = 15_000;
/** A stream whose client does not read is dropped when this much is waiting to be sent. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Reported decisions may be this old or this far ahead of the server's clock. */
const REPORT_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const REPORT_MAX_AHEAD_MS = 5 * 60 * 1000;

/** The decision schema of a manifest: its order is the bit order of every mask. */
export function decisionSchemaOf(manifest: Manifest, manifestHash: string): DecisionSchema {
  const body = {
    protocol: PROTOCOL_VERSION,
    manifestVersion: manifest.version,
    purposes: manifest.purposes.map((p) => ({
      id: p.id,
      legalBasis: p.legalBasis,
      consent: p.consent,
      function: p.function,
      categories: [...p.categories],
      setting: p.setting ?? null,
      permissions: [...(p.permissions ?? [])],
      features: [...(p.features ?? [])],
    })),
    categories: manifest.categories.map((c) => ({ id: c.id, sensitivity: c.sensitivity })),
    permissions: manifest.permissions.map((p) => ({ id: p.id, categories: [...p.categories] })),
    marketingChannels: manifest.marketingChannels.map((c) => c.id),
  };
  const schemaHash = createHash("sha256").update(canonicalJson(body)).digest("hex");
  return { ...body, manifestHash, schemaHash };
}

/** Hex of a bit set (bit i = element i); "0" when empty. */
export function maskHex(bits: readonly number[]): string {
  if (bits.length === 0) return "0";
  const words = new Uint32Array((Math.max(...bits) >> 5) + 1);
  for (const b of bits) words[b >> 5] = ((words[b >> 5] as number) | (1 << (b & 31))) >>> 0;
  let hex = "";
  for (let w = words.length - 1; w >= 0; w--) {
    const part = (words[w] as number).toString(16);
    hex += hex === "" ? part : part.padStart(8, "0");
  }
  return hex;
}

/** Whether a switch entry is off: only an explicit refusal or withdrawal (as `isSwitchedOff`). */
function isOff(entry: { state: string } | undefined): boolean {
  return entry?.state === "refused" || entry?.state === "withdrawn";
}

/**
 * Computes compact entries from consent states with `decide()` (categories [], no channel), once
 * per distinct state: most subjects share a handful of states, and `decide()` hashes purpose
 * definitions on every call.
 */
export function createEntryEncoder(manifest: Manifest) {
  const permissionIds = manifest.permissions.map((p) => p.id);
  const channelIds = manifest.marketingChannels.map((c) => c.id);
  const memo = new Map<string, WireEntry>();
  const MEMO_MAX = 10_000;

  function compute(state: SubjectConsentState | undefined): WireEntry {
    const allowed: number[] = [];
    const denied = new Map<DecisionReason, number[]>();
    manifest.purposes.forEach((p, i) => {
      const d = decide(manifest, state, { purposeId: p.id, categories: [] });
      if (d.allow) allowed.push(i);
      else if (d.reason !== "consent-missing") denied.set(d.reason, [...(denied.get(d.reason) ?? []), i]);
    });
    const entry: WireEntry = { a: maskHex(allowed) };
    if (denied.size > 0) {
      const d: Partial<Record<DecisionReason, string>> = {};
      for (const [reason, bits] of denied) d[reason] = maskHex(bits);
      entry.d = d;
    }
    const permissionsOff = permissionIds.flatMap((id, i) => (isOff(state?.permissions?.[id]) ? [i] : []));
    if (permissionsOff.length) entry.p = maskHex(permissionsOff);
    const unsubscribed = channelIds.flatMap((id, i) => (isOff(state?.marketing?.[id]) ? [i] : []));
    if (unsubscribed.length) entry.m = maskHex(unsubscribed);
    return entry;
  }

  function keyOf(state: SubjectConsentState | undefined): string {
    if (!state) return "";
    const parts: string[] = [];
    const add = (kind: string, record: Readonly<Record<string, { state: string; fingerprint: string }>>) => {
      for (const id of Object.keys(record).sort()) {
        const e = record[id] as { state: string; fingerprint: string };
        parts.push(`${kind}:${id}:${e.state}:${e.fingerprint}`);
      }
    };
    add("u", state.purposes);
    if (state.policy) parts.push(`policy:${state.policy.state}:${state.policy.fingerprint}`);
    if (state.settings) add("s", state.settings);
    if (state.marketing) add("m", state.marketing);
    if (state.permissions) add("p", state.permissions);
    return parts.join("|");
  }

  return {
    /** The entry of a subject with no consent state. */
    defaultEntry: compute(undefined),
    entry(subjectId: string, state: SubjectConsentState | undefined): WireEntry {
      const key = keyOf(state);
      let shared = memo.get(key);
      if (!shared) {
        shared = compute(state);
        if (memo.size >= MEMO_MAX) memo.clear();
        memo.set(key, shared);
      }
      return { s: subjectId, ...shared };
    },
  };
}

const consentRepo = createConsentRepo();

type Deps = {
  db: Kysely<DB>;
  consent: Pick<ConsentService, "statesOf" | "manifest">;
  changes: ConsentChanges;
  audit: AuditLedger;
  clock: Clock;
  serviceKeys: readonly ServiceKey[];
  manifestHash: string;
  /** A PostgreSQL URL: carry changes between server instances with LISTEN/NOTIFY. */
  listenUrl?: string | undefined;
};

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, "ids are lower-case kebab-case (e.g. location-services)");
const Hex = z.string().regex(/^[0-9a-f]{1,256}$/);
const Entry = z.object({
  s: z.string().optional(),
  a: Hex,
  d: z.partialRecord(z.enum(DECISION_REASONS), Hex).optional(),
  p: Hex.optional(),
  m: Hex.optional(),
});
const SchemaOut = z.object({
  protocol: z.number().int(),
  manifestVersion: z.string(),
  manifestHash: z.string(),
  schemaHash: z.string(),
  purposes: z.array(
    z.object({
      id: z.string(),
      legalBasis: z.string(),
      consent: z.enum(["policy", "separate", "none"]),
      function: z.enum(["basic", "extended"]),
      categories: z.array(z.string()),
      setting: z.string().nullable(),
      permissions: z.array(z.string()),
      features: z.array(z.string()),
    }),
  ),
  categories: z.array(z.object({ id: z.string(), sensitivity: z.enum(["general", "sensitive"]) })),
  permissions: z.array(z.object({ id: z.string(), categories: z.array(z.string()) })),
  marketingChannels: z.array(z.string()),
});
const SnapshotOut = z.object({
  schemaHash: z.string(),
  at: z.string().describe("The stream event id this snapshot includes every change up to (`<epoch>-<seq>`)."),
  defaultEntry: Entry.describe("The entry of a subject with no consent state (absent from `entries`)."),
  entries: z.array(Entry),
  nextCursor: z.string().nullable(),
});
const ReportBody = z.strictObject({
  counts: z
    .array(
      z.strictObject({
        purposeId: id,
        category: id.describe("A category id, or `none` for a decision without categories."),
        minute: z.iso.datetime().describe("Any time in the minute the decisions were taken."),
        count: z.number().int().min(1).max(1_000_000_000),
      }),
    )
    .max(MAX_REPORTED_COUNTS, `at most ${MAX_REPORTED_COUNTS} counts per report: send several reports`)
    .default([]),
  decisions: z
    .array(
      z.strictObject({
        subjectId: z.uuid(),
        purposeId: id,
        categories: z.array(id).max(50).default([]),
        channel: id.optional(),
        allow: z.boolean(),
        reason: z.enum(DECISION_REASONS),
        basis: id.nullable(),
        sensitive: z.boolean(),
        at: z.iso.datetime(),
      }),
    )
    .max(
      MAX_REPORTED_DECISIONS,
      `at most ${MAX_REPORTED_DECISIONS} decisions per report: send several reports`,
    )
    .default([]),
  dropped: z
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .default(0)
    .describe("Decisions the SDK could not keep for reporting (its buffer was full)."),
});

/** One connected stream. */
type Stream = {
  raw: ServerResponse;
  /** Every change up to this sequence number is already reflected on the client. */
  through: number;
  /** While a replay is being computed, live frames wait here (in order). */
  waiting: { seq: number; frame: string }[] | null;
  heartbeat: NodeJS.Timeout;
};

/** Decision schema, snapshot, change stream and SDK reports (tag "decisions"). */
export function registerDecisionStreamRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { consent, changes, db, audit, clock } = deps;
  const manifest = consent.manifest;
  const schema = decisionSchemaOf(manifest, deps.manifestHash);
  const encoder = createEntryEncoder(manifest);
  const requireService = serviceGuard(deps.serviceKeys);
  const streams = new Set<Stream>();
  const eventId = (seq: number) => `${changes.epoch}-${seq}`;

  async function entriesOf(subjectIds: readonly string[]): Promise<WireEntry[]> {
    const out: WireEntry[] = [];
    for (let i = 0; i < subjectIds.length; i += SNAPSHOT_PAGE_MAX) {
      const ids = subjectIds.slice(i, i + SNAPSHOT_PAGE_MAX);
      const states = await consent.statesOf(ids);
      for (const s of ids) out.push(encoder.entry(s, states.get(s)));
    }
    return out;
  }

  const changeFrame = (seq: number, entries: WireEntry[]) =>
    `event: change\nid: ${eventId(seq)}\ndata: ${JSON.stringify({ entries })}\n\n`;

  function write(stream: Stream, text: string) {
    if (stream.raw.destroyed || stream.raw.writableEnded) return;
    stream.raw.write(text);
    if (stream.raw.writableLength > MAX_BUFFERED_BYTES) stream.raw.destroy();
  }

  function end(stream: Stream, finalFrame?: string) {
    clearInterval(stream.heartbeat);
    streams.delete(stream);
    if (!stream.raw.writableEnded && !stream.raw.destroyed) stream.raw.end(finalFrame ?? "");
  }

  const resetFrame = (reason: string) =>
    `event: reset\ndata: ${JSON.stringify({ reason, schemaHash: schema.schemaHash })}\n\n`;

  function deliver(stream: Stream, seq: number, frame: string) {
    if (stream.waiting) stream.waiting.push({ seq, frame });
    else if (seq > stream.through) {
      write(stream, frame);
      stream.through = seq;
    }
  }

  // Live changes: computed once for every connected stream, in order. Changes that arrive while an
  // event is being computed are coalesced into the next one (its id is the newest change's), so a
  // burst costs one state read, not one per change.
  const pending = new Set<string>();
  let pendingSeq = 0;
  let computing = false;
  async function drain(): Promise<void> {
    computing = true;
    try {
      while (pending.size > 0) {
        const seq = pendingSeq;
        const ids = [...pending];
        pending.clear();
        if (streams.size === 0) continue;
        if (ids.length > MAX_STREAMED_SUBJECTS) {
          for (const s of [...streams]) end(s, resetFrame("too-many-changes"));
          continue;
        }
        const frame = changeFrame(seq, await entriesOf(ids));
        for (const s of streams) deliver(s, seq, frame);
      }
    } catch (err) {
      pending.clear();
      app.log.warn({ err }, "decision stream: could not compute changed entries; streams reset");
      for (const s of [...streams]) end(s, resetFrame("error"));
    } finally {
      computing = false;
    }
  }
  const unsubscribe = changes.subscribe((change: ConsentChange) => {
    if (streams.size === 0) return;
    for (const id of change.subjectIds) pending.add(id);
    pendingSeq = change.seq;
    if (!computing) void drain();
  });
  const unsubscribeGap = changes.onGap(() => {
    for (const s of [...streams]) end(s, resetFrame("gap"));
  });

  const bridge = deps.listenUrl
    ? bridgeConsentChanges(changes, {
        url: deps.listenUrl,
        notify: async (channel, payload) => {
          await sql`select pg_notify(${channel}, ${payload})`.execute(db);
        },
        onError: (err) => app.log.warn({ err }, "decision stream: PostgreSQL change bridge failed; retrying"),
      })
    : undefined;
  if (bridge)
    app.addHook("onReady", async () => {
      await bridge.ready.catch(() => {});
    });

  // Streams end before the server stops listening, so close() does not wait for them.
  app.addHook("preClose", async () => {
    for (const s of [...streams]) end(s);
  });
  app.addHook("onClose", async () => {
    unsubscribe();
    unsubscribeGap();
    await bridge?.close();
  });

  r.get(
    "/api/v1/decisions/schema",
    {
      schema: {
        tags: ["decisions"],
        operationId: "getDecisionSchema",
        summary: "What an SDK needs to decide in-process (services only)",
        description:
          "Purposes in bit order with categories, legal basis, consent kind, setting, permissions and features; categories with sensitivity; device permissions; marketing channels. `schemaHash` changes with the manifest.",
        response: { 200: SchemaOut, 401: ErrorBody, ...errorResponses },
      },
    },
    async (request) => {
      requireService(request);
      return schema;
    },
  );

  r.get(
    "/api/v1/decisions/snapshot",
    {
      schema: {
        tags: ["decisions"],
        operationId: "getDecisionSnapshot",
        summary: "Every subject's purpose decisions as compact entries, paged (services only)",
        description:
          "One entry per subject with consent state, in subject id order. Follow `nextCursor` until it is null, then open the stream with `Last-Event-ID` = the FIRST page's `at`: later pages are at least as new.",
        querystring: z.strictObject({
          cursor: z.uuid().optional().describe("The `nextCursor` of the previous page."),
          limit: z.coerce.number().int().min(1).max(SNAPSHOT_PAGE_MAX).default(SNAPSHOT_PAGE_MAX),
        }),
        response: { 200: SnapshotOut, 401: ErrorBody, ...errorResponses },
      },
    },
    async (request) => {
      requireService(request);
      // Read before the states: every change up to `at` committed before they are read.
      const at = eventId(changes.seq);
      const { cursor, limit } = request.query;
      const ids = await consentRepo.subjectIdsAfter(db, cursor?.toLowerCase(), limit);
      return {
        schemaHash: schema.schemaHash,
        at,
        defaultEntry: encoder.defaultEntry,
        entries: await entriesOf(ids),
        nextCursor: ids.length === limit ? (ids[ids.length - 1] ?? null) : null,
      };
    },
  );

  r.get(
    "/api/v1/decisions/stream",
    {
      schema: {
        tags: ["decisions"],
        operationId: "streamDecisionChanges",
        summary: "Server-sent events of changed subject entries (services only)",
        description:
          "`event: hello` (epoch, seq, schemaHash, heartbeatMs) on connect; `event: change` with `id: <epoch>-<seq>` and `{ entries }`; `event: reset` (then the stream ends) when the `Last-Event-ID` cannot be replayed: reload the snapshot. A comment line every `heartbeatMs`.",
        querystring: z.strictObject({
          heartbeatMs: z.coerce
            .number()
            .int()
            .min(250)
            .max(60_000)
            .default(DEFAULT_HEARTBEAT_MS)
            .describe("How often the server sends a heartbeat comment."),
        }),
        headers: z.object({
          "last-event-id": z
            .string()
            .max(100)
            .optional()
            .describe(
              "The id of the last event applied (or a snapshot's `at`): the missed changes are replayed.",
            ),
        }),
        response: {
          200: {
            description: "The event stream",
            content: { "text/event-stream": { schema: z.string() } },
          },
          401: ErrorBody,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      requireService(request);
      const heartbeatMs = request.query.heartbeatMs;
      const lastEventId = request.headers["last-event-id"];
      reply.hijack();
      const raw = reply.raw;
      request.raw.socket.setNoDelay(true);
      request.raw.socket.setTimeout(0);
      raw.writeHead(200, {
        ...headersOf(reply.getHeaders()),
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
        connection: "keep-alive",
      });
      const stream: Stream = {
        raw,
        through: changes.seq,
        waiting: null,
        heartbeat: setInterval(() => write(stream, ": heartbeat\n\n"), heartbeatMs),
      };
      stream.heartbeat.unref();
      streams.add(stream);
      raw.on("close", () => end(stream));
      write(
        stream,
        `retry: 1000\nevent: hello\ndata: ${JSON.stringify({
          epoch: changes.epoch,
          seq: changes.seq,
          schemaHash: schema.schemaHash,
          heartbeatMs,
        })}\n\n`,
      );
      if (lastEventId === undefined) return;
      const replay = replayFrom(lastEventId);
      if (typeof replay === "string") {
        end(stream, resetFrame(replay));
        return;
      }
      stream.through = replay.after;
      if (replay.subjectIds.length === 0) return;
      stream.waiting = [];
      try {
        const entries = await entriesOf(replay.subjectIds);
        write(stream, changeFrame(replay.seq, entries));
        stream.through = replay.seq;
        const waiting = stream.waiting;
        stream.waiting = null;
        for (const w of waiting) deliver(stream, w.seq, w.frame);
      } catch (err) {
        request.log.warn({ err }, "decision stream: replay failed; stream reset");
        end(stream, resetFrame("error"));
      }
    },
  );

  /** The subjects to replay after a `Last-Event-ID`, or why the SDK must reload instead. */
  function replayFrom(lastEventId: string) {
    const match = /^([0-9a-f]{1,40})-(\d{1,15})$/.exec(lastEventId.trim());
    if (!match || match[1] !== changes.epoch) return "unknown-event-id";
    const after = Number(match[2]);
    const since = changes.since(after);
    if (!since) return after > changes.seq ? "unknown-event-id" : "too-far-behind";
    if (since.subjectIds.length > MAX_STREAMED_SUBJECTS) return "too-many-changes";
    return { after, ...since };
  }

  r.post(
    "/api/v1/decisions/report",
    {
      schema: {
        tags: ["decisions"],
        operationId: "reportSdkDecisions",
        summary: "Record the decisions an SDK took in-process (services only)",
        description:
          "Allowed decisions on non-sensitive categories as counts per purpose, category and minute; denials and decisions on sensitive categories one by one. Audited exactly like the server's own decisions.",
        body: ReportBody,
        response: {
          200: z.object({ recorded: z.number().int(), counted: z.number().int() }),
          401: ErrorBody,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { service } = requireService(request);
      const { counts, decisions, dropped } = request.body;
      const now = clock.now().getTime();
      const timeOf = (iso: string, what: string) => {
        const t = Date.parse(iso);
        if (t < now - REPORT_MAX_AGE_MS || t > now + REPORT_MAX_AHEAD_MS)
          throw new AppError("validation_failed", {
            message: `A reported ${what} time (${iso}) is more than a day old or in the future. Report decisions as they are taken, with the SDK host's clock set right.`,
          });
        return new Date(t);
      };
      const events: AuditEventInput[] = decisions.map((d) =>
        decisionAuditEvent(
          service,
          d,
          d,
          { occurredAt: timeOf(d.at, "decision"), requestId: request.id },
          { via: "sdk", ...(d.channel ? { channel: d.channel } : {}) },
        ),
      );
      if (dropped > 0)
        events.push({
          actorType: "service",
          actorId: service,
          action: "decide",
          outcome: "error",
          reason: "sdk-report-buffer-full",
          requestId: request.id,
          details: { dropped, via: "sdk" },
        });
      const merged = new Map<string, { purpose: string; category: string; at: Date; count: number }>();
      for (const c of counts) {
        const at = timeOf(c.minute, "count");
        const minute = Math.floor(at.getTime() / 60_000);
        const key = `${c.purposeId}\u0000${c.category}\u0000${minute}`;
        const m = merged.get(key) ?? { purpose: c.purposeId, category: c.category, at, count: 0 };
        m.count += c.count;
        merged.set(key, m);
      }
      await db.transaction().execute(async (tx) => {
        await audit.appendMany(tx, events);
        for (const c of merged.values()) await audit.recordDecisionCount({ service, ...c }, tx);
      });
      return { recorded: decisions.length, counted: counts.reduce((n, c) => n + c.count, 0) };
    },
  );
}

/** Reply headers set by hooks (request id), as `writeHead` takes them. */
function headersOf(headers: Record<string, unknown>) {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === "string" || Array.isArray(value)) out[name] = value as string | string[];
    else if (typeof value === "number") out[name] = String(value);
  }
  return out;
}
