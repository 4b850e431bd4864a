import { randomUUID } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  type DecisionSchema,
  DecisionTable,
  type PreparedDecision,
  type PurposeHandle,
  type WireEntry,
} from "@custos/sdk";
import { newEnforcer, newModelFromString } from "casbin";
import type { Benchmark, BenchResult } from "./types.ts";

/**
 * In-process SDK decisions (issue 4, "Benchmarks"): 1M subjects, one snapshot entry each with its
 * 20 purposes as a bitmask, looked up in a Zipf-distributed order (precomputed), each call with no
 * category or one of the purpose's, through the SDK's `DecisionTable` (the same code the client
 * runs, with its category checks and its report counting), three ways on the same calls:
 * - prepared handles, the SDK's API for a hot path: `table.purpose(id).categories(cats)` made once
 *   per purpose and category list, then `.decide(subjectId)` per call (what
 *   `client.purpose(id).categories(cats).decide` runs): the headline figures (`decide_p50`,
 *   `decide_p99`, `decisions_per_second`, `decide_p50_vs_casbin`);
 * - purpose handles, `table.purpose(id)` made once, `.decide(subjectId, categories)` per call:
 *   `p50_ns_purpose_handle`;
 * - `table.decide(subjectId, purposeId, categories)` (what `client.decide` runs): `p50_ns_decide`.
 * Timed over batches of 1,000 calls (one call is shorter than the timer); p50 and p99 of the
 * per-call time over the batches, and decisions per second.
 *
 * Peers in the same run:
 * - the physical limit: a plain `Map.get` over the same 1M keys (plus the bit test), same order;
 * - node-casbin enforcing the same policy (`p, subject, purpose` for each allowed purpose) for 10k
 *   subjects: it scans its policy linearly and cannot hold 1M.
 * Memory: what each structure keeps, per million subjects, after a full GC: the JavaScript heap and
 * the typed arrays' memory it grew by when built from a snapshot page's ids (fresh strings, let go
 * of afterwards), so the key strings count where they are kept (a Map keeps each id as a string;
 * the SDK's table keeps a UUID as 16 bytes).
 *
 * Targets: ≥ 100× casbin, ≤ 2× the plain Map.get's time (ratio peer/ours ≥ 0.5), p50 ≤ 300 ns.
 */

const PURPOSES = 20;
const CATEGORIES = 10;
const BATCH = 1000;
const ZIPF_S = 1.0;

/** A schema of 20 purposes (5 on a contract basis, 15 on consent), 2 categories each. */
function benchSchema(): DecisionSchema {
  return {
    protocol: 1,
    manifestVersion: "bench",
    manifestHash: "bench",
    schemaHash: "bench",
    purposes: Array.from({ length: PURPOSES }, (_, i) => ({
      id: `purpose-${i}`,
      legalBasis: i < 5 ? "contract" : "consent",
      consent: i < 5 ? ("none" as const) : ("policy" as const),
      function: i < 5 ? ("basic" as const) : ("extended" as const),
      categories: [`category-${i % CATEGORIES}`, `category-${(i + 3) % CATEGORIES}`],
      setting: null,
      permissions: [],
      features: [],
    })),
    categories: Array.from({ length: CATEGORIES }, (_, i) => ({
      id: `category-${i}`,
      sensitivity: "general" as const,
    })),
    permissions: [],
    marketingChannels: [],
  };
}

/** A deterministic generator (the same workload every run). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Ranks 0..n-1 drawn from a Zipf(s) distribution, `count` of them. */
function zipfRanks(n: number, count: number, random: () => number): Int32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** ZIPF_S;
    cdf[k] = sum;
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const u = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    return gc;
  } catch {
    return undefined;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/**
 * The SDK's timed loops, one batch each: small module-level functions (as a service calls the SDK
 * from its own functions), so that V8 optimizes each loop on its own rather than inlining the SDK
 * into the long async `run` (where it measured slower). The Map.get peer's loop stays in `run`,
 * as before (moved out, it measured the same). Each returns how many calls were allowed (used, so
 * the work is not optimized away).
 */
function preparedBatch(prepared: PreparedDecision[], keys: string[], from: number, to: number): number {
  let allowed = 0;
  for (let i = from; i < to; i++)
    if ((prepared[i] as PreparedDecision).decide(keys[i] as string).allow) allowed++;
  return allowed;
}

function handleBatch(
  handles: PurposeHandle[],
  keys: string[],
  categories: (readonly string[])[],
  from: number,
  to: number,
): number {
  let allowed = 0;
  for (let i = from; i < to; i++)
    if ((handles[i] as PurposeHandle).decide(keys[i] as string, categories[i]).allow) allowed++;
  return allowed;
}

function decideBatch(
  table: DecisionTable,
  keys: string[],
  purposes: string[],
  categories: (readonly string[])[],
  from: number,
  to: number,
): number {
  let allowed = 0;
  for (let i = from; i < to; i++)
    if (table.decide(keys[i] as string, purposes[i] as string, categories[i]).allow) allowed++;
  return allowed;
}

/** The Map peer on ids that are other strings than its keys (as a service's are). */
function mapBatch(
  map: Map<string, number>,
  keys: string[],
  bits: Int32Array,
  from: number,
  to: number,
): number {
  let allowed = 0;
  for (let i = from; i < to; i++) {
    const v = map.get(keys[i] as string);
    if (v !== undefined && (v >> (bits[i] as number)) & 1) allowed++;
  }
  return allowed;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export const sdkDecisionsBenchmark: Benchmark = {
  name: "sdk-decisions",
  description:
    "In-process SDK decisions over 1M subjects (Zipf) against a plain Map.get and node-casbin (10k subjects)",
  async run({ quick, log }) {
    const subjects = quick ? 200_000 : 1_000_000;
    const lookups = quick ? 200_000 : 1_000_000;
    const rounds = quick ? 2 : 3;
    const casbinSubjects = quick ? 2_000 : 10_000;
    const casbinCalls = quick ? 8 : 20;
    const random = rng(7);
    const gc = exposeGc();
    const heap = async () => {
      // Several full collections with turns of the event loop in between, or garbage remains.
      for (let i = 0; gc && i < 4; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    if (!gc) log("  (no GC control: memory figures include garbage)");

    // The subjects: random UUIDs and their allowed masks (contract purposes always, consent ones at 80 %).
    const base = await heap();
    // Parsed from JSON as a snapshot page's ids are (flat strings; randomUUID() builds ropes).
    const keys = JSON.parse(JSON.stringify(Array.from({ length: subjects }, () => randomUUID()))) as string[];
    // The strings only: the array of references is the benchmark's, not the table's.
    const keysBytes = (await heap()) - base - subjects * 8;
    const masks = new Int32Array(subjects);
    for (let i = 0; i < subjects; i++) {
      let m = 0b11111;
      for (let p = 5; p < PURPOSES; p++) if (random() < 0.8) m |= 1 << p;
      masks[i] = m;
    }

    // The SDK table, loaded as from a snapshot page (wire entries, hex masks).
    const schema = benchSchema();
    const wire = (ids: readonly string[]) =>
      (function* entries(): Generator<WireEntry> {
        for (let i = 0; i < subjects; i++)
          yield { s: ids[i] as string, a: (masks[i] as number).toString(16) };
      })();
    const loadTable = (ids: readonly string[]) => {
      const t = new DecisionTable(schema, { maxPendingDecisions: 100_000 });
      t.replaceAll(wire(ids), { a: "1f" });
      return t;
    };
    const loadMap = (ids: readonly string[]) => {
      const m = new Map<string, number>();
      for (let i = 0; i < subjects; i++) m.set(ids[i] as string, masks[i] as number);
      return m;
    };
    /** What `load` keeps of a structure built from fresh copies of the ids, in bytes. */
    const kept = async (load: (ids: readonly string[]) => unknown) => {
      const before = await heap();
      const held = load(JSON.parse(JSON.stringify(keys)) as string[]);
      const bytes = (await heap()) - before;
      // `held` is read after the measurement, so the collector cannot free it before.
      return held === undefined ? 0 : bytes;
    };
    const tableBytes = await kept(loadTable);
    const mapBytes = await kept(loadMap);
    // The timed structures hold the workload's own strings (the same objects the lookups pass).
    const table = loadTable(keys);
    const plain = loadMap(keys);

    // The workload: Zipf-ranked subjects, a purpose each, no category or one of the purpose's.
    const ranks = zipfRanks(subjects, lookups, random);
    const lookupKeys: string[] = new Array(lookups);
    const lookupPurposes: string[] = new Array(lookups);
    const lookupBits = new Int32Array(lookups);
    const lookupCategories: (readonly string[])[] = new Array(lookups);
    // Purpose ids are the same strings every call, as literals in a service's code are.
    const purposeIds = schema.purposes.map((p) => p.id);
    const categorySets = schema.purposes.map((p) => [
      Object.freeze([]),
      Object.freeze([p.categories[0] as string]),
    ]);
    // The handles a service makes once, at start, for the purposes (and categories) it decides for.
    const handles = purposeIds.map((id) => table.purpose(id));
    const prepared = handles.map((h, p) =>
      (categorySets[p] as (readonly string[])[]).map((cats) => h.categories(cats)),
    );
    const lookupHandles: PurposeHandle[] = new Array(lookups);
    const lookupPrepared: PreparedDecision[] = new Array(lookups);
    for (let i = 0; i < lookups; i++) {
      const p = Math.floor(random() * PURPOSES);
      const c = random() < 0.5 ? 0 : 1;
      lookupKeys[i] = keys[ranks[i] as number] as string;
      lookupPurposes[i] = purposeIds[p] as string;
      lookupHandles[i] = handles[p] as PurposeHandle;
      lookupPrepared[i] = prepared[p]?.[c] as PreparedDecision;
      lookupBits[i] = p;
      lookupCategories[i] = categorySets[p]?.[c] as readonly string[];
    }
    // The same ids as a service holds them: parsed from its own requests, not the snapshot's strings.
    const freshKeys = JSON.parse(JSON.stringify(lookupKeys)) as string[];

    let sink = 0;
    const batches = lookups / BATCH;
    const sdkTimes = new Float64Array(batches * rounds);
    const handleTimes = new Float64Array(batches * rounds);
    const decideTimes = new Float64Array(batches * rounds);
    const mapTimes = new Float64Array(batches * rounds);
    const freshSdkTimes = new Float64Array(batches * rounds);
    const freshMapTimes = new Float64Array(batches * rounds);
    let sdkTotal = 0;
    let mapTotal = 0;
    // Rounds alternate the SDK's three ways and the Map so drift (CPU frequency, GC) hits all
    // alike; the first warms up.
    for (let r = -1; r < rounds; r++) {
      for (let b = 0; b < batches; b++) {
        const from = b * BATCH;
        const to = from + BATCH;
        const t0 = process.hrtime.bigint();
        sink += preparedBatch(lookupPrepared, lookupKeys, from, to);
        const t1 = process.hrtime.bigint();
        if (r >= 0) {
          sdkTimes[r * batches + b] = Number(t1 - t0) / BATCH;
          sdkTotal += Number(t1 - t0);
        }
        // The report buffer is emptied outside the timed batches, as the client's timer does.
        if (b % 20 === 19) table.drain();
      }
      for (let b = 0; b < batches; b++) {
        const from = b * BATCH;
        const to = from + BATCH;
        const t0 = process.hrtime.bigint();
        sink += handleBatch(lookupHandles, lookupKeys, lookupCategories, from, to);
        const t1 = process.hrtime.bigint();
        if (r >= 0) handleTimes[r * batches + b] = Number(t1 - t0) / BATCH;
        if (b % 20 === 19) table.drain();
      }
      for (let b = 0; b < batches; b++) {
        const from = b * BATCH;
        const to = from + BATCH;
        const t0 = process.hrtime.bigint();
        sink += decideBatch(table, lookupKeys, lookupPurposes, lookupCategories, from, to);
        const t1 = process.hrtime.bigint();
        if (r >= 0) decideTimes[r * batches + b] = Number(t1 - t0) / BATCH;
        if (b % 20 === 19) table.drain();
      }
      for (let b = 0; b < batches; b++) {
        const from = b * BATCH;
        const to = from + BATCH;
        const t0 = process.hrtime.bigint();
        for (let i = from; i < to; i++) {
          const v = plain.get(lookupKeys[i] as string);
          if (v !== undefined && (v >> (lookupBits[i] as number)) & 1) sink++;
        }
        const t1 = process.hrtime.bigint();
        if (r >= 0) {
          mapTimes[r * batches + b] = Number(t1 - t0) / BATCH;
          mapTotal += Number(t1 - t0);
        }
      }
      for (let b = 0; b < batches; b++) {
        const from = b * BATCH;
        const t0 = process.hrtime.bigint();
        sink += preparedBatch(lookupPrepared, freshKeys, from, from + BATCH);
        const t1 = process.hrtime.bigint();
        if (r >= 0) freshSdkTimes[r * batches + b] = Number(t1 - t0) / BATCH;
        if (b % 20 === 19) table.drain();
      }
      for (let b = 0; b < batches; b++) {
        const from = b * BATCH;
        const t0 = process.hrtime.bigint();
        sink += mapBatch(plain, freshKeys, lookupBits, from, from + BATCH);
        const t1 = process.hrtime.bigint();
        if (r >= 0) freshMapTimes[r * batches + b] = Number(t1 - t0) / BATCH;
      }
    }
    freshSdkTimes.sort();
    freshMapTimes.sort();
    const freshSdkP50 = percentile(freshSdkTimes, 0.5);
    const freshMapP50 = percentile(freshMapTimes, 0.5);
    sdkTimes.sort();
    handleTimes.sort();
    decideTimes.sort();
    mapTimes.sort();
    const sdkP50 = percentile(sdkTimes, 0.5);
    const sdkP99 = percentile(sdkTimes, 0.99);
    const handleP50 = percentile(handleTimes, 0.5);
    const handleP99 = percentile(handleTimes, 0.99);
    const decideP50 = percentile(decideTimes, 0.5);
    const decideP99 = percentile(decideTimes, 0.99);
    const mapP50 = percentile(mapTimes, 0.5);
    const mapP99 = percentile(mapTimes, 0.99);
    const calls = lookups * rounds;
    const sdkRate = calls / (sdkTotal / 1e9);
    const mapRate = calls / (mapTotal / 1e9);

    // node-casbin: the same policy for 10k subjects (the first ones), as a policy file sorted by
    // subject (a subject's place in it is unrelated to its popularity). `some(allow)` stops at the
    // first matching line, so casbin's time depends on where the subject is; a denial scans all.
    const rules: string[][] = [];
    const casbinKeys = keys.slice(0, casbinSubjects).sort();
    const maskOf = new Map(keys.slice(0, casbinSubjects).map((k, i) => [k, masks[i] as number]));
    for (const k of casbinKeys)
      for (let p = 0; p < PURPOSES; p++)
        if (((maskOf.get(k) as number) >> p) & 1) rules.push([k, `purpose-${p}`]);
    const enforcer = await newEnforcer(
      newModelFromString(
        "[request_definition]\nr = sub, obj\n[policy_definition]\np = sub, obj\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = r.sub == p.sub && r.obj == p.obj\n",
      ),
    );
    // Loaded into the model in bulk (its CSV adapter takes longer than the whole SDK run).
    enforcer.getModel().addPolicies("p", "p", rules);
    const casbinPeer = `node-casbin-${casbinSubjects / 1000}k`;
    const casbinRanks = zipfRanks(casbinSubjects, casbinCalls + 2, random);
    const casbinTimes = new Float64Array(casbinCalls);
    let casbinTotal = 0;
    for (let i = 0; i < casbinCalls + 2; i++) {
      const k = casbinRanks[i] as number;
      const p = Math.floor(random() * PURPOSES);
      const t0 = process.hrtime.bigint();
      const allowed = enforcer.enforceSync(keys[k] as string, purposeIds[p] as string);
      const t1 = process.hrtime.bigint();
      if (allowed !== (((masks[k] as number) >> p) & 1) > 0)
        throw new Error("casbin and the SDK disagree on the same policy");
      if (i >= 2) {
        casbinTimes[i - 2] = Number(t1 - t0);
        casbinTotal += Number(t1 - t0);
      }
    }
    casbinTimes.sort();
    const casbinP50 = percentile(casbinTimes, 0.5);
    const casbinRate = casbinCalls / (casbinTotal / 1e9);

    // Sanity: the SDK agrees with the masks, the three ways alike.
    for (let i = 0; i < 1000; i++) {
      const k = ranks[i] as number;
      const p = lookupBits[i] as number;
      const expected = (((masks[k] as number) >> p) & 1) > 0;
      const key = keys[k] as string;
      const d = table.decide(key, `purpose-${p}`, lookupCategories[i]);
      if (
        d.allow !== expected ||
        (handles[p] as PurposeHandle).decide(key, lookupCategories[i]) !== d ||
        (lookupPrepared[i] as PreparedDecision).decide(key) !== d
      )
        throw new Error("the SDK table answered against its snapshot");
    }

    const perMillion = (bytes: number) => round(((bytes / subjects) * 1e6) / 2 ** 20, 1);
    const sdkMb = perMillion(tableBytes);
    const mapMb = perMillion(mapBytes);
    log(
      `  SDK prepared: p50 ${round(sdkP50)} ns, p99 ${round(sdkP99)} ns, ${Math.round(sdkRate)} decisions/s (${subjects} subjects, ${calls} Zipf lookups; purpose(id).categories(cats).decide(subject))`,
    );
    log(
      `  SDK purpose:  p50 ${round(handleP50)} ns, p99 ${round(handleP99)} ns (purpose(id).decide(subject, cats))`,
    );
    log(
      `  SDK decide:   p50 ${round(decideP50)} ns, p99 ${round(decideP99)} ns (decide(subject, purposeId, cats))`,
    );
    log(
      `  ids as a service holds them (other strings than the snapshot's): SDK prepared p50 ${round(freshSdkP50)} ns, Map.get p50 ${round(freshMapP50)} ns`,
    );
    log(`  Map.get:      p50 ${round(mapP50)} ns, p99 ${round(mapP99)} ns, ${Math.round(mapRate)} lookups/s`);
    log(
      `  casbin:       p50 ${round(casbinP50 / 1000, 1)} µs (${casbinSubjects} subjects, ${rules.length} policy lines), ${round(casbinRate, 1)} decisions/s`,
    );
    log(
      `  memory per million subjects: SDK ${sdkMb} MiB, Map ${mapMb} MiB (the ids as strings alone: ${perMillion(keysBytes)} MiB)`,
    );
    if (sink < 0) log("unreachable");

    const result = (r: Omit<BenchResult, "bench">): BenchResult => ({ bench: "sdk-decisions", ...r });
    return [
      result({
        metric: "decide_p50",
        value: round(sdkP50),
        unit: "ns",
        peer: "map-get",
        peerValue: round(mapP50),
        ratio: round(mapP50 / sdkP50, 3),
        target: "p50 ≤ 300 ns; ≤ 2× Map.get (ratio ≥ 0.5)",
      }),
      result({
        metric: "p50_ns_purpose_handle",
        value: round(handleP50),
        unit: "ns",
        peer: "map-get",
        peerValue: round(mapP50),
        ratio: round(mapP50 / handleP50, 3),
      }),
      result({
        metric: "p50_ns_decide",
        value: round(decideP50),
        unit: "ns",
        peer: "map-get",
        peerValue: round(mapP50),
        ratio: round(mapP50 / decideP50, 3),
      }),
      result({
        metric: "decide_p50_service_ids",
        value: round(freshSdkP50),
        unit: "ns",
        peer: "map-get",
        peerValue: round(freshMapP50),
        ratio: round(freshMapP50 / freshSdkP50, 3),
      }),
      result({
        metric: "decide_p99",
        value: round(sdkP99),
        unit: "ns",
        peer: "map-get",
        peerValue: round(mapP99),
        ratio: round(mapP99 / sdkP99, 3),
      }),
      result({
        metric: "decisions_per_second",
        value: Math.round(sdkRate),
        unit: "decisions/s",
        peer: casbinPeer,
        peerValue: round(casbinRate, 1),
        ratio: Math.round(sdkRate / casbinRate),
        target: "≥ 100× casbin",
      }),
      result({
        metric: "decide_p50_vs_casbin",
        value: round(sdkP50),
        unit: "ns",
        peer: casbinPeer,
        peerValue: Math.round(casbinP50),
        ratio: Math.round(casbinP50 / sdkP50),
        target: "≥ 100×",
      }),
      result({
        metric: "memory_per_million_subjects",
        value: sdkMb,
        unit: "MiB",
        peer: "map-get",
        peerValue: mapMb,
        ratio: round(mapMb / sdkMb, 3),
      }),
    ];
  },
};
