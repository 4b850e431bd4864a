import type { PurposeDecision } from "@custos/core";
import { DecisionTable, type PreparedDecision, type PurposeHandle } from "./decision-table.ts";
import {
  type ChangeEvent,
  type DecisionReport,
  type DecisionSchema,
  type HelloEvent,
  PROTOCOL_VERSION,
  type ReportedDecision,
  type ResetEvent,
  type SnapshotPage,
} from "./protocol.ts";
import { SseParser } from "./sse.ts";

/**
 * The Custos client for an app's services (issue 4, section 5): decides in-process from a snapshot
 * of every subject's decisions, kept current by the server's change stream (server-sent events).
 *
 *   const custos = createCustosClient({ baseUrl, serviceKey });
 *   await custos.start();                       // schema + snapshot, then the stream
 *   custos.decide(subjectId, "personalised-ads", ["device"]);  // synchronous, some 100s of ns
 *   await custos.close();                       // last report, stream closed
 *
 * Hot paths: a handle on a purpose, made once (before or after `start()`), answers exactly as
 * `decide` with the purpose resolved once, like a prepared statement; `.categories([...])` also
 * resolves and checks the categories once. Handles follow the client's current table (a new
 * manifest gives a new one) and check staleness as `decide` does.
 *
 *   const ads = custos.purpose("personalised-ads");
 *   ads.decide(subjectId, ["device"]);                 // = custos.decide(subjectId, "personalised-ads", ["device"])
 *   const adsOnDevice = ads.categories(["device"]);
 *   adsOnDevice.decide(subjectId);                     // the same
 *
 * Staleness: `ageMs` is the time since the server was last heard (an event or a heartbeat; the
 * snapshot load before the first). When it exceeds `maxStalenessMs`, or while the client reloads
 * after a gap, `isStale` is true: then `decide` (and the handles' `decide`) throws a
 * `CustosStaleError` (default, option `whenStale: "throw"`) or answers from the stale snapshot
 * (`whenStale: "serve-stale"`), and `decideAsync` asks the server over HTTP instead
 * (POST /api/v1/decisions/batch).
 *
 * Resync: the stream reconnects with backoff and sends `Last-Event-ID`; the server replays the
 * subjects changed since, or answers `reset` when it cannot (restarted, another instance, too far
 * behind), and the client reloads the snapshot. A new manifest (schema hash) reloads everything.
 *
 * Reports: allowed non-sensitive decisions as counts per purpose, category and minute; denials and
 * sensitive decisions one by one; sent every `reportIntervalMs` and on `close()`.
 */

export type CustosClientOptions = {
  /** Where Custos runs, e.g. `https://custos.example.com`. */
  baseUrl: string;
  /** This service's key (sent as `x-custos-service-key`). */
  serviceKey: string;
  /** Node's fetch by default. */
  fetch?: typeof fetch;
  /** Data older than this is stale (default 30,000 ms). Keep it above `heartbeatMs`. */
  maxStalenessMs?: number;
  /** The heartbeat interval asked of the server (default 10,000 ms; 250..60,000). */
  heartbeatMs?: number;
  /** How often decisions are reported (default 10,000 ms). */
  reportIntervalMs?: number;
  /** What `decide` does on stale data: throw `CustosStaleError` (default) or answer anyway. */
  whenStale?: "throw" | "serve-stale";
  /** Reconnect backoff: first delay and cap (defaults 250 ms and 30,000 ms), with jitter. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Snapshot page size (default and maximum 10,000). */
  pageSize?: number;
  /** Denials and sensitive decisions held for reporting at most (default 10,000). */
  maxPendingDecisions?: number;
  /** How long `start()` waits for the snapshot and the stream (default 30,000 ms). */
  startTimeoutMs?: number;
  /** Errors the client recovered from (a dropped stream, a failed report). Default: ignored. */
  onError?: (error: Error) => void;
};

/** Thrown by `decide` when the data is stale and `whenStale` is "throw". */
export class CustosStaleError extends Error {
  readonly code = "custos_stale";
  constructor(readonly ageMs: number) {
    super(
      `The Custos decision snapshot is stale (last heard from the server ${Math.round(ageMs)} ms ago, or resynchronising). Use decideAsync (asks the server over HTTP) or retry when isStale is false.`,
    );
    this.name = "CustosStaleError";
  }
}

/** An HTTP answer from Custos that was not a success. */
export class CustosHttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`Custos ${path} answered ${status}${code ? ` ${code}` : ""}: ${message}`);
    this.name = "CustosHttpError";
  }
}

export type DecideOptions = { channel?: string };

/**
 * `client.purpose(purposeId)`: the purpose resolved once. Its `decide(subjectId, categories?,
 * { channel? })` is exactly `client.decide(subjectId, purposeId, categories, { channel })`: the same
 * shared frozen decision, reported the same way, `CustosStaleError` on stale data the same way, and
 * `undeclared-purpose` on each call for a purpose the manifest does not declare.
 */
export type CustosPurposeHandle = {
  readonly purposeId: string;
  decide(subjectId: string, categories?: readonly string[], decideOptions?: DecideOptions): PurposeDecision;
  /** The categories resolved and checked once too (the list is copied). */
  categories(categories: readonly string[]): CustosPreparedDecision;
};

/**
 * `client.purpose(purposeId).categories(categories)`: `decide(subjectId, { channel? })` is exactly
 * `client.decide(subjectId, purposeId, categories, { channel })`.
 */
export type CustosPreparedDecision = {
  readonly purposeId: string;
  /** The categories (a frozen copy). */
  readonly categories: readonly string[];
  decide(subjectId: string, decideOptions?: DecideOptions): PurposeDecision;
};

export type CustosClientStatus = {
  started: boolean;
  connected: boolean;
  stale: boolean;
  ageMs: number;
  subjects: number;
  schemaHash: string | null;
  manifestVersion: string | null;
  lastEventId: string | null;
  /** Stream connections opened, snapshot loads, and change events applied since start. */
  connects: number;
  reloads: number;
  changes: number;
};

const STREAM_PATH = "/api/v1/decisions/stream";
const MAX_REPORT_DECISIONS = 1000;
const MAX_REPORT_COUNTS = 5000;

export type CustosClient = ReturnType<typeof createCustosClient>;

/** An event id (`<epoch>-<seq>`) as its parts. */
function position(id: string | null | undefined): { epoch: string; seq: number } | undefined {
  const m = id ? /^([0-9a-f]+)-(\d+)$/.exec(id) : null;
  return m ? { epoch: m[1] as string, seq: Number(m[2]) } : undefined;
}

export function createCustosClient(options: CustosClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch;
  const maxStalenessMs = options.maxStalenessMs ?? 30_000;
  const heartbeatMs = Math.min(60_000, Math.max(250, options.heartbeatMs ?? 10_000));
  const reportIntervalMs = options.reportIntervalMs ?? 10_000;
  const whenStale = options.whenStale ?? "throw";
  const initialBackoff = options.reconnectInitialMs ?? 250;
  const maxBackoff = options.reconnectMaxMs ?? 30_000;
  const pageSize = Math.min(10_000, Math.max(1, options.pageSize ?? 10_000));
  const onError = options.onError ?? (() => {});
  const authHeaders = { "x-custos-service-key": options.serviceKey };

  let table: DecisionTable | undefined;
  let lastEventId: string | null = null;
  /** When the server was last heard from (Date.now() ms). */
  let lastContact = 0;
  let resyncing = true;
  /**
   * `decide`'s view of staleness, kept by `touch` and a timer so the hot path reads a boolean
   * instead of the clock (granularity: a quarter of maxStalenessMs, at most 250 ms).
   */
  let staleFlag = true;
  let staleTimer: NodeJS.Timeout | undefined;
  /** After a reconnect: the server's position the replay must reach before the data is fresh. */
  let catchUpTo: { epoch: string; seq: number } | undefined;
  let needReload = true;
  let connected = false;
  let started = false;
  let closed = false;
  let streamAbort: AbortController | undefined;
  /** Aborts a snapshot load in progress when the client closes. */
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  let minuteTimer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const stats = { connects: 0, reloads: 0, changes: 0 };
  /** Drained reports not yet accepted by the server. */
  const unsent: DecisionReport = { counts: [], decisions: [], dropped: 0 };
  let reporting: Promise<void> | undefined;
  let readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  function fail(error: unknown): Error {
    const e = error instanceof Error ? error : new Error(String(error));
    try {
      onError(e);
    } catch {
      // The callback's own failure must not stop the client.
    }
    return e;
  }

  async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await doFetch(`${baseUrl}${path}`, {
      ...init,
      headers: {
        ...authHeaders,
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
    });
    const text = await res.text();
    if (!res.ok) {
      let code: string | undefined;
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = body.error?.code;
        message = body.error?.message ?? message;
      } catch {
        // Not the error model (a proxy page): keep the text.
      }
      throw new CustosHttpError(res.status, path, code, message);
    }
    return JSON.parse(text) as T;
  }

  /** Loads the schema (when it changed) and every snapshot page, then swaps them in at once. */
  async function reload(): Promise<void> {
    const loadStarted = Date.now();
    const signal = stopping.signal;
    const schema = await request<DecisionSchema>("/api/v1/decisions/schema", { signal });
    if (schema.protocol !== PROTOCOL_VERSION)
      throw new Error(
        `Custos speaks decision protocol ${schema.protocol}; this SDK speaks ${PROTOCOL_VERSION}. Upgrade @custos/sdk.`,
      );
    const next =
      table && table.schema.schemaHash === schema.schemaHash
        ? table
        : new DecisionTable(schema, { maxPendingDecisions: options.maxPendingDecisions });
    const entries: SnapshotPage["entries"] = [];
    let at: string | undefined;
    let defaultEntry: SnapshotPage["defaultEntry"] | undefined;
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page: SnapshotPage = await request<SnapshotPage>(`/api/v1/decisions/snapshot${query}`, {
        signal,
      });
      if (page.schemaHash !== schema.schemaHash)
        throw new Error("the manifest changed while the snapshot was loading; loading again");
      at ??= page.at;
      defaultEntry ??= page.defaultEntry;
      for (const e of page.entries) entries.push(e);
      cursor = page.nextCursor;
    } while (cursor);
    next.replaceAll(entries, defaultEntry as SnapshotPage["defaultEntry"]);
    if (table && next !== table) mergeReport(table.drain());
    table = next;
    lastEventId = at ?? null;
    catchUpTo = undefined;
    resyncing = false;
    needReload = false;
    touch(loadStarted);
    stats.reloads += 1;
  }

  /** One stream connection: resolves when it ends (server closed, reset, watchdog, close()). */
  async function streamOnce(): Promise<void> {
    const abort = new AbortController();
    streamAbort = abort;
    const headers: Record<string, string> = { ...authHeaders, accept: "text/event-stream" };
    if (lastEventId) headers["last-event-id"] = lastEventId;
    let lastByte = Date.now();
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastByte > heartbeatMs * 2.5) abort.abort(new Error("no heartbeat from the server"));
      },
      Math.max(100, Math.floor(heartbeatMs / 2)),
    );
    watchdog.unref?.();
    try {
      const res = await doFetch(`${baseUrl}${STREAM_PATH}?heartbeatMs=${heartbeatMs}`, {
        headers,
        signal: abort.signal,
      });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => "");
        throw new CustosHttpError(res.status, STREAM_PATH, undefined, text.slice(0, 300));
      }
      const parser = new SseParser({
        onComment: () => touch(),
        onEvent: (ev) => {
          if (abort.signal.aborted) return;
          if (ev.event === "hello") {
            const hello = JSON.parse(ev.data) as HelloEvent;
            connected = true;
            stats.connects += 1;
            touch();
            if (!table || hello.schemaHash !== table.schema.schemaHash) {
              // A new manifest: reload schema and snapshot before trusting anything.
              setResyncing();
              abort.abort();
              return;
            }
            // Behind the server: stale until the replay (or a reset) arrives.
            const at = position(lastEventId);
            if (!at || at.epoch !== hello.epoch || at.seq < hello.seq) {
              resyncing = true;
              catchUpTo = { epoch: hello.epoch, seq: hello.seq };
            }
            touch();
            if (!resyncing) notifyReady();
          } else if (ev.event === "change") {
            const change = JSON.parse(ev.data) as ChangeEvent;
            table?.apply(change.entries);
            if (ev.id) lastEventId = ev.id;
            const at = position(ev.id);
            if (catchUpTo && at && at.epoch === catchUpTo.epoch && at.seq >= catchUpTo.seq) {
              catchUpTo = undefined;
              if (!needReload) resyncing = false;
            }
            touch();
            if (!resyncing) notifyReady();
            stats.changes += 1;
          } else if (ev.event === "reset") {
            const reset = JSON.parse(ev.data) as ResetEvent;
            setResyncing();
            fail(new Error(`Custos asked for a snapshot reload (${reset.reason})`));
            abort.abort();
          }
        },
      });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        lastByte = Date.now();
        parser.push(decoder.decode(value, { stream: true }));
        if (abort.signal.aborted) break;
      }
      await reader.cancel().catch(() => {});
    } catch (error) {
      if (!abort.signal.aborted || !needReload) throw error;
    } finally {
      clearInterval(watchdog);
      connected = false;
      if (!abort.signal.aborted) abort.abort();
      if (streamAbort === abort) streamAbort = undefined;
    }
  }

  /** The server was heard from (at `at`): data fresh again unless a reload is pending. */
  function touch(at = Date.now()) {
    lastContact = at;
    staleFlag = resyncing;
  }

  /** Changes may have been missed: stale until the snapshot is reloaded. */
  function setResyncing() {
    resyncing = true;
    needReload = true;
    staleFlag = true;
  }

  function notifyReady() {
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const w of waiters) w.resolve();
  }

  async function run(): Promise<void> {
    let backoff = initialBackoff;
    let quickReloads = 0;
    while (!closed) {
      let healthy = false;
      try {
        if (needReload) await reload();
        const before = stats.changes + stats.connects;
        await streamOnce();
        healthy = stats.changes + stats.connects > before;
      } catch (error) {
        if (closed) break;
        const e = fail(error);
        // Before start() resolved, a refusal (bad key, wrong URL) ends start() with that error.
        if (
          e instanceof CustosHttpError &&
          e.status >= 400 &&
          e.status < 500 &&
          e.status !== 429 &&
          !started
        ) {
          for (const w of readyWaiters) w.reject(e);
          readyWaiters = [];
        }
      }
      if (closed) break;
      if (healthy) backoff = initialBackoff;
      // A reset or a new manifest reloads at once, but not in a tight loop.
      if (needReload && quickReloads < 3) {
        quickReloads += 1;
        continue;
      }
      quickReloads = 0;
      const delay = backoff / 2 + Math.random() * (backoff / 2);
      backoff = Math.min(backoff * 2, maxBackoff);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  function mergeReport(r: DecisionReport) {
    for (const c of r.counts) unsent.counts.push(c);
    for (const d of r.decisions) unsent.decisions.push(d);
    unsent.dropped += r.dropped;
    const max = options.maxPendingDecisions ?? 10_000;
    if (unsent.decisions.length > max) {
      const over = unsent.decisions.length - max;
      unsent.decisions.splice(0, over);
      unsent.dropped += over;
    }
    if (unsent.counts.length > 100_000) unsent.counts.splice(0, unsent.counts.length - 100_000);
  }

  const ID = /^[a-z][a-z0-9-]{0,63}$/;
  /** What the server accepts as a subject id (RFC 9562 versions 1-8, nil and max). */
  const UUID =
    /^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;
  /** The server audits uuids and kebab-case ids; other values are reported as `invalid-id`. */
  function sanitised(d: ReportedDecision): ReportedDecision | undefined {
    if (!UUID.test(d.subjectId)) return undefined;
    const fix = (x: string) => (ID.test(x) ? x : "invalid-id");
    const out: ReportedDecision = {
      ...d,
      subjectId: d.subjectId.toLowerCase(),
      purposeId: fix(d.purposeId),
      categories: d.categories.map(fix),
    };
    if (d.channel !== undefined) out.channel = fix(d.channel);
    return out;
  }

  /** Sends everything decided so far; what the server does not accept is kept for the next try. */
  async function flush(): Promise<void> {
    if (reporting) return reporting;
    reporting = (async () => {
      if (table) mergeReport(table.drain());
      while (unsent.counts.length > 0 || unsent.decisions.length > 0 || unsent.dropped > 0) {
        const counts = unsent.counts.slice(0, MAX_REPORT_COUNTS);
        const picked = unsent.decisions.slice(0, MAX_REPORT_DECISIONS);
        const decisions: ReportedDecision[] = [];
        let invalid = 0;
        for (const d of picked) {
          const s = sanitised(d);
          if (s) decisions.push(s);
          else invalid += 1;
        }
        const dropped = unsent.dropped + invalid;
        try {
          await request("/api/v1/decisions/report", {
            method: "POST",
            body: JSON.stringify({ counts, decisions, dropped }),
          });
        } catch (error) {
          // A report the server refuses as invalid (e.g. decisions over a day old after a long
          // outage) would be refused again: it is given up, and said so. Anything else is retried.
          if (!(error instanceof CustosHttpError && error.status === 400)) throw error;
          fail(error);
        }
        unsent.counts.splice(0, counts.length);
        unsent.decisions.splice(0, picked.length);
        unsent.dropped = 0;
      }
    })()
      .catch((error) => {
        fail(error);
      })
      .finally(() => {
        reporting = undefined;
      });
    return reporting;
  }

  /**
   * The table `decide` answers from: throws before `start()`, and on stale data unless `whenStale`
   * is "serve-stale" (the flag first: the hot path reads a boolean, not the clock).
   */
  function readable(): DecisionTable {
    const t = table;
    if (t === undefined) throw new Error("call and await start() before decide()");
    if (staleFlag && whenStale === "throw" && client.isStale) throw new CustosStaleError(client.ageMs);
    return t;
  }

  /** At every minute boundary, closes the minute's counts (reports count per minute). */
  function scheduleMinute() {
    const now = Date.now();
    minuteTimer = setTimeout(
      () => {
        if (table) mergeReport(table.drain());
        if (!closed) scheduleMinute();
      },
      60_000 - (now % 60_000) + 5,
    );
    minuteTimer.unref?.();
  }

  const client = {
    /** Loads the schema and the snapshot, opens the stream; resolves once the SDK is up to date. */
    async start(): Promise<void> {
      if (started || loop) throw new Error("this Custos client was already started");
      const ready = new Promise<void>((resolve, reject) => {
        readyWaiters.push({ resolve, reject });
      });
      loop = run();
      const timeoutMs = options.startTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          ready,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `Custos at ${baseUrl} did not answer with a snapshot and a stream within ${timeoutMs} ms; check baseUrl and the service key.`,
                  ),
                ),
              timeoutMs,
            );
          }),
        ]);
      } catch (error) {
        await client.close();
        throw error;
      } finally {
        clearTimeout(timer);
      }
      started = true;
      staleTimer = setInterval(
        () => {
          staleFlag = client.isStale;
        },
        Math.max(10, Math.min(250, maxStalenessMs / 4)),
      );
      staleTimer.unref?.();
      reportTimer = setInterval(() => void flush(), reportIntervalMs);
      reportTimer.unref?.();
      scheduleMinute();
    },

    /** Stops the stream and the timers and sends the last report. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(reportTimer);
      clearInterval(staleTimer);
      clearTimeout(minuteTimer);
      streamAbort?.abort();
      stopping.abort();
      wake?.();
      await loop?.catch(() => {});
      if (started) await flush();
    },

    /**
     * Synchronous in-process decision, the same answer as the server's `decide()`. Throws
     * `CustosStaleError` on stale data unless `whenStale` is "serve-stale". The returned object is
     * shared and frozen.
     */
    decide(
      subjectId: string,
      purposeId: string,
      categories?: readonly string[],
      decideOptions?: DecideOptions,
    ): PurposeDecision {
      return readable().decide(subjectId, purposeId, categories, decideOptions?.channel);
    },

    /**
     * A handle on `purposeId` for a hot path: `decide(subjectId, categories?, { channel? })` answers
     * exactly as `decide(subjectId, purposeId, categories, { channel })`, without looking the purpose
     * up on each call; `.categories([...])` resolves the categories once too. Can be made before
     * `start()`; follows the current table when a new manifest replaces it.
     */
    purpose(purposeId: string): CustosPurposeHandle {
      // The table's handle, made again when the table changes (a new schema).
      let forTable: DecisionTable | undefined;
      let handle: PurposeHandle | undefined;
      return {
        purposeId,
        decide(subjectId, categories, decideOptions) {
          const t = readable();
          if (t !== forTable) {
            handle = t.purpose(purposeId);
            forTable = t;
          }
          return (handle as PurposeHandle).decide(subjectId, categories, decideOptions?.channel);
        },
        categories(categories) {
          const list: readonly string[] = Object.freeze([...categories]);
          let preparedFor: DecisionTable | undefined;
          let prepared: PreparedDecision | undefined;
          return {
            purposeId,
            categories: list,
            decide(subjectId, decideOptions) {
              const t = readable();
              if (t !== preparedFor) {
                prepared = t.purpose(purposeId).categories(list);
                preparedFor = t;
              }
              return (prepared as PreparedDecision).decide(subjectId, decideOptions?.channel);
            },
          };
        },
      };
    },

    /** Like `decide`, but asks the server over HTTP when the snapshot is stale. */
    async decideAsync(
      subjectId: string,
      purposeId: string,
      categories: readonly string[] = [],
      decideOptions?: DecideOptions,
    ): Promise<PurposeDecision> {
      if (table && !client.isStale)
        return table.decide(subjectId, purposeId, categories, decideOptions?.channel);
      const item: Record<string, unknown> = { subjectId, purposeId, categories: [...categories] };
      if (decideOptions?.channel !== undefined) item.channel = decideOptions.channel;
      const res = await request<{ decisions: PurposeDecision[] }>("/api/v1/decisions/batch", {
        method: "POST",
        body: JSON.stringify({ items: [item] }),
      });
      return res.decisions[0] as PurposeDecision;
    },

    /** Milliseconds since the server was last heard from (event, heartbeat, or snapshot load). */
    get ageMs(): number {
      return table ? Date.now() - lastContact : Number.POSITIVE_INFINITY;
    },

    /** Whether decisions should not be taken from the snapshot (too old, or resynchronising). */
    get isStale(): boolean {
      return !table || resyncing || Date.now() - lastContact > maxStalenessMs;
    },

    /** Sends the pending report now. */
    flushReports(): Promise<void> {
      return flush();
    },

    /** What the client knows, for health checks and metrics. */
    status(): CustosClientStatus {
      return {
        started,
        connected,
        stale: client.isStale,
        ageMs: client.ageMs,
        subjects: table?.size ?? 0,
        schemaHash: table?.schema.schemaHash ?? null,
        manifestVersion: table?.schema.manifestVersion ?? null,
        lastEventId,
        ...stats,
      };
    },
  };
  return client;
}
