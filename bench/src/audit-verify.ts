import { hash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  batchHash,
  type ChainEvent,
  checkBatchEvents,
  checkBatchLink,
  EventHasher,
  genesisHash,
  systemClock,
} from "@custos/core";
import {
  auditRepo,
  createAuditLedger,
  createTestDatabase,
  type Database,
  migrate,
  openDatabase,
  verifyAuditLedger,
} from "@custos/store";
import { sql } from "kysely";
import type { Benchmark, BenchResult } from "./types.ts";

const BATCH = 10_000;
const CHUNK = 5000;

/** Events shaped like the ones the ledger stores (a staff read with ids and counts). */
function sampleEvents(n: number): ChainEvent[] {
  const events: ChainEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    events[i] = {
      id: i + 1,
      occurredAt: new Date(Date.UTC(2025, 0, 1) + i),
      actorType: "staff",
      actorId: `staff-${i % 50}`,
      action: "read",
      subjectId: `3f2b8c1e-4a5d-4e6f-9a0b-${(100_000_000_000 + i).toString(16).padStart(12, "0").slice(-12)}`,
      category: "contact",
      purpose: "customer-support",
      outcome: i % 10 === 0 ? "denied" : "allowed",
      reason: null,
      requestId: `req-${i}`,
      details: { fields: i % 5, ticket: `T-${i}` },
    };
  }
  return events;
}

function bestOf(runs: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    fn();
    best = Math.min(best, performance.now() - started);
  }
  return best / 1000;
}

/** (a) In memory: recompute event hashes and batch links of sealed batches, one core. */
export function inMemory(n: number, log: (line: string) => void): BenchResult {
  const hasher = new EventHasher();
  const events = sampleEvents(n);
  type Sealed = {
    batchId: number;
    prevHash: Buffer;
    hash: Buffer;
    eventCount: number;
    eventHashes: Buffer;
    from: number;
    to: number;
  };
  const batches: Sealed[] = [];
  let prev = genesisHash();
  for (let from = 0, batchId = 1; from < n; from += BATCH, batchId++) {
    const to = Math.min(n, from + BATCH);
    const eventHashes = hasher.digestAll(events.slice(from, to));
    const h = batchHash(prev, batchId, to - from, eventHashes);
    batches.push({ batchId, prevHash: prev, hash: h, eventCount: to - from, eventHashes, from, to });
    prev = h;
  }
  const bytes = events.map((e) => Buffer.from(hasher.encode(e)));
  const averageBytes = Math.round(bytes.reduce((s, b) => s + b.length, 0) / n);

  const runs = 3;
  const verifySeconds = bestOf(runs, () => {
    let previous: Sealed | null = null;
    for (const b of batches) {
      if (checkBatchLink(b, previous)) throw new Error("benchmark chain does not verify");
      const sealed = {
        batchId: b.batchId,
        eventCount: b.eventCount,
        eventHashesLatin1: b.eventHashes.toString("latin1"),
      };
      if (checkBatchEvents(hasher, sealed, events, b.from, b.to, 0))
        throw new Error("benchmark events do not verify");
      previous = b;
    }
  });
  const peerSeconds = bestOf(runs, () => {
    for (let i = 0; i < n; i++) hash("sha256", bytes[i] as Buffer, "binary");
  });
  const value = Math.round(n / verifySeconds);
  const peerValue = Math.round(n / peerSeconds);
  log(
    `  in memory: ${n} events (${averageBytes} canonical bytes each), verify ${value} events/s, plain SHA-256 ${peerValue} hashes/s`,
  );
  return {
    bench: "audit-verify",
    metric: "in_memory_verify_rate",
    value,
    unit: "events/s",
    peer: "node-crypto-sha256",
    peerValue,
    ratio: round(value / peerValue),
    target: "≥ 400000 events/s per core",
  };
}

async function fill(database: Database, n: number, log: (line: string) => void): Promise<void> {
  const step = 50_000;
  for (let from = 1; from <= n; from += step) {
    const to = Math.min(n, from + step - 1);
    await sql`
      insert into audit_events (occurred_at, actor_type, actor_id, action, subject_id, category, purpose, outcome, reason, request_id, details)
      select timestamptz '2025-01-01T00:00:00Z' + g * interval '1 millisecond', 'staff', 'staff-' || (g % 50), 'read',
             md5(g::text)::uuid, 'contact', 'customer-support', case when g % 10 = 0 then 'denied' else 'allowed' end,
             null, 'req-' || g, jsonb_build_object('fields', g % 5, 'ticket', 'T-' || g)
      from generate_series(${from}::int, ${to}::int) g`.execute(database.db);
  }
  const started = performance.now();
  const sealed = await createAuditLedger({ db: database.db, clock: systemClock }).seal();
  log(
    `  sealed ${sealed.events} events in ${sealed.batches} batches in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** The baseline: the same rows, the same keyset pages, nothing computed. */
async function plainScan(database: Database): Promise<number> {
  const maxBatchId = await auditRepo.maxBatchId(database.db);
  let after = { batchId: 0, id: 0 };
  let rows = 0;
  for (;;) {
    const page = await auditRepo.sealedEventsAfter(database.db, after, maxBatchId, CHUNK);
    rows += page.length;
    const last = page[page.length - 1];
    if (!last || page.length < CHUNK) return rows;
    after = { batchId: last.batchId ?? 0, id: last.id };
  }
}

/** (b) From the database: verifyAuditLedger against a plain keyset SELECT of the same rows. */
export async function fromDatabase(n: number, log: (line: string) => void): Promise<BenchResult> {
  const url = process.env.DATABASE_URL;
  let database: Database;
  let cleanup = async () => {};
  if (url) {
    database = await createTestDatabase({ url });
  } else {
    const dataDir = await mkdtemp(path.join(tmpdir(), "custos-bench-audit-"));
    database = await openDatabase({ dataDir });
    await migrate(database.db);
    cleanup = () => rm(dataDir, { recursive: true, force: true });
  }
  try {
    await fill(database, n, log);
    let verifyBest = Number.POSITIVE_INFINITY;
    let plainBest = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      let started = performance.now();
      const rows = await plainScan(database);
      plainBest = Math.min(plainBest, (performance.now() - started) / 1000);
      started = performance.now();
      const result = await verifyAuditLedger(database.db, { chunkSize: CHUNK });
      verifyBest = Math.min(verifyBest, (performance.now() - started) / 1000);
      if (!result.ok || result.events !== n || rows !== n)
        throw new Error(`expected ${n} verified events, got ${JSON.stringify(result)}`);
    }
    const value = Math.round(n / verifyBest);
    const peerValue = Math.round(n / plainBest);
    log(
      `  ${database.kind}: ${n} stored events, verify ${value} events/s, plain keyset SELECT ${peerValue} rows/s`,
    );
    return {
      bench: "audit-verify",
      metric: `${database.kind}_verify_rate`,
      value,
      unit: "events/s",
      peer: "plain-keyset-select",
      peerValue,
      ratio: round(value / peerValue),
      target: "ratio ≥ 0.8",
    };
  } finally {
    await database.close();
    await cleanup();
  }
}

/**
 * Audit ledger verification (SEC-4): (a) the hash chain in memory against a plain SHA-256 loop
 * over the same canonical bytes; (b) verifying stored events (PGlite in a temp folder, or
 * DATABASE_URL) against a plain keyset-paginated SELECT of the same rows.
 */
export const auditVerifyBenchmark: Benchmark = {
  name: "audit-verify",
  description: "audit hash-chain verification, in memory and from the database",
  async run({ quick, log }) {
    const results = [inMemory(quick ? 50_000 : 200_000, log)];
    results.push(await fromDatabase(quick ? 20_000 : 200_000, log));
    return results;
  },
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
