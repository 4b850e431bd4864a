import { DECISION_REASONS, type DecisionReason, MARKETING_FEATURE, type PurposeDecision } from "@custos/core";
import {
  type DecisionReport,
  type DecisionSchema,
  hasBit,
  maskWords,
  type ReportedDecision,
  type WireEntry,
} from "./protocol.ts";

/**
 * The in-memory decision snapshot: one Map entry per subject, its purposes as a bitmask, and a
 * synchronous `decide` that answers exactly as @custos/core `decide()` does on the server (same
 * reasons, same order of checks, same `validPurposes`/`validCategories`).
 *
 * Memory: while the schema has at most 30 purposes, a subject whose only information is its allowed
 * mask (every denial is `consent-missing`, no permission revoked, no channel unsubscribed) is stored
 * as a small integer, which V8 keeps inside the Map itself; other subjects share interned `Entry`
 * objects (most subjects have one of a few states).
 *
 * Hot path: the allow case allocates nothing. The returned decisions are shared frozen objects:
 * do not mutate them.
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
const UPPER = /[A-Z]/;

export type DecisionTableOptions = {
  /** Denials and sensitive decisions kept for the next report, at most (default 10,000). */
  maxPendingDecisions?: number;
  /** The clock for report times (default Date.now). */
  now?: () => number;
};

export class DecisionTable {
  readonly schema: DecisionSchema;
  private entries = new Map<string, Value>();
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
  private readonly intern = new Map<string, Entry>();
  private readonly scratch = new Int32Array(64);

  // The decision log (reports): allowed non-sensitive decisions as counts, others one by one.
  private counts: Uint32Array;
  private countsSince: number;
  // Decisions kept one by one, in columns preallocated to maxPending: keeping one allocates nothing
  // but a copy of its categories.
  private pendingCount = 0;
  private readonly pendingSubjects: string[];
  private readonly pendingPurposes: string[];
  private readonly pendingCategories: (readonly string[])[];
  private readonly pendingChannels: (string | undefined)[];
  private readonly pendingDecisions: PurposeDecision[];
  private readonly pendingTimes: Float64Array;
  private dropped = 0;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(schema: DecisionSchema, options: DecisionTableOptions = {}) {
    this.schema = schema;
    this.now = options.now ?? Date.now;
    this.maxPending = options.maxPendingDecisions ?? 10_000;
    this.pendingSubjects = new Array<string>(this.maxPending).fill("");
    this.pendingPurposes = new Array<string>(this.maxPending).fill("");
    this.pendingCategories = new Array<readonly string[]>(this.maxPending).fill(EMPTY);
    this.pendingChannels = new Array<string | undefined>(this.maxPending).fill(undefined);
    this.pendingDecisions = new Array<PurposeDecision>(this.maxPending);
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
    const next = new Map<string, Value>();
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
   * server's state. `channel`: for a marketing purpose, the channel (CON-9).
   */
  decide(
    subjectId: string,
    purposeId: string,
    categories: readonly string[] = EMPTY,
    channel?: string,
  ): PurposeDecision {
    // The subject first: its (likely) cache miss overlaps the purpose lookup.
    const v = this.entries.get(subjectId);
    const p = this.purposeIndex.get(purposeId);
    // Fast path, small enough for V8 to inline into the caller: a plain subject whose purpose is
    // allowed, with no category or one general category of the purpose. Counted, not logged.
    if (typeof v === "number" && p !== undefined && ((v >> p) & 1) === 1) {
      const n = categories.length;
      let k = -1;
      if (n === 0) k = p * this.countStride + this.categoryCount;
      else if (n === 1) {
        const ci = (this.generalCategories[p] as Map<string, number>).get(categories[0] as string);
        if (ci !== undefined) k = p * this.countStride + ci;
      }
      if (k >= 0) {
        this.counts[k] = (this.counts[k] as number) + 1;
        return this.allowDecisions[p << 1] as PurposeDecision;
      }
    }
    return this.decideFully(v, p, subjectId, purposeId, categories, channel);
  }

  /** Every other case, in decide()'s order of checks. */
  private decideFully(
    found: Value | undefined,
    p: number | undefined,
    subjectId: string,
    purposeId: string,
    categories: readonly string[],
    channel: string | undefined,
  ): PurposeDecision {
    if (p === undefined)
      return this.logged(this.undeclaredPurpose, subjectId, purposeId, categories, channel);
    const C = this.categoryCount;
    const n = categories.length;
    let sensitive = 0;
    for (let i = 0; i < n; i++) {
      const ci = this.categoryIndex.get(categories[i] as string);
      if (ci === undefined)
        return this.logged(
          this.decision(p, "undeclared-category", 0),
          subjectId,
          purposeId,
          categories,
          channel,
        );
      if (this.purposeHasCategory[p * C + ci] === 0)
        return this.logged(
          this.decision(p, "category-not-in-purpose", this.categorySensitive[ci] as number),
          subjectId,
          purposeId,
          categories,
          channel,
        );
      sensitive |= this.categorySensitive[ci] as number;
      if (i < 64) this.scratch[i] = ci;
    }
    const v = found === undefined ? this.missing(subjectId) : found;
    let d: PurposeDecision;
    if (typeof v === "number")
      d = ((v >> p) & 1 ? this.allowDecisions : this.missingDecisions)[
        (p << 1) | sensitive
      ] as PurposeDecision;
    else d = this.decideEntry(v, p, categories, channel, sensitive);
    if (d.allow && sensitive === 0) {
      // Counted, not logged one by one (DESIGN.md "Decisions").
      const base = p * (C + 1);
      if (n === 0) this.counts[base + C] = (this.counts[base + C] as number) + 1;
      else
        for (let i = 0; i < n; i++) {
          const ci =
            i < 64
              ? (this.scratch[i] as number)
              : (this.categoryIndex.get(categories[i] as string) as number);
          this.counts[base + ci] = (this.counts[base + ci] as number) + 1;
        }
      return d;
    }
    return this.logged(d, subjectId, purposeId, categories, channel);
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

  /** A subject not in the table: the same id in lower case, else the default (no consent state). */
  private missing(subjectId: string): Value {
    if (UPPER.test(subjectId)) {
      const v = this.entries.get(subjectId.toLowerCase());
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
  ): PurposeDecision {
    const i = this.pendingCount;
    if (i >= this.maxPending) {
      this.dropped += 1;
      return d;
    }
    this.pendingCount = i + 1;
    // Kept raw (the time as a number): the wire form is built when the report is drained.
    this.pendingSubjects[i] = subjectId;
    this.pendingPurposes[i] = purposeId;
    this.pendingCategories[i] = categories.length === 0 ? EMPTY : copyOf(categories);
    this.pendingChannels[i] = channel;
    this.pendingDecisions[i] = d;
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
    for (let i = 0; i < this.pendingCount; i++) {
      const d = this.pendingDecisions[i] as PurposeDecision;
      const r: ReportedDecision = {
        subjectId: this.pendingSubjects[i] as string,
        purposeId: this.pendingPurposes[i] as string,
        categories: [...(this.pendingCategories[i] as readonly string[])],
        allow: d.allow,
        reason: d.reason,
        basis: d.basis,
        sensitive: d.sensitive,
        at: new Date(this.pendingTimes[i] as number).toISOString(),
      };
      const channel = this.pendingChannels[i];
      if (channel !== undefined) r.channel = channel;
      decisions.push(r);
    }
    // Let go of the references (subject ids) without giving up the columns.
    this.pendingSubjects.fill("", 0, this.pendingCount);
    this.pendingPurposes.fill("", 0, this.pendingCount);
    this.pendingCategories.fill(EMPTY, 0, this.pendingCount);
    this.pendingChannels.fill(undefined, 0, this.pendingCount);
    this.pendingCount = 0;
    const report = { counts, decisions, dropped: this.dropped };
    this.dropped = 0;
    return report;
  }
}

/** The first 50 categories, copied by hand: `slice` is slow on frozen arrays. */
function copyOf(categories: readonly string[]): string[] {
  const n = Math.min(categories.length, 50);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = categories[i] as string;
  return out;
}

function allowReason(purpose: DecisionSchema["purposes"][number]): DecisionReason {
  return purpose.legalBasis !== "consent" || purpose.consent === "none" ? "basis" : "consent-given";
}
