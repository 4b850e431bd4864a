import {
  AppError,
  type Clock,
  decide,
  iso27560Records,
  kantaraReceipts,
  nowMsOf,
  type PurposeDecision,
  policyFingerprint,
  purposeConsentView,
  purposeFingerprint,
  type ReceiptEvent,
  type SubjectConsentState,
  switchFingerprint,
} from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import type { DB } from "@custos/store";
import { type AuditEventInput, type AuditLedger, type ConsentLedger, POLICY_TARGET_ID } from "@custos/store";
import type { Kysely } from "kysely";
import type { ConsentChanges } from "./consent-changes.ts";

/**
 * Consent and decisions (CON-1..6, CON-12..14, MAN-5). The ledger holds the events; this service
 * checks them against the manifest in force, renders views and receipts, and decides for services
 * (auditing every denial and sensitive decision one by one, and the other allows as counts).
 */

export type ConsentMethodInput = "web" | "app" | "api" | "banner" | "import";

export type RecordConsentInput = {
  /** A purpose id, or undefined with `policy: true` for the policy acceptance. */
  purposeId?: string | undefined;
  policy?: boolean | undefined;
  state: "given" | "refused" | "withdrawn";
  noticeVersion: string;
  language: Language;
  method: ConsentMethodInput;
};

export type Actor =
  | { actor: "self" }
  | { actor: "guardian"; actorId: string }
  | { actor: "staff"; actorId: string; reason: string };

export type DecisionItem = {
  subjectId: string;
  purposeId: string;
  categories: string[];
  /** For a marketing purpose: the channel (CON-9). */
  channel?: string | undefined;
};

/** The kinds of switch kept in the consent ledger besides purposes and the policy (CON-8..10). */
export type SwitchKind = "setting" | "marketing" | "permission";

export type RecordSwitchInput = {
  kind: SwitchKind;
  /** A setting (personalised-content, personalised-ads), a marketing channel or a device permission. */
  id: string;
  /** `given` switches on (or reports a grant); `withdrawn` or `refused` switches off. */
  state: "given" | "refused" | "withdrawn";
  language: Language;
  method: ConsentMethodInput | "sms" | "email";
};

type Deps = {
  db: Kysely<DB>;
  manifest: Manifest;
  ledger: ConsentLedger;
  audit: AuditLedger;
  clock: Clock;
  publicUrl: string;
  /**
   * Where committed changes are published (the decision stream, and this service's own state cache,
   * which subscribes to it). Without it the state cache stays off: nothing would tell it of changes.
   */
  changes?: ConsentChanges | undefined;
  /** The decision state cache; off when absent, when `maxSubjects` is 0 or without `changes`. */
  cache?: DecisionCacheOptions | undefined;
  /** How often the per-minute allow counts are written to the audit ledger, in ms (default 5000). */
  countFlushMs?: number | undefined;
  /**
   * The longest a denial waits in memory before its audit event is written, in ms (default 50).
   * Nothing is processed on a denial, so its evidence need not hold up the answer; a clean close
   * writes what is left. Sensitive allows are always committed before the answer.
   */
  denialFlushMs?: number | undefined;
  /** Told of a failed background write (a count flush); the counts are kept and retried. */
  onBackgroundError?: ((error: unknown) => void) | undefined;
};

export type DecisionCacheOptions = {
  /** At most this many subjects are kept (least recently used go first, by the CLOCK rule); 0 turns the cache off. */
  maxSubjects: number;
  /**
   * The longest a cached state is used, in ms: the safety net should a change notification from
   * another server instance be lost. Changes through this instance invalidate at once.
   */
  ttlMs: number;
};

/** Decisions memoised per cached subject state (decide is pure in manifest, state and request). */
const MEMO_PER_SUBJECT = 16;
const MINUTE_MS = 60_000;
/** Queued denials written in one go at most (the rest wait for the next write). */
const DENIAL_BATCH = 1000;
/**
 * How long a denial's audit event waits in memory for others to be written with (ADR 0009). Each
 * write is one statement on the database's thread, which shares the machine with the request
 * thread: at 250 ms a steady stream of denials is 4 writes a second instead of 20 at 50 ms, which
 * gave the single-decision peak about 8% more on the 2-core machine.
 */
const DENIAL_FLUSH_MS = 250;
/** Subjects read in one query at most (a batch request holds up to 1,000). */
const MAX_READ_BATCH = 2000;
/**
 * Refresh ahead: a cached state read again after this share of the TTL (plus up to
 * REFRESH_JITTER of it, so states cached together do not all refresh together) is read again in
 * the background, while it is still answered from the cache.
 */
const REFRESH_AFTER = 0.5;
const REFRESH_JITTER = 0.25;
/** Background refreshes: read every REFRESH_EVERY_MS, at most REFRESH_BATCH subjects a query. */
const REFRESH_EVERY_MS = 500;
const REFRESH_BATCH = 500;

/**
 * Subject ids are UUIDs, which PostgreSQL stores and returns in lower case: the cache (and the
 * states read for it) use that form, so `ABC…` and `abc…` are one subject and invalidate together.
 */
const UPPER = /[A-F]/;
function subjectKey(subjectId: string): string {
  return UPPER.test(subjectId) ? subjectId.toLowerCase() : subjectId;
}

type CacheEntry = {
  state: SubjectConsentState;
  expiresAt: number;
  /** When a hit queues a background read of the state (Infinity once queued). */
  refreshAt: number;
  /** Decisions by purpose, then by categories (and channel); at most MEMO_PER_SUBJECT. */
  memo: Map<string, Map<string, PurposeDecision>> | undefined;
  memoSize: number;
  /** Read since it was last passed over for eviction (the CLOCK approximation of LRU). */
  used: boolean;
};

/** A read of states in flight: subjects invalidated meanwhile must not be cached from it. */
type PendingRead = { ids: ReadonlySet<string>; stale: Set<string> };

type DecisionCount = { service: string; purpose: string; category: string; minute: number; count: number };

/**
 * Allowed-decision counts by service and minute, purpose and category. Nested maps keyed by the
 * request's own strings: no key is built per decision (a batch counts up to 1,000 of them).
 */
class CountTable {
  readonly #groups = new Map<string, Map<string, Map<string, DecisionCount>>>();
  size = 0;

  /** Adds `n` to a count; `group` names its service and minute (see countGroup). */
  add(group: string, service: string, purpose: string, category: string, minute: number, n = 1): void {
    let byPurpose = this.#groups.get(group);
    if (byPurpose === undefined) {
      byPurpose = new Map();
      this.#groups.set(group, byPurpose);
    }
    let byCategory = byPurpose.get(purpose);
    if (byCategory === undefined) {
      byCategory = new Map();
      byPurpose.set(purpose, byCategory);
    }
    const c = byCategory.get(category);
    if (c !== undefined) c.count += n;
    else {
      byCategory.set(category, { service, purpose, category, minute, count: n });
      this.size += 1;
    }
  }

  *values(): IterableIterator<DecisionCount> {
    for (const byPurpose of this.#groups.values())
      for (const byCategory of byPurpose.values()) yield* byCategory.values();
  }

  /** Adds another table's counts to this one. */
  merge(other: CountTable): void {
    for (const c of other.values())
      this.add(countGroup(c.service, c.minute), c.service, c.purpose, c.category, c.minute, c.count);
  }
}

function countGroup(service: string, minute: number): string {
  return `${service}\u0000${minute}`;
}

type PendingAudit = { events: AuditEventInput[]; resolve: () => void; reject: (error: unknown) => void };

/**
 * The audit event of one decision taken for a service (by the server, or reported by an SDK with
 * `extra.via = "sdk"`): subject, purpose, first category, outcome and reason, with every category
 * (at most 100) and the legal basis in the details.
 */
export function decisionAuditEvent(
  serviceName: string,
  item: DecisionItem,
  d: Pick<PurposeDecision, "allow" | "reason" | "basis">,
  at: { occurredAt: Date; requestId: string | null },
  extra: Record<string, string> = {},
): AuditEventInput {
  return {
    actorType: "service",
    actorId: serviceName,
    action: "decide",
    subjectId: item.subjectId,
    purpose: item.purposeId,
    category: item.categories[0] ?? null,
    outcome: d.allow ? "allowed" : "denied",
    reason: d.reason,
    requestId: at.requestId,
    details: { categories: item.categories.slice(0, 100), basis: d.basis, ...extra },
    occurredAt: at.occurredAt,
  };
}

export function createConsentService({
  db,
  manifest,
  ledger,
  audit,
  clock,
  publicUrl,
  changes,
  cache: cacheOptions,
  countFlushMs = 5000,
  denialFlushMs = DENIAL_FLUSH_MS,
  onBackgroundError,
}: Deps) {
  const policyUrl = `${publicUrl}/center/policy/privacy-policy`;

  // --- Decision state cache (read-through, invalidated by the change feed) ---------------------
  //
  // Correctness first (CON-5): every committed change is published to `changes` after commit, and
  // the listener below drops the subject before `record` returns, so the next decision reads the
  // projection again. A read that was in flight while a subject changed is answered but not
  // cached. Changes made through another instance arrive through the same feed (PostgreSQL
  // LISTEN/NOTIFY); `ttlMs` bounds how long a lost notification could go unnoticed.
  const maxSubjects = changes && cacheOptions ? Math.max(0, Math.floor(cacheOptions.maxSubjects)) : 0;
  const ttlMs = cacheOptions?.ttlMs ?? 0;
  const cacheOn = maxSubjects > 0 && ttlMs > 0;
  const cache = new Map<string, CacheEntry>();
  const pendingReads = new Set<PendingRead>();
  const cacheStats = { hits: 0, misses: 0, invalidations: 0, refreshes: 0 };

  /** A new cache entry for a state read at `readAtMs`. */
  function cacheEntry(state: SubjectConsentState, readAtMs: number, used: boolean): CacheEntry {
    return {
      state,
      expiresAt: readAtMs + ttlMs,
      refreshAt: readAtMs + ttlMs * (REFRESH_AFTER + REFRESH_JITTER * Math.random()),
      memo: undefined,
      memoSize: 0,
      used,
    };
  }

  function invalidate(subjectIds: readonly string[]): void {
    for (const given of subjectIds) {
      const id = subjectKey(given);
      if (cache.delete(id)) cacheStats.invalidations += 1;
      for (const read of pendingReads) if (read.ids.has(id)) read.stale.add(id);
    }
  }
  function invalidateAll(): void {
    cacheStats.invalidations += cache.size;
    for (const read of pendingReads) for (const id of read.ids) read.stale.add(id);
    cache.clear();
  }
  // A gap (the cross-instance feed lost its connection) may hide changes: start from scratch.
  const unsubscribes =
    cacheOn && changes
      ? [changes.subscribe((change) => invalidate(change.subjectIds)), changes.onGap(invalidateAll)]
      : [];

  /**
   * Misses of concurrent requests are read together: the first opens a batch that is read on the
   * next turn of the event loop, so a burst of requests for uncached subjects costs one query.
   */
  type StateBatch = {
    ids: Set<string>;
    result: Promise<{ states: Map<string, SubjectConsentState>; stale: ReadonlySet<string> }>;
  };
  let openBatch: StateBatch | undefined;

  function loadStates(ids: readonly string[]): StateBatch["result"] {
    if (!openBatch || openBatch.ids.size + ids.length > MAX_READ_BATCH) {
      const batch: StateBatch = {
        ids: new Set(),
        result: new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
          if (openBatch === batch) openBatch = undefined;
          // Registered from the moment the query is sent: invalidations before then need nothing.
          const read: PendingRead = { ids: batch.ids, stale: new Set() };
          if (cacheOn) pendingReads.add(read);
          try {
            return { states: await ledger.statesOf([...batch.ids]), stale: read.stale };
          } finally {
            pendingReads.delete(read);
          }
        }),
      };
      openBatch = batch;
    }
    for (const id of ids) openBatch.ids.add(id);
    return openBatch.result;
  }

  /**
   * The subject's cached state while it is fresh (a hit: it becomes the most recently used). A hit
   * past the entry's refresh point queues a background read, so a subject in use is read again
   * before its TTL runs out instead of missing on a request (a cache filled in one burst would
   * otherwise expire in one burst, every request a miss).
   */
  function cachedEntry(id: string, nowMs: number): CacheEntry | undefined {
    const entry = cacheOn && !closed ? cache.get(id) : undefined;
    if (!entry || entry.expiresAt <= nowMs) return undefined;
    entry.used = true;
    cacheStats.hits += 1;
    if (entry.refreshAt <= nowMs) {
      entry.refreshAt = Number.POSITIVE_INFINITY;
      refreshing.set(id, entry);
      if (!refreshTimer) scheduleRefresh();
    }
    return entry;
  }

  // Entries queued for a background read, by subject (the entry that asked, to replace only it).
  const refreshing = new Map<string, CacheEntry>();
  let refreshTimer: NodeJS.Timeout | undefined;
  function scheduleRefresh(): void {
    refreshTimer = setTimeout(() => void refreshSome(), REFRESH_EVERY_MS);
    refreshTimer.unref();
  }

  /**
   * Reads up to REFRESH_BATCH queued states in one query and replaces the entries that asked, as a
   * miss would cache them: a subject invalidated while the read was in flight (or replaced, or
   * evicted) keeps what the invalidation left. A failed read leaves the entries to their TTL.
   */
  async function refreshSome(): Promise<void> {
    const ids: string[] = [];
    const asked: CacheEntry[] = [];
    for (const [id, entry] of refreshing) {
      if (ids.length >= REFRESH_BATCH) break;
      refreshing.delete(id);
      if (cache.get(id) !== entry) continue;
      ids.push(id);
      asked.push(entry);
    }
    const readAtMs = clock.now().getTime();
    try {
      const states = ids.length > 0 ? await ledger.statesOf(ids) : new Map();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as string;
        const entry = asked[i] as CacheEntry;
        // An invalidation (or eviction, or close) removed the entry that asked: keep what it left.
        if (cache.get(id) !== entry) continue;
        cache.set(id, cacheEntry(states.get(id) ?? { purposes: {} }, readAtMs, entry.used));
        cacheStats.refreshes += 1;
      }
    } catch {
      // The entries keep their TTL. The read after it is a miss on a request, which reports a
      // fault to that request (onBackgroundError is about evidence that could not be written).
    } finally {
      refreshTimer = undefined;
      if (refreshing.size > 0 && !closed) scheduleRefresh();
    }
  }

  /**
   * Frees a place for one more subject. Least recently used go first, by the CLOCK rule: the
   * oldest entry goes unless it was read since it was last passed over, in which case it moves to
   * the end and the next is tried. A hit only sets a flag, where exact LRU would move the entry
   * in the map on every read.
   */
  function makeRoom(nowMs: number): void {
    while (cache.size >= maxSubjects) {
      const [oldestId, oldest] = cache.entries().next().value as [string, CacheEntry];
      cache.delete(oldestId);
      if (oldest.used && oldest.expiresAt > nowMs) {
        oldest.used = false;
        cache.set(oldestId, oldest);
      }
    }
  }

  /** The cached or freshly read state of each subject. */
  async function entriesOf(subjectIds: readonly string[], nowMs: number): Promise<Map<string, CacheEntry>> {
    const out = new Map<string, CacheEntry>();
    const missing: string[] = [];
    for (const id of subjectIds) {
      const entry = cachedEntry(id, nowMs);
      if (entry) out.set(id, entry);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    cacheStats.misses += missing.length;
    const { states, stale } = await loadStates(missing);
    for (const id of missing) {
      const entry = cacheEntry(states.get(id) ?? { purposes: {} }, nowMs, false);
      out.set(id, entry);
      if (cacheOn && !closed && !stale.has(id)) {
        cache.delete(id);
        makeRoom(nowMs);
        cache.set(id, entry);
      }
    }
    return out;
  }

  function decideWith(entry: CacheEntry, item: DecisionItem): PurposeDecision {
    // Keyed by the request's own strings where possible: no key is built for one category.
    const cats = item.categories;
    const catKey = cats.length === 1 ? (cats[0] as string) : cats.join("\u0001");
    const key = item.channel === undefined ? catKey : `${catKey}\u0000${item.channel}`;
    const known = entry.memo?.get(item.purposeId)?.get(key);
    if (known) return known;
    const decision = decide(manifest, entry.state, {
      purposeId: item.purposeId,
      categories: item.categories,
      channel: item.channel,
    });
    if (entry.memoSize >= MEMO_PER_SUBJECT) {
      entry.memo = undefined;
      entry.memoSize = 0;
    }
    entry.memo ??= new Map();
    let forPurpose = entry.memo.get(item.purposeId);
    if (forPurpose === undefined) {
      forPurpose = new Map();
      entry.memo.set(item.purposeId, forPurpose);
    }
    forPurpose.set(key, decision);
    entry.memoSize += 1;
    return decision;
  }

  // --- Allowed-decision counts (in memory, flushed periodically and on close) -----------------
  //
  // A crash loses at most the last `countFlushMs` of counts; a clean close loses none: `close`
  // (the app's preClose hook) flushes them, and a decision that completes after it writes its own
  // counts before answering, as every decision did before counts were buffered.
  let counts = new CountTable();
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<number> = Promise.resolve(0);
  let closed = false;

  /** The group of a service's counts in a minute (the same for many decisions: kept). */
  let lastGroup = { service: "", minute: -1, group: "" };
  function groupOf(serviceName: string, minute: number): string {
    if (lastGroup.service !== serviceName || lastGroup.minute !== minute)
      lastGroup = { service: serviceName, minute, group: countGroup(serviceName, minute) };
    return lastGroup.group;
  }

  function scheduleFlush(): void {
    if (flushTimer || closed || counts.size === 0) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      service.flushDecisionCounts().catch((error: unknown) => {
        onBackgroundError?.(error);
        scheduleFlush();
      });
    }, countFlushMs);
    flushTimer.unref();
  }

  async function writeCountMap(batch: CountTable): Promise<void> {
    await db.transaction().execute(async (tx) => {
      for (const c of batch.values())
        await audit.recordDecisionCount(
          {
            service: c.service,
            purpose: c.purpose,
            category: c.category,
            at: new Date(c.minute),
            count: c.count,
          },
          tx,
        );
    });
  }

  async function writeCounts(): Promise<number> {
    if (counts.size === 0) return 0;
    const batch = counts;
    counts = new CountTable();
    try {
      await writeCountMap(batch);
    } catch (error) {
      // Keep them for the next flush: counts are audit records too.
      counts.merge(batch);
      throw error;
    }
    let total = 0;
    for (const c of batch.values()) total += c.count;
    return total;
  }

  // --- Sensitive allows: written before the answer, in group commits --------------------------
  //
  // Each such decision is its own audit event and its request waits until that event is
  // committed. Requests arriving while a write is pending or in flight are written together in the
  // next statement (group commit), so a burst costs one write, not one each. Batches of queued
  // denials go through the same writer.
  let auditQueue: PendingAudit[] = [];
  let auditWriting = false;

  function writeAudit(events: AuditEventInput[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      auditQueue.push({ events, resolve, reject });
      if (auditWriting) return;
      // Start on the next turn of the event loop: requests read in the same turn join this write
      // (with PGlite the write runs on this thread, so none could join while it runs).
      auditWriting = true;
      setImmediate(() => void drainAudit());
    });
  }

  /** Up to 1,000 events are one INSERT (atomic by itself); more take a transaction. */
  function appendEvidence(events: AuditEventInput[]): Promise<unknown> {
    return events.length <= 1000
      ? audit.appendMany(db, events)
      : db.transaction().execute((tx) => audit.appendMany(tx, events));
  }

  async function drainAudit(): Promise<void> {
    while (auditQueue.length > 0) {
      const group = auditQueue;
      auditQueue = [];
      try {
        await appendEvidence(group.flatMap((p) => p.events));
        for (const p of group) p.resolve();
      } catch (error) {
        if (group.length === 1) (group[0] as PendingAudit).reject(error);
        // One bad request must not fail the others: write each group member on its own.
        else for (const p of group) await appendEvidence(p.events).then(p.resolve, p.reject);
      }
    }
    auditWriting = false;
  }

  // --- Denials: one audit event each, written in the background within `denialFlushMs` -------
  //
  // A denial releases nothing, so the caller need not wait for its evidence: denials wait here
  // (at most DENIAL_BATCH of them, at most `denialFlushMs`) and go out as one group-committed
  // write. A failed write keeps them for the next attempt; `close` writes what is left.
  let denials: AuditEventInput[] = [];
  let denialTimer: NodeJS.Timeout | undefined;

  function queueDenials(events: readonly AuditEventInput[]): void {
    for (const e of events) denials.push(e);
    if (denials.length >= DENIAL_BATCH) void flushDenials().catch(() => undefined);
    else scheduleDenialFlush(denialFlushMs);
  }

  /** Flushes the queued denials in `ms`, unless a flush is already due. */
  function scheduleDenialFlush(ms: number): void {
    if (denialTimer) return;
    denialTimer = setTimeout(() => {
      denialTimer = undefined;
      void flushDenials().catch(() => undefined);
    }, ms);
    denialTimer.unref();
  }

  // The last write of queued denials: a flush also waits for one already under way (the timer's),
  // so every denial queued before it is written when it returns. Writes go out in order.
  let denialWrite: Promise<unknown> = Promise.resolve();
  /** Writes the queued denials; on failure they are kept (and retried by the next timer). */
  async function flushDenials(): Promise<number> {
    if (denialTimer) clearTimeout(denialTimer);
    denialTimer = undefined;
    if (denials.length === 0) {
      await denialWrite;
      return 0;
    }
    const batch = denials;
    denials = [];
    try {
      const write = writeAudit(batch);
      denialWrite = write.catch(() => undefined);
      await write;
      return batch.length;
    } catch (error) {
      denials = batch.concat(denials);
      onBackgroundError?.(error);
      if (!closed) scheduleDenialFlush(Math.max(denialFlushMs, 1000));
      throw error;
    }
  }

  function purposeOrThrow(purposeId: string) {
    const purpose = manifest.purposes.find((p) => p.id === purposeId);
    if (!purpose)
      throw new AppError("validation_failed", {
        message: `There is no purpose "${purposeId}" in the notice in force. Use one of the purpose ids listed by GET /api/v1/me/consents.`,
        details: { validPurposes: manifest.purposes.map((p) => p.id) },
      });
    return purpose;
  }

  /** What a switch governs, or a 422 listing the valid ids of that kind. */
  function switchTarget(kind: SwitchKind, id: string) {
    const invalid = (valid: string[], what: string) =>
      new AppError("validation_failed", {
        message: `There is no ${what} "${id}" in the notice in force. Use one of: ${valid.join(", ")}.`,
        details: { valid },
      });
    if (kind === "setting") {
      const purposes = manifest.purposes.filter((p) => p.setting === id);
      if (purposes.length === 0)
        throw invalid(
          [...new Set(manifest.purposes.flatMap((p) => (p.setting ? [p.setting] : [])))],
          "setting",
        );
      return switchFingerprint(kind, id, {
        purposes: purposes.map((p) => p.id),
        categories: purposes.flatMap((p) => p.categories),
      });
    }
    if (kind === "marketing") {
      const channel = manifest.marketingChannels.find((c) => c.id === id);
      if (!channel)
        throw invalid(
          manifest.marketingChannels.map((c) => c.id),
          "marketing channel",
        );
      return switchFingerprint(kind, id, { categories: channel.categories, version: channel.version });
    }
    const permission = manifest.permissions.find((p) => p.id === id);
    if (!permission)
      throw invalid(
        manifest.permissions.map((p) => p.id),
        "device permission",
      );
    return switchFingerprint(kind, id, { categories: permission.categories, purposes: permission.features });
  }

  /** Appends one event the subject (or someone for them) decided now, and publishes the change. */
  async function appendOne(
    subjectId: string,
    target: { kind: SwitchKind | "purpose" | "policy"; id: string; fingerprint: string },
    input: Pick<RecordSwitchInput, "state" | "language" | "method">,
    actor: Actor,
  ): Promise<void> {
    await ledger.append(db, [
      {
        subjectId,
        targetKind: target.kind,
        targetId: target.id,
        state: input.state,
        noticeVersion: manifest.version,
        fingerprint: target.fingerprint,
        language: input.language,
        method: input.method,
        actor: actor.actor,
        actorId: actor.actor === "self" ? null : actor.actorId,
        reason: actor.actor === "staff" ? actor.reason : null,
        occurredAt: clock.now(),
      },
    ]);
    invalidate([subjectId]);
    changes?.publish([subjectId]);
  }

  /** Counts an allowed, non-sensitive decision under each of its categories (or "none"). */
  function countAllowed(into: CountTable, serviceName: string, item: DecisionItem, minute: number): void {
    const group = groupOf(serviceName, minute);
    if (item.categories.length === 0) into.add(group, serviceName, item.purposeId, "none", minute);
    else
      for (const category of item.categories) into.add(group, serviceName, item.purposeId, category, minute);
  }

  const service = {
    manifest,

    /** The consent state of each subject, as `decide` takes it. */
    async statesOf(subjectIds: readonly string[]): Promise<Map<string, SubjectConsentState>> {
      return ledger.statesOf(subjectIds);
    },

    /**
     * Records a personalisation switch (CON-8), a marketing subscription per channel (CON-9) or a
     * device permission grant or revocation reported by the app (CON-10) as a consent event, and
     * publishes the change. The ledger keeps all of them in the subject's chain.
     */
    async recordSwitch(subjectId: string, input: RecordSwitchInput, actor: Actor = { actor: "self" }) {
      const fingerprint = switchTarget(input.kind, input.id);
      await appendOne(subjectId, { kind: input.kind, id: input.id, fingerprint }, input, actor);
      const state = (await ledger.statesOf([subjectId])).get(subjectId);
      return state ?? { purposes: {} };
    },

    /**
     * Records one consent decision by the subject (CON-2: only an explicit `given` gives consent;
     * CON-5: withdrawal is the same single request). Returns the resulting view of the target.
     */
    async record(subjectId: string, input: RecordConsentInput, actor: Actor = { actor: "self" }) {
      if (input.noticeVersion !== manifest.version)
        throw new AppError("conflict", {
          message: `The notice version ${input.noticeVersion} is not the one in force (${manifest.version}). Show the current notice and ask again.`,
          details: { currentNoticeVersion: manifest.version },
        });
      let targetKind: "purpose" | "policy";
      let targetId: string;
      let fingerprint: string;
      if (input.policy) {
        targetKind = "policy";
        targetId = POLICY_TARGET_ID;
        fingerprint = policyFingerprint(manifest);
      } else {
        const purpose = purposeOrThrow(input.purposeId ?? "");
        if (purpose.consent === "none")
          throw new AppError("validation_failed", {
            message: `The purpose "${purpose.id}" rests on the legal basis ${purpose.legalBasis} and needs no consent, so there is nothing to give or withdraw. To object or restrict it, make a rights request.`,
          });
        targetKind = "purpose";
        targetId = purpose.id;
        fingerprint = purposeFingerprint(purpose);
      }
      await appendOne(subjectId, { kind: targetKind, id: targetId, fingerprint }, input, actor);
      return service.current(subjectId, input.language);
    },

    /** The subject's consent per purpose, with the manifest's names (CON-13: `askAgain`). */
    async current(subjectId: string, lang: Language) {
      const state = (await ledger.statesOf([subjectId])).get(subjectId);
      const policyChanged =
        state?.policy !== undefined &&
        (state.policy.state === "invalidated" ||
          (state.policy.state === "given" && state.policy.fingerprint !== policyFingerprint(manifest)));
      return {
        noticeVersion: manifest.version,
        policy: {
          state: policyChanged ? "invalidated" : (state?.policy?.state ?? "not-asked"),
          noticeVersion: state?.policy?.noticeVersion ?? null,
          askAgain: policyChanged,
        },
        purposes: manifest.purposes.map((p) => {
          const view = purposeConsentView(manifest, state, p);
          return {
            ...view,
            name: p.name[lang],
            description: p.description[lang],
            legalBasis: p.legalBasis,
            separateReason: p.separateReason ?? null,
            refusalImpact: p.refusalImpact[lang],
            allowed: decide(manifest, state, { purposeId: p.id, categories: [] }).allow,
          };
        }),
      };
    },

    /** Consent receipts (CON-12) of every consent event of the subject. */
    async receipts(subjectId: string, format: "iso27560" | "kantara") {
      const events: ReceiptEvent[] = (await ledger.events(subjectId)).map((e) => ({
        id: e.id,
        targetKind: e.targetKind,
        targetId: e.targetId,
        state: e.state,
        noticeVersion: e.noticeVersion,
        fingerprint: e.fingerprint,
        language: e.language,
        method: e.method,
        actor: e.actor,
        occurredAt: e.occurredAt,
        hash: e.hash.toString("hex"),
      }));
      const options = { subjectId, policyUrl };
      return format === "kantara"
        ? kantaraReceipts(manifest, events, options)
        : iso27560Records(manifest, events, options);
    },

    /**
     * One decision, as `decideMany` makes it, answered synchronously when the subject's state is
     * cached and nothing must be written first (an allow is counted, a denial queued); a sensitive
     * allow or an uncached subject gives a promise.
     */
    decideOne(
      serviceName: string,
      item: DecisionItem,
      requestId?: string,
    ): PurposeDecision | Promise<PurposeDecision> {
      const nowMs = nowMsOf(clock);
      const entry = cachedEntry(subjectKey(item.subjectId), nowMs);
      if (!entry)
        return service.decideMany(serviceName, [item], requestId).then((d) => d[0] as PurposeDecision);
      const d = decideWith(entry, item);
      if (d.allow && !d.sensitive) {
        countAllowed(counts, serviceName, item, Math.floor(nowMs / MINUTE_MS) * MINUTE_MS);
        scheduleFlush();
        return d;
      }
      const event = decisionAuditEvent(serviceName, item, d, {
        occurredAt: new Date(nowMs),
        requestId: requestId ?? null,
      });
      if (!d.allow) {
        queueDenials([event]);
        return d;
      }
      return writeAudit([event]).then(() => d);
    },

    /**
     * Decides a batch for a service (MAN-5, CON-1, CON-14). Denials and decisions touching a
     * sensitive category are audited one by one: sensitive allows committed before this returns,
     * denials within `denialFlushMs` (nothing is processed on a denial); other allows are
     * counted per service, purpose, category and minute in memory and written by
     * `flushDecisionCounts` (every `countFlushMs`, and on `close`). The returned decisions may be
     * shared with other calls: do not modify them.
     */
    async decideMany(
      serviceName: string,
      items: readonly DecisionItem[],
      requestId?: string,
    ): Promise<PurposeDecision[]> {
      const now = clock.now();
      const nowMs = now.getTime();
      const keys = items.map((i) => subjectKey(i.subjectId));
      // Each item's entry: straight from the cache while every subject is there (the usual case),
      // and from one read of the rest (each subject once) from the first miss on.
      const entries: CacheEntry[] = new Array(keys.length);
      let at = 0;
      for (; at < keys.length; at++) {
        const entry = cachedEntry(keys[at] as string, nowMs);
        if (!entry) break;
        entries[at] = entry;
      }
      if (at < keys.length) {
        const rest = keys.slice(at);
        const read = await entriesOf(rest.length === 1 ? rest : [...new Set(rest)], nowMs);
        for (; at < keys.length; at++) entries[at] = read.get(keys[at] as string) as CacheEntry;
      }
      const minute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
      const evidence: AuditEventInput[] = [];
      const denied: AuditEventInput[] = [];
      // After close, counts and denials are written by this call itself (nobody would flush them later).
      const into = closed ? new CountTable() : counts;
      const decisions: PurposeDecision[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const item = items[i] as DecisionItem;
        const d = decideWith(entries[i] as CacheEntry, item);
        if (!d.allow || d.sensitive)
          (d.allow ? evidence : denied).push(
            decisionAuditEvent(serviceName, item, d, { occurredAt: now, requestId: requestId ?? null }),
          );
        else countAllowed(into, serviceName, item, minute);
        decisions[i] = d;
      }
      if (into !== counts && into.size > 0) await writeCountMap(into);
      else scheduleFlush();
      if (closed) evidence.push(...denied);
      else if (denied.length > 0) queueDenials(denied);
      if (evidence.length > 0) await writeAudit(evidence);
      return decisions;
    },

    /**
     * Writes the allowed-decision counts held in memory to the audit ledger (never two flushes at
     * once). Returns how many decisions they counted. On failure the counts are kept for the next.
     */
    flushDecisionCounts(): Promise<number> {
      const next = flushing.then(writeCounts, writeCounts);
      flushing = next.catch(() => 0);
      return next;
    },

    /**
     * Writes the queued denials' audit events now (they are otherwise written within
     * `denialFlushMs`), and waits for a write of earlier ones already under way. Returns how many
     * this call wrote; on failure they stay queued.
     */
    flushDenials,

    /**
     * Drops subjects from the decision state cache, or every subject when called without ids (for
     * a change feed that lost its connection and cannot tell what changed meanwhile).
     */
    invalidate(subjectIds?: readonly string[]): void {
      if (subjectIds) invalidate(subjectIds);
      else invalidateAll();
    },

    /** Decision state cache figures (for metrics and tests). */
    cacheStats(): {
      enabled: boolean;
      subjects: number;
      hits: number;
      misses: number;
      invalidations: number;
      /** States read again in the background before their TTL ran out. */
      refreshes: number;
    } {
      return { enabled: cacheOn, subjects: cache.size, ...cacheStats };
    },

    /**
     * Stops the cache and the flush timers, and writes the denials and counts still in memory (app
     * close). Decisions after this write their own evidence before answering.
     */
    async close(): Promise<void> {
      closed = true;
      for (const unsubscribe of unsubscribes) unsubscribe();
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      if (refreshTimer) clearTimeout(refreshTimer);
      refreshTimer = undefined;
      refreshing.clear();
      cache.clear();
      await Promise.all([flushDenials(), service.flushDecisionCounts()]);
    },
  };
  return service;
}
export type ConsentService = ReturnType<typeof createConsentService>;
