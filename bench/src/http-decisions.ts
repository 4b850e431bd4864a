import { createHash, randomBytes, randomUUID } from "node:crypto";
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
 * separate consents, a withdrawn consent and a switched-off setting (denials, each audited before
 * the answer; about 3% of the mix, printed). The rest are allowed and counted per minute.
 *
 * Metrics: peak single-decision requests/s against the hello-world peak (target ≥ 0.8), 50
 * connections; p99 at a fixed rate of half the single-decision peak (target ≤ 5 ms; the peer is
 * hello-world at the same rate), autocannon `overallRate` over 10 connections with its default
 * coordinated-omission correction; decisions/s in batches of 100 against single decisions/s
 * (target ≥ 10×), 10 connections. Each phase runs 5 s (2 s with --quick) after a warm-up.
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
 * (counted), and the denials of the subjects who withdrew (each audited before the answer).
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

export const httpDecisionsBenchmark: Benchmark = {
  name: "http-decisions",
  description:
    "POST /api/v1/decisions (single and batch of 100) against a bare Fastify hello-world: peak req/s, p99 at half the peak, batch speed-up",
  async run({ quick, log }) {
    const seconds = quick ? 2 : 5;
    const connections = 50;
    // At a fixed rate autocannon sends each connection's share of a second back to back, so the
    // connection count is the burst concurrency: 10, a common client pool size.
    const fixedConnections = 10;
    const manifest = (await loadDefaultManifest()).manifest;

    // The peer: peak, then (once the Custos peak is known) the same fixed rate.
    const peer = await startHelloWorld();
    const peerUrl = `${peer.match[1]}/`;
    let peerPeak: Load;
    try {
      await load(peerUrl, { seconds: 1, connections });
      peerPeak = await load(peerUrl, { seconds, connections });
    } catch (error) {
      await peer.stop();
      throw error;
    }
    log(describe("hello-world peak", peerPeak));

    const dataDir = await mkdtemp(path.join(tmpdir(), "custos-bench-decisions-"));
    let single: Load;
    let fixed: Load;
    let peerFixed: Load;
    let batch: Load;
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
        const post = { method: "POST" as const, headers };

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

        await load(singleUrl, { ...post, seconds: quick ? 1 : 2, connections, bodies: singles });
        single = await load(singleUrl, { ...post, seconds, connections, bodies: singles });
        check("single decisions", single);
        log(describe("custos single decisions peak", single));

        const rate = Math.max(1, Math.round(single.requestsPerSecond / 2));
        fixed = await load(singleUrl, {
          ...post,
          seconds,
          connections: fixedConnections,
          overallRate: rate,
          bodies: singles,
        });
        check("single decisions at a fixed rate", fixed);
        log(describe(`custos single decisions at ${rate} req/s`, fixed));

        await load(batchUrl, { ...post, seconds: 1, connections: 10, bodies: batches });
        batch = await load(batchUrl, { ...post, seconds, connections: 10, bodies: batches });
        check("batch decisions", batch);
        log(
          `${describe(`custos batches of ${BATCH_SIZE}`, batch)} = ${Math.round(batch.requestsPerSecond * BATCH_SIZE)} decisions/s`,
        );

        peerFixed = await load(peerUrl, { seconds, connections: fixedConnections, overallRate: rate });
        log(describe(`hello-world at ${rate} req/s`, peerFixed));
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
        peer: "fastify-hello-world",
        peerValue: Math.round(peerPeak.requestsPerSecond),
        ratio: round(single.requestsPerSecond / peerPeak.requestsPerSecond),
        target: "ratio ≥ 0.8",
      },
      {
        bench: "http-decisions",
        metric: "single_p99_at_half_peak",
        value: fixed.p99Ms,
        unit: "ms",
        peer: "fastify-hello-world",
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
        peerValue: Math.round(single.requestsPerSecond),
        ratio: round(batchDecisions / single.requestsPerSecond),
        target: "ratio ≥ 10",
      },
    ];
    return results;
  },
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
