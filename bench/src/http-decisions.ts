import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { policyFingerprint, purposeFingerprint, switchFingerprint } from "@custos/core";
import { loadDefaultManifest, type Manifest } from "@custos/manifest";
import {
  type ConsentEventInput,
  createConsentLedger,
  migrate,
  openDatabase,
  POLICY_TARGET_ID,
} from "@custos/store";
import autocannon from "autocannon";
import { type LoadResult, loadResult } from "./http-load.ts";
import { startCustos, startHelloWorld } from "./processes.ts";
import type { Benchmark, BenchResult } from "./types.ts";

const SERVICE_KEY_HEADER = "x-custos-service-key";

/**
 * The decision API under load (issue 4, "HTTP decisions"): Custos `POST /api/v1/decisions` and
 * `POST /api/v1/decisions/batch` (100 items) against a bare Fastify hello-world, in the same run.
 * Each server runs in its own process, autocannon in this one (2 cores: one each).
 *
 * The server has the default manifest and `SUBJECTS` subjects with consent state written through
 * the consent ledger (PGlite in a temporary folder, or PostgreSQL when DATABASE_URL is set). The
 * requests rotate over every subject and a mix of purposes: no-consent bases, policy-covered and
 * separate consents, a withdrawn consent and a switched-off setting (denials, each audited one by
 * one; about 3% of the mix, printed). The rest are allowed and counted per minute.
 *
 * The peer gets the very same requests: POST with the same headers and the same rotating bodies
 * (autocannon rebuilds each request, which costs the client as much on both sides), answered with
 * `{"hello":"world"}`. Its GET peak is printed as well, for reference.
 *
 * Metrics: peak single-decision requests/s against the peer's peak (target ≥ 0.8), 50
 * connections, in short rounds that pair a run of each server back to back (this shared machine's
 * speed drifts from one second to the next, by as much as the difference measured): the ratio is
 * the median of the rounds' own ratios, the req/s the medians of each server's runs; with each
 * server's CPU time per request (steadier than requests/s when the machine is busy); p99 at a
 * fixed rate of half the single-decision peak (target ≤ 5 ms; the peer at the same rate),
 * autocannon `overallRate` over 10 connections with its default coordinated-omission correction;
 * peak decisions/s in batches of 100 against peak single decisions/s, both over the same 50
 * connections (only the body differs), in rounds that pair a run of each (target ≥ 10×, median of
 * the rounds' ratios). The peaks are 21 rounds of 1 s runs (one round's ratio ranges from 0.6 to
 * 1.2 here, so many short rounds give a steadier median than a few long ones), the batch rounds 5
 * of 2 s runs, the other phases 4 s (2 s with --quick), after a warm-up. Each timed run waits
 * until the machine is idle, so none pays for the audit writes another left behind (in the Custos
 * process, or in PostgreSQL).
 */

const SUBJECTS = 3000;
const BATCH_SIZE = 100;

type Body = { subjectId: string; purposeId: string; categories: string[] };

/** One of every kind of subject: which consents they gave, refused or withdrew. */
function eventsFor(manifest: Manifest, subjectId: string, i: number): ConsentEventInput[] {
  const purpose = (id: string) => {
    const p = manifest.purposes.find((x) => x.id === id);
    if (!p) throw new Error(`the default manifest has no purpose ${id}`);
    return p;
  };
  const base = {
    subjectId,
    noticeVersion: manifest.version,
    language: "en" as const,
    method: "app" as const,
    actor: "self" as const,
  };
  const events: ConsentEventInput[] = [
    {
      ...base,
      targetKind: "policy",
      targetId: POLICY_TARGET_ID,
      state: "given",
      fingerprint: policyFingerprint(manifest),
    },
    {
      ...base,
      targetKind: "purpose",
      targetId: "personalised-content",
      state: "given",
      fingerprint: purposeFingerprint(purpose("personalised-content")),
    },
  ];
  // Every tenth subject withdrew surveys and switched personalised content off (denials).
  if (i % 10 === 0) {
    events.push({
      ...base,
      targetKind: "purpose",
      targetId: "surveys",
      state: "withdrawn",
      fingerprint: purposeFingerprint(purpose("surveys")),
    });
    const setting = manifest.purposes.filter((p) => p.setting === "personalised-content");
    events.push({
      ...base,
      targetKind: "setting",
      targetId: "personalised-content",
      state: "withdrawn",
      fingerprint: switchFingerprint("setting", "personalised-content", {
        purposes: setting.map((p) => p.id),
        categories: setting.flatMap((p) => p.categories),
      }),
    });
  }
  return events;
}

/**
 * The request mix, one body per subject: mostly allowed decisions without sensitive categories
 * (counted), and the denials of the subjects who withdrew (each audited one by one).
 */
const MIX: { purposeId: string; categories: string[] }[] = [
  { purposeId: "service-operation", categories: ["device", "logs"] },
  { purposeId: "surveys", categories: ["survey"] },
  { purposeId: "personalised-content", categories: ["device", "recommendation-profile"] },
  { purposeId: "usage-analytics", categories: ["device"] },
  { purposeId: "delivery", categories: ["delivery"] },
  { purposeId: "push-notifications", categories: ["device"] },
  { purposeId: "anti-cheat", categories: ["security-data", "device"] },
];

async function seed(manifest: Manifest, dataDir: string, log: (line: string) => void): Promise<string[]> {
  const url = process.env.DATABASE_URL;
  const database = await openDatabase(url ? { url } : { dataDir: path.join(dataDir, "pglite") });
  try {
    await migrate(database.db);
    const ledger = createConsentLedger({ db: database.db });
    const subjectIds = Array.from({ length: SUBJECTS }, () => randomUUID());
    const started = performance.now();
    const parallel = database.kind === "postgres" ? 8 : 1;
    for (let i = 0; i < subjectIds.length; i += parallel)
      await Promise.all(
        subjectIds
          .slice(i, i + parallel)
          .map((id, j) => ledger.append(database.db, eventsFor(manifest, id, i + j))),
      );
    log(
      `  seeded ${SUBJECTS} subjects on ${database.kind} through the consent ledger in ${Math.round(performance.now() - started)} ms`,
    );
    return subjectIds;
  } finally {
    await database.close();
  }
}

function rotate(bodies: readonly string[]) {
  let next = Math.floor(Math.random() * bodies.length);
  return (request: autocannon.Request): autocannon.Request => {
    next = (next + 1) % bodies.length;
    return { ...request, body: bodies[next] };
  };
}

type Load = LoadResult;

async function load(
  url: string,
  options: {
    seconds: number;
    connections: number;
    overallRate?: number;
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    bodies?: string[];
  },
): Promise<Load> {
  const result = await autocannon({
    url,
    duration: options.seconds,
    connections: options.connections,
    pipelining: 1,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    method: options.method ?? "GET",
    headers: options.headers,
    // One rotation shared by all connections, so consecutive requests ask about different
    // subjects (every connection walking the same list would ask about one subject 50 times in a row).
    ...(options.bodies ? { requests: [{ setupRequest: rotate(options.bodies) }] } : {}),
  });
  return loadResult(result);
}

function describe(name: string, l: Load): string {
  return `  ${name}: ${Math.round(l.requestsPerSecond)} req/s, p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms`;
}

function check(name: string, l: Load): void {
  if (l.errors || l.non2xx) throw new Error(`${name} answered ${l.errors} errors and ${l.non2xx} non-2xx`);
}

/** A load's result once `check` has passed it. */
async function checked<T extends Load>(name: string, run: Promise<T>): Promise<T> {
  const result = await run;
  check(name, result);
  return result;
}

/**
 * Runs `a` and `b` back to back, `rounds` times, with the one going first alternating: the pairs
 * of results, for ratios taken within a round (this machine's speed drifts between rounds). Before
 * each run, `settle` waits for the work the previous run left behind (audit writes, seals).
 */
async function pairedRounds<A, B>(
  rounds: number,
  a: () => Promise<A>,
  b: () => Promise<B>,
  settle: () => Promise<void>,
): Promise<[A, B][]> {
  const pairs: [A, B][] = [];
  const run = async <T>(f: () => Promise<T>) => {
    await settle();
    return f();
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      const x = await run(a);
      pairs.push([x, await run(b)]);
    } else {
      const y = await run(b);
      pairs.push([await run(a), y]);
    }
  }
  return pairs;
}

/**
 * Waits until the machine is idle: under a tenth of a core busy in all over 300 ms, longer than the
 * server waits to write denials (at most 6 s). A run that follows one which left the server, or
 * PostgreSQL, writing its evidence would otherwise pay for the other's work.
 */
async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const before = busyMachineTicks();
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (!(busyMachineTicks() - before >= 3)) return;
  }
}

/** Busy CPU time of the whole machine so far, in clock ticks (Linux /proc/stat; else NaN). */
function busyMachineTicks(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const [, ...ticks] = line.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal …: everything but idle and iowait.
    return ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in µs (Linux /proc; else NaN). */
function cpuMicros(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on every Linux build Node supports. */
const CLOCK_TICKS = 100;

type Measured = Load & { cpuMicrosPerRequest: number; clientCpuMicrosPerRequest: number };

/** One load phase, with the server's CPU time per answered request. */
async function measured(
  pid: number | undefined,
  url: string,
  options: Parameters<typeof load>[1],
): Promise<Measured> {
  const before = cpuMicros(pid);
  const client = process.cpuUsage();
  const result = await load(url, options);
  const used = cpuMicros(pid) - before;
  const { user, system } = process.cpuUsage(client);
  const requests = result.requestsPerSecond * options.seconds;
  return {
    ...result,
    cpuMicrosPerRequest: used / requests,
    clientCpuMicrosPerRequest: (user + system) / requests,
  };
}

function median<T>(values: T[], by: (v: T) => number): T {
  const sorted = [...values].sort((a, b) => by(a) - by(b));
  return sorted[Math.floor(sorted.length / 2)] as T;
}

export const httpDecisionsBenchmark: Benchmark = {
  name: "http-decisions",
  description:
    "POST /api/v1/decisions (single and batch of 100) against a bare Fastify hello-world given the same requests: peak req/s, server CPU per request, p99 at half the peak, batch speed-up",
  async run({ quick, log }) {
    const seconds = quick ? 2 : 4;
    const rounds = quick ? 1 : 21;
    const peakSeconds = 1;
    const batchSeconds = 2;
    const batchRounds = quick ? 1 : 5;
    const connections = 50;
    // At a fixed rate autocannon sends each connection's share of a second back to back, so the
    // connection count is the burst concurrency: 10, a common client pool size.
    const fixedConnections = 10;
    const manifest = (await loadDefaultManifest()).manifest;

    const dataDir = await mkdtemp(path.join(tmpdir(), "custos-bench-decisions-"));
    const peer = await startHelloWorld();
    const peerUrl = `${peer.match[1]}/`;
    const peerPid = peer.child.pid;
    let single: Measured;
    let peerSingle: Measured;
    let peerGet: Measured;
    let peakRatio: number;
    let fixed: Load;
    let peerFixed: Load;
    let batch: Load;
    let batchSingle: Load;
    let batchRatio: number;
    try {
      const subjectIds = await seed(manifest, dataDir, log);
      const key = randomBytes(32).toString("base64url");
      const keyHash = createHash("sha256").update(key, "utf8").digest("hex");
      const server = await startCustos(dataDir, {
        LOG_LEVEL: "warn",
        RATE_LIMIT_MAX: "100000000",
        CUSTOS_SERVICE_RATE_LIMIT_MAX: "100000000",
        CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "bench-service", keyHash }]),
      });
      try {
        const base = server.match[1] as string;
        const headers = { "content-type": "application/json", [SERVICE_KEY_HEADER]: key };
        const items: Body[] = subjectIds.map((subjectId, i) => ({
          subjectId,
          ...(MIX[i % MIX.length] as { purposeId: string; categories: string[] }),
        }));
        const singles = items.map((item) => JSON.stringify(item));
        const batches: string[] = [];
        for (let i = 0; i < items.length; i += BATCH_SIZE)
          batches.push(JSON.stringify({ items: items.slice(i, i + BATCH_SIZE) }));
        const singleUrl = `${base}/api/v1/decisions`;
        const batchUrl = `${base}/api/v1/decisions/batch`;
        // The peer gets the very same requests (method, headers, rotating bodies), so the client's
        // own cost is the same on both sides and the ratio is the servers' difference.
        const post = { method: "POST" as const, headers, bodies: singles, connections };

        // The mix as the server decides it: the share audited one by one (denials, sensitive).
        let audited = 0;
        for (const body of batches) {
          const res = await fetch(batchUrl, { method: "POST", headers, body });
          if (!res.ok) throw new Error(`the batch endpoint answered ${res.status}: ${await res.text()}`);
          const { decisions } = (await res.json()) as { decisions: { allow: boolean; sensitive: boolean }[] };
          audited += decisions.filter((d) => !d.allow || d.sensitive).length;
        }
        log(
          `  mix: ${items.length} decisions over ${SUBJECTS} subjects, ${((100 * audited) / items.length).toFixed(1)}% audited one by one (denials, sensitive), the rest counted`,
        );

        // Peaks: warm both, then rounds of one run each, back to back, which goes first alternating
        // from round to round; the ratio of each round, and their median.
        await load(singleUrl, { ...post, seconds: quick ? 1 : 2 });
        await load(peerUrl, { ...post, seconds: 1 });
        const peaks = await pairedRounds(
          rounds,
          () =>
            checked(
              "single decisions",
              measured(server.child.pid, singleUrl, { ...post, seconds: peakSeconds }),
            ),
          () => checked("hello-world", measured(peerPid, peerUrl, { ...post, seconds: peakSeconds })),
          settled,
        );
        const ours = peaks.map(([o]) => o);
        const theirs = peaks.map(([, t]) => t);
        const ratios = peaks.map(([o, t]) => o.requestsPerSecond / t.requestsPerSecond);
        single = median(ours, (m) => m.requestsPerSecond);
        peerSingle = median(theirs, (m) => m.requestsPerSecond);
        peakRatio = median(ratios, (x) => x);
        log(`  peak rounds, custos / hello-world: ${ratios.map((x) => x.toFixed(2)).join(", ")}`);
        peerGet = await measured(peerPid, peerUrl, { seconds, connections });
        log(`${describe("custos single decisions peak", single)}, ${cpu(single)}`);
        log(`${describe("hello-world peak, same POST requests", peerSingle)}, ${cpu(peerSingle)}`);
        log(`${describe("hello-world peak, GET", peerGet)}, ${cpu(peerGet)}`);

        const rate = Math.max(1, Math.round(single.requestsPerSecond / 2));
        await settled();
        fixed = await load(singleUrl, {
          ...post,
          seconds,
          connections: fixedConnections,
          overallRate: rate,
        });
        check("single decisions at a fixed rate", fixed);
        log(describe(`custos single decisions at ${rate} req/s`, fixed));
        await settled();
        peerFixed = await load(peerUrl, {
          ...post,
          seconds,
          connections: fixedConnections,
          overallRate: rate,
        });
        log(describe(`hello-world at ${rate} req/s`, peerFixed));

        // Batches against single decisions, paired in rounds as the peaks are.
        // Same connections as the single decisions, so only the body differs. (At 10 connections the
        // load generator spent up to twice the CPU per batch, 86 against 41–70 µs: CPU the server
        // then lacked on two cores, so batches were measured below their peak.)
        await load(batchUrl, { ...post, bodies: batches, seconds: 1 });
        const batchPairs = await pairedRounds(
          batchRounds,
          () =>
            checked("batch decisions", load(batchUrl, { ...post, bodies: batches, seconds: batchSeconds })),
          () => checked("single decisions", load(singleUrl, { ...post, seconds: batchSeconds })),
          settled,
        );
        const batchRuns = batchPairs.map(([b]) => b);
        const pairedSingles = batchPairs.map(([, o]) => o);
        const batchRatios = batchPairs.map(
          ([b, o]) => (b.requestsPerSecond * BATCH_SIZE) / o.requestsPerSecond,
        );
        batch = median(batchRuns, (m) => m.requestsPerSecond);
        batchSingle = median(pairedSingles, (m) => m.requestsPerSecond);
        batchRatio = median(batchRatios, (x) => x);
        log(
          `${describe(`custos batches of ${BATCH_SIZE}`, batch)} = ${Math.round(batch.requestsPerSecond * BATCH_SIZE)} decisions/s`,
        );
        log(
          `  batch rounds, batch decisions/s / single decisions/s: ${batchRatios.map((x) => x.toFixed(1)).join(", ")}`,
        );
      } finally {
        await server.stop();
      }
    } finally {
      await peer.stop();
      await rm(dataDir, { recursive: true, force: true });
    }

    const batchDecisions = batch.requestsPerSecond * BATCH_SIZE;
    const results: BenchResult[] = [
      {
        bench: "http-decisions",
        metric: "single_requests_per_second",
        value: Math.round(single.requestsPerSecond),
        unit: "req/s",
        peer: "fastify-hello-world-same-post",
        peerValue: Math.round(peerSingle.requestsPerSecond),
        ratio: round(peakRatio),
        target: "ratio ≥ 0.8 (median of the rounds' ratios)",
      },
      {
        bench: "http-decisions",
        metric: "single_requests_per_second_vs_get",
        value: Math.round(single.requestsPerSecond),
        unit: "req/s",
        peer: "fastify-hello-world-get",
        peerValue: Math.round(peerGet.requestsPerSecond),
        ratio: round(single.requestsPerSecond / peerGet.requestsPerSecond),
        target: "(for reference: a GET without a body)",
      },
      {
        bench: "http-decisions",
        metric: "single_server_cpu_per_request",
        value: round(single.cpuMicrosPerRequest),
        unit: "µs",
        peer: "fastify-hello-world-same-post",
        peerValue: round(peerSingle.cpuMicrosPerRequest),
        ratio: round(peerSingle.cpuMicrosPerRequest / single.cpuMicrosPerRequest),
        target: "(the servers' own cost, steadier than req/s on a shared machine)",
      },
      {
        bench: "http-decisions",
        metric: "single_p99_at_half_peak",
        value: fixed.p99Ms,
        unit: "ms",
        peer: "fastify-hello-world-same-post",
        peerValue: peerFixed.p99Ms,
        ratio: round(fixed.p99Ms > 0 ? peerFixed.p99Ms / fixed.p99Ms : 1),
        target: "value ≤ 5 ms",
      },
      {
        bench: "http-decisions",
        metric: "batch_decisions_per_second",
        value: Math.round(batchDecisions),
        unit: "decisions/s",
        peer: "custos-single-decisions",
        peerValue: Math.round(batchSingle.requestsPerSecond),
        ratio: round(batchRatio),
        target: "ratio ≥ 10 (median of the rounds' ratios, each against single decisions run beside it)",
      },
    ];
    return results;
  },
};

function cpu(m: Measured): string {
  return `server CPU ${m.cpuMicrosPerRequest.toFixed(1)} µs/request, load generator ${m.clientCpuMicrosPerRequest.toFixed(1)} µs/request`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
