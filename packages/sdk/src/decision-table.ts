import { DECISION_REASONS, type DecisionReason, MARKETING_FEATURE, type PurposeDecision } from "@custos/core";
import {
  type DecisionReport,
  type DecisionSchema,
  hasBit,
  maskWords,
  type ReportedDecision,
  type WireEntry,
} from "./protocol.ts";
import { SubjectTable } from "./subject-table.ts";

/**
 * The in-memory decision snapshot: one entry per subject, its purposes as a bitmask, and a
 * synchronous `decide` that answers exactly as @custos/core `decide()` does on the server (same
 * reasons, same order of checks, same `validPurposes`/`validCategories`).
 *
 * Memory: subjects are held in a `SubjectTable` (UUIDs as 128 bits in a typed array, ADR 0014).
 * While the schema has at most 30 purposes, a subject whose only information is its allowed mask
 * (every denial is `consent-missing`, no permission revoked, no channel unsubscribed) is stored as
 * that integer, in the table itself; other subjects share interned `Entry` objects (most subjects
 * have one of a few states).
 *
 * Hot path: the allow case allocates nothing. The returned decisions are shared frozen objects:
 * do not mutate them.
 *
 * Prepared handles, for a hot path that decides for the same purpose again and again (like a
 * prepared statement): `table.purpose(purposeId)` resolves the purpose once and its
 * `decide(subjectId, categories?, channel?)` skips the purpose lookup; `.categories([...])` on it
 * also resolves (and checks) the categories once, and its `decide(subjectId, channel?)` is left with
 * the subject lookup. Both answer, count and report exactly as `decide` does, and read the current
 * snapshot (they stay valid across `replaceAll` and `apply`; the schema of a table never changes).
 *
 *   const ads = table.purpose("personalised-ads");
 *   ads.decide(subjectId, ["device"]);               // = table.decide(subjectId, "personalised-ads", ["device"])
 *   const adsOnDevice = ads.categories(["device"]);
 *   adsOnDevice.decide(subjectId);                   // the same, without resolving anything per call
 */

type Value = number | Entry;

/** A subject that needs more than an allowed mask. */
class Entry {
  constructor(
    readonly a: Int32Array,
    /** Denial reasons other than consent-missing, by purpose mask. */
    readonly d: readonly { reason: DecisionReason; mask: Int32Array }[],
    /** Switched-off device permissions (CON-10), or null. */
    readonly p: Int32Array | null,
    /** Unsubscribed marketing channels (CON-9), or null. */
    readonly m: Int32Array | null,
  ) {}
}

/** Largest purpose count whose masks fit a V8 small integer on every platform. */
const SMALL_INT_BITS = 30;
const EMPTY: readonly string[] = Object.freeze([]);
const NONE_CATEGORY = "none";
const REASON_INDEX = new Map<DecisionReason, number>(DECISION_REASONS.map((r, i) => [r, i]));
const INTERN_MAX = 50_000;
/** Decisions kept one by one keep at most this many of their categories. */
const MAX_LOGGED_CATEGORIES = 50;
const UPPER = /[A-Z]/;
const PENDING_STRIDE = 5;
const PENDING_SUBJECT = 0;
const PENDING_PURPOSE = 1;
const PENDING_CATEGORIES = 2;
const PENDING_CHANNEL = 3;
const PENDING_DECISION = 4;
/**
 * Purposes with at most this many general categories find one by comparing ids (a pointer
 * comparison when the caller passes the same string, e.g. a literal) instead of a Map lookup.
 */
const SCAN_MAX = 8;

export type DecisionTableOptions = {
  /** Denials and sensitive decisions kept for the next report, at most (default 10,000). */
  maxPendingDecisions?: number;
  /** The clock for report times (default Date.now). */
  now?: () => number;
};

export class DecisionTable {
  readonly schema: DecisionSchema;
  private entries = new SubjectTable<Entry>();
  private defaultValue: Value = 0;
  private readonly purposeIndex = new Map<string, number>();
  private readonly categoryIndex = new Map<string, number>();
  private readonly categorySensitive: Uint8Array;
  /** purposeHasCategory[p * C + c] */
  private readonly purposeHasCategory: Uint8Array;
  private readonly purposePermissions: Int32Array[];
  /** permissionHasCategory[k * C + c] */
  private readonly permissionHasCategory: Uint8Array;
  private readonly purposeMarketing: Uint8Array;
  private readonly channelIndex = new Map<string, number>();
  private readonly smallInts: boolean;
  private readonly decisions: (PurposeDecision | undefined)[];
  /** The allowing decision of purpose p, at [p * 2 + sensitive]. */
  private readonly allowDecisions: PurposeDecision[] = [];
  /** The consent-missing denial of purpose p, at [p * 2 + sensitive]. */
  private readonly missingDecisions: PurposeDecision[] = [];
  private readonly undeclaredPurpose: PurposeDecision;
  private readonly categoryCount: number;
  /** categoryCount + 1: the counts of a purpose are its categories and then "none". */
  private readonly countStride: number;
  /** Per purpose: its general (non-sensitive) categories and their indexes. */
  private readonly generalCategories: Map<string, number>[];
  /** Per purpose: the same as two lists to scan (ids, indexes), or null above SCAN_MAX categories. */
  private readonly generalIds: (readonly string[] | null)[];
  private readonly generalIndexes: Int32Array[];
  private readonly intern = new Map<string, Entry>();
  private readonly scratch = new Int32Array(64);
  private readonly scratchOut = new Int32Array(1);

  // The decision log (reports): allowed non-sensitive decisions as counts, others one by one.
  private counts: Uint32Array;
  private countsSince: number;
  // Decisions kept one by one, in columns preallocated to maxPending: keeping one allocates nothing
  // but a copy of its categories.
  private pendingCount = 0;
  /**
   * Decision i at [i * PENDING_STRIDE + PENDING_*]: its fields side by side (one cache line, one
   * array to reach), the time in `pendingTimes`.
   */
  private readonly pending: unknown[];
  private readonly pendingTimes: Float64Array;
  private dropped = 0;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(schema: DecisionSchema, options: DecisionTableOptions = {}) {
    this.schema = schema;
    this.now = options.now ?? Date.now;
    this.maxPending = options.maxPendingDecisions ?? 10_000;
    this.pending = new Array<unknown>(this.maxPending * PENDING_STRIDE).fill(undefined);
    this.pendingTimes = new Float64Array(this.maxPending);
    const C = schema.categories.length;
    this.categoryCount = C;
    this.countStride = C + 1;
    for (const [i, p] of schema.purposes.entries()) this.purposeIndex.set(p.id, i);
    for (const [i, c] of schema.categories.entries()) this.categoryIndex.set(c.id, i);
    for (const [i, c] of schema.marketingChannels.entries()) this.channelIndex.set(c, i);
    this.categorySensitive = Uint8Array.from(schema.categories, (c) =>
      c.sensitivity === "sensitive" ? 1 : 0,
    );
    this.purposeHasCategory = new Uint8Array(schema.purposes.length * C);
    schema.purposes.forEach((p, i) => {
      for (const c of p.categories) {
        const ci = this.categoryIndex.get(c);
        if (ci !== undefined) this.purposeHasCategory[i * C + ci] = 1;
      }
    });
    this.generalCategories = schema.purposes.map(
      (p) =>
        new Map(
          p.categories.flatMap((c) => {
            const ci = this.categoryIndex.get(c);
            return ci !== undefined && this.categorySensitive[ci] === 0 ? [[c, ci] as const] : [];
          }),
        ),
    );
    this.generalIds = this.generalCategories.map((m) => (m.size <= SCAN_MAX ? [...m.keys()] : null));
    this.generalIndexes = this.generalCategories.map((m) => Int32Array.from(m.values()));
    const permissionIndex = new Map(schema.permissions.map((p, i) => [p.id, i]));
    this.permissionHasCategory = new Uint8Array(schema.permissions.length * C);
    schema.permissions.forEach((k, i) => {
      for (const c of k.categories) {
        const ci = this.categoryIndex.get(c);
        if (ci !== undefined) this.permissionHasCategory[i * C + ci] = 1;
      }
    });
    this.purposePermissions = schema.purposes.map((p) =>
      Int32Array.from(p.permissions.flatMap((id) => permissionIndex.get(id) ?? [])),
    );
    this.purposeMarketing = Uint8Array.from(schema.purposes, (p) =>
      p.features.includes(MARKETING_FEATURE) ? 1 : 0,
    );
    this.smallInts = schema.purposes.length <= SMALL_INT_BITS;
    this.decisions = new Array(schema.purposes.length * DECISION_REASONS.length * 2);
    this.undeclaredPurpose = Object.freeze({
      allow: false,
      reason: "undeclared-purpose",
      basis: null,
      sensitive: false,
      validPurposes: Object.freeze(schema.purposes.map((p) => p.id)) as string[],
    });
    schema.purposes.forEach((purpose, p) => {
      for (const s of [0, 1]) {
        this.allowDecisions.push(this.decision(p, allowReason(purpose), s));
        this.missingDecisions.push(this.decision(p, "consent-missing", s));
      }
    });
    this.counts = new Uint32Array(schema.purposes.length * (C + 1));
    this.countsSince = this.now();
  }

  /** Subjects held (those with consent state). */
  get size(): number {
    return this.entries.size;
  }

  /** Replaces every entry (a full snapshot) and the default entry at once. */
  replaceAll(entries: Iterable<WireEntry>, defaultEntry: WireEntry): void {
    // Sized for the whole snapshot at once when its length is known (no doubling on the way).
    const next = new SubjectTable<Entry>(Array.isArray(entries) ? entries.length : 0);
    for (const e of entries) if (e.s !== undefined) next.set(e.s, this.valueOf(e));
    this.defaultValue = this.valueOf(defaultEntry);
    this.entries = next;
  }

  /** Applies changed entries (a stream event). */
  apply(entries: Iterable<WireEntry>): void {
    for (const e of entries) if (e.s !== undefined) this.entries.set(e.s, this.valueOf(e));
  }

  /** Converts a wire entry to its stored form: a small integer when it can be, else an interned Entry. */
  private valueOf(e: WireEntry): Value {
    const plain = !e.d && !e.p && !e.m;
    if (plain && this.smallInts) {
      const v = Number.parseInt(e.a, 16);
      if (!/^[0-9a-f]{1,8}$/.test(e.a) || v >= 2 ** SMALL_INT_BITS)
        throw new Error("entry mask out of range");
      return v;
    }
    const key = `${e.a}|${e.d ? JSON.stringify(e.d) : ""}|${e.p ?? ""}|${e.m ?? ""}`;
    const interned = this.intern.get(key);
    if (interned) return interned;
    const d: { reason: DecisionReason; mask: Int32Array }[] = [];
    for (const [reason, mask] of Object.entries(e.d ?? {}))
      if (REASON_INDEX.has(reason as DecisionReason) && mask)
        d.push({ reason: reason as DecisionReason, mask: maskWords(mask) });
    const entry = new Entry(
      maskWords(e.a),
      d,
      e.p && e.p !== "0" ? maskWords(e.p) : null,
      e.m && e.m !== "0" ? maskWords(e.m) : null,
    );
    if (this.intern.size < INTERN_MAX) this.intern.set(key, entry);
    return entry;
  }

  /** The shared frozen decision for purpose `p`, `reason` and sensitivity. */
  private decision(p: number, reason: DecisionReason, sensitive: number): PurposeDecision {
    const k = ((p * DECISION_REASONS.length + (REASON_INDEX.get(reason) as number)) << 1) | sensitive;
    const cached = this.decisions[k];
    if (cached) return cached;
    const purpose = this.schema.purposes[p] as DecisionSchema["purposes"][number];
    const allow = reason === "basis" || reason === "consent-given";
    const d: PurposeDecision = {
      allow,
      reason,
      basis: reason === "consent-given" ? "consent" : purpose.legalBasis,
      sensitive: sensitive === 1,
    };
    if (reason === "undeclared-category" || reason === "category-not-in-purpose")
      d.validCategories = Object.freeze([...purpose.categories]) as string[];
    Object.freeze(d);
    this.decisions[k] = d;
    return d;
  }

  /**
   * May `purposeId` use `categories` of `subjectId`? Same answer as @custos/core `decide()` on the
   * server's state. `channel`: for a marketing purpose, the channel (CON-9). On a hot path with a
   * fixed purpose, `purpose(purposeId).decide(...)` gives the same answer with one lookup less.
   */
  decide(
    subjectId: string,
    purposeId: string,
    categories: readonly string[] = EMPTY,
    channel?: string,
  ): PurposeDecision {
    const p = this.purposeIndex.get(purposeId);
    return this.decideAt(p === undefined ? -1 : p, purposeId, subjectId, categories, channel);
  }

  /**
   * A handle on `purposeId`, resolved once: its `decide(subjectId, categories?, channel?)` answers
   * exactly as `decide(subjectId, purposeId, categories, channel)` (the same shared decisions, the
   * same counts and reports), an undeclared purpose included (`undeclared-purpose` on each call).
   */
  purpose(purposeId: string): PurposeHandle {
    const p = this.purposeIndex.get(purposeId);
    return new PurposeHandle(this, purposeId, p === undefined ? -1 : p);
  }

  /**
   * @internal `decide` once the purpose is resolved: `p` its index, -1 when undeclared. What
   * `decide` and the handles run.
   */
  decideAt(
    p: number,
    purposeId: string,
    subjectId: string,
    categories: readonly string[],
    channel: string | undefined,
  ): PurposeDecision {
    // An undeclared purpose is denied whoever the subject (decide()'s first check).
    if (p < 0) return this.logged(this.undeclaredPurpose, subjectId, purposeId, categories, channel);
    const found = this.entries.get(subjectId);
    // A subject without consent state takes the default entry (after the lower-case retry).
    const v = found === undefined ? this.missing(subjectId) : found;
    // Fast path, small enough for V8 to inline into the caller: a plain subject, with no category or
    // one general category of the purpose. Allowed: counted; denied: consent-missing, logged.
    if (typeof v === "number") {
      const n = categories.length;
      let k = -1;
      if (n === 0) k = p * this.countStride + this.categoryCount;
      else if (n === 1) {
        const ci = this.generalIndex(p, categories[0] as string);
        if (ci >= 0) k = p * this.countStride + ci;
      }
      if (k >= 0) {
        if (((v >> p) & 1) === 1) {
          this.counts[k] = (this.counts[k] as number) + 1;
          return this.allowDecisions[p << 1] as PurposeDecision;
        }
        return this.logged(
          this.missingDecisions[p << 1] as PurposeDecision,
          subjectId,
          purposeId,
          categories,
          channel,
        );
      }
    }
    return this.decideFully(v, p, subjectId, purposeId, categories, channel);
  }

  /** The index of `category` if it is a general category of purpose `p`, else -1. */
  private generalIndex(p: number, category: string): number {
    const ids = this.generalIds[p];
    if (!ids) {
      const ci = (this.generalCategories[p] as Map<string, number>).get(category);
      return ci === undefined ? -1 : ci;
    }
    for (let j = 0; j < ids.length; j++)
      if (ids[j] === category) return (this.generalIndexes[p] as Int32Array)[j] as number;
    return -1;
  }

  /**
   * The checks of `categories` against purpose `p` (declared), in decide()'s order: the denial
   * they give (undeclared category, category not in the purpose), else null with the sensitivity
   * in `out[0]` and the category indexes in `indexes` (as far as it reaches).
   */
  private checkCategories(
    p: number,
    categories: readonly string[],
    indexes: Int32Array,
    out: Int32Array,
  ): PurposeDecision | null {
    const C = this.categoryCount;
    const n = categories.length;
    let sensitive = 0;
    for (let i = 0; i < n; i++) {
      const ci = this.categoryIndex.get(categories[i] as string);
      if (ci === undefined) return this.decision(p, "undeclared-category", 0);
      if (this.purposeHasCategory[p * C + ci] === 0)
        return this.decision(p, "category-not-in-purpose", this.categorySensitive[ci] as number);
      sensitive |= this.categorySensitive[ci] as number;
      if (i < indexes.length) indexes[i] = ci;
    }
    out[0] = sensitive;
    return null;
  }

  /** Every other case, in decide()'s order of checks (the purpose is declared). */
  private decideFully(
    v: Value,
    p: number,
    subjectId: string,
    purposeId: string,
    categories: readonly string[],
    channel: string | undefined,
  ): PurposeDecision {
    const denied = this.checkCategories(p, categories, this.scratch, this.scratchOut);
    if (denied !== null) return this.logged(denied, subjectId, purposeId, categories, channel);
    return this.settle(
      v,
      p,
      subjectId,
      purposeId,
      categories,
      channel,
      this.scratchOut[0] as number,
      this.scratch,
    );
  }

  /**
   * The subject's part, once the purpose and the categories passed their checks: the decision,
   * counted (allowed, not sensitive) or logged. `indexes`: the categories' indexes, as far as it
   * reaches (the rest are looked up).
   */
  private settle(
    v: Value,
    p: number,
    subjectId: string,
    purposeId: string,
    categories: readonly string[],
    channel: string | undefined,
    sensitive: number,
    indexes: Int32Array,
    owned = false,
  ): PurposeDecision {
    let d: PurposeDecision;
    if (typeof v === "number")
      d = ((v >> p) & 1 ? this.allowDecisions : this.missingDecisions)[
        (p << 1) | sensitive
      ] as PurposeDecision;
    else d = this.decideEntry(v, p, categories, channel, sensitive);
    if (d.allow && sensitive === 0) {
      // Counted, not logged one by one (DESIGN.md "Decisions").
      const C = this.categoryCount;
      const base = p * (C + 1);
      const n = categories.length;
      if (n === 0) this.counts[base + C] = (this.counts[base + C] as number) + 1;
      else
        for (let i = 0; i < n; i++) {
          const ci =
            i < indexes.length
              ? (indexes[i] as number)
              : (this.categoryIndex.get(categories[i] as string) as number);
          this.counts[base + ci] = (this.counts[base + ci] as number) + 1;
        }
      return d;
    }
    return this.logged(d, subjectId, purposeId, categories, channel, owned);
  }

  /**
   * @internal What `PurposeHandle.categories` builds on: the checks `decide` makes of the purpose
   * and the categories, made once (their denial if any, else the sensitivity and the count slots).
   */
  prepare(p: number, purposeId: string, categories: readonly string[]): PreparedDecision {
    // Its own copy: the caller's array may change.
    const list = Object.freeze(Array.from(categories));
    const indexes = new Int32Array(list.length);
    const out = new Int32Array(1);
    const denied = p < 0 ? this.undeclaredPurpose : this.checkCategories(p, list, indexes, out);
    const base = p * this.countStride;
    const slots =
      denied !== null
        ? new Int32Array(0)
        : list.length === 0
          ? Int32Array.of(base + this.categoryCount)
          : indexes.map((ci) => base + ci);
    const decisions =
      denied !== null ? [denied, denied] : [this.allowDecisions[p << 1], this.missingDecisions[p << 1]];
    return new PreparedDecision(
      this,
      purposeId,
      p,
      list,
      denied,
      out[0] as number,
      indexes,
      slots,
      decisions[0] as PurposeDecision,
      decisions[1] as PurposeDecision,
    );
  }

  /** @internal What `PreparedDecision.decide` runs. */
  decidePrepared(h: PreparedDecision, subjectId: string, channel: string | undefined): PurposeDecision {
    // Denied whoever the subject (an undeclared purpose or category): no subject lookup.
    if (h.denied !== null) return this.logged(h.denied, subjectId, h.purposeId, h.categories, channel, true);
    const found = this.entries.get(subjectId);
    const v = found === undefined ? this.missing(subjectId) : found;
    const p = h.p;
    if (typeof v === "number" && h.sensitive === 0) {
      if (((v >> p) & 1) === 1) {
        const k = h.countSlot;
        if (k >= 0) this.counts[k] = (this.counts[k] as number) + 1;
        else this.countAll(h.countSlots);
        return h.allowed;
      }
      return this.logged(h.missing, subjectId, h.purposeId, h.categories, channel, true);
    }
    return this.settle(v, p, subjectId, h.purposeId, h.categories, channel, h.sensitive, h.indexes, true);
  }

  /** Counts an allowed decision in each of `slots`. */
  private countAll(slots: Int32Array): void {
    for (let i = 0; i < slots.length; i++) {
      const k = slots[i] as number;
      this.counts[k] = (this.counts[k] as number) + 1;
    }
  }

  private decideEntry(
    e: Entry,
    p: number,
    categories: readonly string[],
    channel: string | undefined,
    sensitive: number,
  ): PurposeDecision {
    const allowed = hasBit(e.a, p);
    let reason: DecisionReason = "consent-missing";
    if (!allowed) {
      for (const { reason: r, mask } of e.d)
        if (hasBit(mask, p)) {
          reason = r;
          break;
        }
      if (reason === "restricted" || reason === "setting-off") return this.decision(p, reason, sensitive);
    }
    if (e.p && categories.length > 0 && this.permissionOff(e.p, p, categories))
      return this.decision(p, "permission-off", sensitive);
    if (channel !== undefined && e.m && this.purposeMarketing[p] === 1) {
      const ch = this.channelIndex.get(channel);
      if (ch !== undefined && hasBit(e.m, ch)) return this.decision(p, "unsubscribed", sensitive);
    }
    if (allowed) return this.allowDecisions[(p << 1) | sensitive] as PurposeDecision;
    return this.decision(p, reason, sensitive);
  }

  /** A permission the purpose needs, switched off, that gives one of the categories (CON-10). */
  private permissionOff(off: Int32Array, p: number, categories: readonly string[]): boolean {
    const C = this.categoryCount;
    for (const k of this.purposePermissions[p] as Int32Array) {
      if (!hasBit(off, k)) continue;
      for (const c of categories) {
        const ci = this.categoryIndex.get(c);
        if (ci !== undefined && this.permissionHasCategory[k * C + ci] === 1) return true;
      }
    }
    return false;
  }

  /**
   * A subject not in the table: the same id in lower case when it has a letter A-Z, else the default
   * (no consent state). `toLowerCase` first: it returns the same string, at no cost, for the usual
   * lower-case id, where a RegExp test would scan it.
   */
  private missing(subjectId: string): Value {
    // (Not a string, from plain JavaScript: no A-Z to retry without, as the RegExp would find.)
    const lower = typeof subjectId === "string" ? subjectId.toLowerCase() : subjectId;
    if (lower !== subjectId && UPPER.test(subjectId)) {
      const v = this.entries.get(lower);
      if (v !== undefined) return v;
    }
    return this.defaultValue;
  }

  /** Keeps a denial or sensitive decision for the next report (bounded). */
  private logged(
    d: PurposeDecision,
    subjectId: string,
    purposeId: string,
    categories: readonly string[],
    channel: string | undefined,
    owned = false,
  ): PurposeDecision {
    const i = this.pendingCount;
    if (i >= this.maxPending) {
      this.dropped += 1;
      return d;
    }
    this.pendingCount = i + 1;
    // Kept raw (the time as a number): the wire form is built when the report is drained.
    const at = i * PENDING_STRIDE;
    const pending = this.pending;
    pending[at + PENDING_SUBJECT] = subjectId;
    pending[at + PENDING_PURPOSE] = purposeId;
    // A prepared decision's list is its own frozen copy: kept as it is.
    pending[at + PENDING_CATEGORIES] =
      categories.length === 0
        ? EMPTY
        : owned && categories.length <= MAX_LOGGED_CATEGORIES
          ? categories
          : copyOf(categories);
    pending[at + PENDING_CHANNEL] = channel;
    pending[at + PENDING_DECISION] = d;
    this.pendingTimes[i] = this.now();
    return d;
  }

  /**
   * Takes what the next report needs: the counts since the last drain (attributed to the minute
   * the counting started), the decisions kept one by one, and how many were dropped.
   */
  drain(): DecisionReport {
    const C = this.categoryCount;
    const minute = new Date(this.countsSince).toISOString();
    const counts: DecisionReport["counts"] = [];
    this.schema.purposes.forEach((purpose, p) => {
      for (let c = 0; c <= C; c++) {
        const count = this.counts[p * (C + 1) + c] as number;
        if (count > 0)
          counts.push({
            purposeId: purpose.id,
            category: c === C ? NONE_CATEGORY : (this.schema.categories[c]?.id as string),
            minute,
            count,
          });
      }
    });
    this.counts.fill(0);
    this.countsSince = this.now();
    const decisions: ReportedDecision[] = [];
    const pending = this.pending;
    for (let i = 0; i < this.pendingCount; i++) {
      const at = i * PENDING_STRIDE;
      const d = pending[at + PENDING_DECISION] as PurposeDecision;
      const r: ReportedDecision = {
        subjectId: pending[at + PENDING_SUBJECT] as string,
        purposeId: pending[at + PENDING_PURPOSE] as string,
        categories: [...(pending[at + PENDING_CATEGORIES] as readonly string[])],
        allow: d.allow,
        reason: d.reason,
        basis: d.basis,
        sensitive: d.sensitive,
        at: new Date(this.pendingTimes[i] as number).toISOString(),
      };
      const channel = pending[at + PENDING_CHANNEL] as string | undefined;
      if (channel !== undefined) r.channel = channel;
      decisions.push(r);
    }
    // Let go of the references (subject ids) without giving up the columns.
    pending.fill(undefined, 0, this.pendingCount * PENDING_STRIDE);
    this.pendingCount = 0;
    const report = { counts, decisions, dropped: this.dropped };
    this.dropped = 0;
    return report;
  }
}

/** The first 50 categories, copied by hand: `slice` is slow on frozen arrays. */
function copyOf(categories: readonly string[]): string[] {
  const n = Math.min(categories.length, MAX_LOGGED_CATEGORIES);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = categories[i] as string;
  return out;
}

function allowReason(purpose: DecisionSchema["purposes"][number]): DecisionReason {
  return purpose.legalBasis !== "consent" || purpose.consent === "none" ? "basis" : "consent-given";
}

/**
 * A purpose of a `DecisionTable`, resolved once (`table.purpose(purposeId)`), like a prepared
 * statement. Valid for the table's life: it reads the current snapshot on each call.
 */
export class PurposeHandle {
  /** @internal Made by `DecisionTable.purpose`. */
  constructor(
    private readonly table: DecisionTable,
    /** The purpose id, as given. */
    readonly purposeId: string,
    /** The purpose's index in the schema, -1 when the schema does not declare it. */
    private readonly p: number,
  ) {}

  /** Whether the schema declares the purpose (when not, every decision is `undeclared-purpose`). */
  get declared(): boolean {
    return this.p >= 0;
  }

  /**
   * Exactly `table.decide(subjectId, purposeId, categories, channel)`: the same shared frozen
   * decision, counted or reported the same way.
   */
  decide(subjectId: string, categories: readonly string[] = EMPTY, channel?: string): PurposeDecision {
    return this.table.decideAt(this.p, this.purposeId, subjectId, categories, channel);
  }

  /**
   * `categories` resolved and checked once for this purpose (the list is copied: later changes to
   * the array do not count): `decide(subjectId, channel?)` of the result is exactly
   * `decide(subjectId, categories, channel)` of this handle.
   */
  categories(categories: readonly string[]): PreparedDecision {
    return this.table.prepare(this.p, this.purposeId, categories);
  }
}

/**
 * A purpose and its categories, resolved and checked once (`table.purpose(id).categories([...])`).
 * Valid for the table's life: it reads the current snapshot on each call.
 */
export class PreparedDecision {
  /** @internal The only count slot (an allowed non-sensitive decision), or -1 when there are several. */
  readonly countSlot: number;

  /** @internal Made by `PurposeHandle.categories`. */
  constructor(
    private readonly table: DecisionTable,
    /** The purpose id, as given. */
    readonly purposeId: string,
    /** @internal The purpose's index, -1 when undeclared. */
    readonly p: number,
    /** The categories (a frozen copy). */
    readonly categories: readonly string[],
    /** @internal The decision whatever the subject (an undeclared purpose or category), or null. */
    readonly denied: PurposeDecision | null,
    /** @internal 1 when a category is sensitive. */
    readonly sensitive: number,
    /** @internal The categories' indexes. */
    readonly indexes: Int32Array,
    /** @internal The count slots of an allowed non-sensitive decision. */
    readonly countSlots: Int32Array,
    /** @internal The decision for a plain subject that allows the purpose (no sensitive category). */
    readonly allowed: PurposeDecision,
    /** @internal The decision for a plain subject that does not (consent-missing). */
    readonly missing: PurposeDecision,
  ) {
    this.countSlot = countSlots.length === 1 ? (countSlots[0] as number) : -1;
  }

  /**
   * Exactly `table.decide(subjectId, purposeId, categories, channel)`, with the purpose and the
   * categories this was prepared with.
   */
  decide(subjectId: string, channel?: string): PurposeDecision {
    return this.table.decidePrepared(this, subjectId, channel);
  }
}
