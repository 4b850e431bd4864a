import { createHash, randomUUID } from "node:crypto";
import {
  type ConsentEventInput,
  type ConsentEventsTable,
  consentEventHash,
  consentEventRow,
  createConsentLedger,
  createTestDatabase,
  type Database,
  type DB,
  openDatabase,
  type TestDatabase,
} from "@custos/store";
import { type Kysely, sql } from "kysely";
import type { Benchmark, BenchResult } from "./types.ts";

const CLIENTS = 32;
const SUBJECTS = 10_000;
const DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres";
const PURPOSES = ["location-services", "personalised-ads", "personalised-content", "affiliated-binding"];
const STATES = ["given", "refused", "withdrawn"] as const;
const FINGERPRINT = createHash("sha256").update("bench purpose definition").digest("hex");

type PlainTables = { consent_writes_plain: ConsentEventsTable };

/** The errors that mean "no PostgreSQL server to talk to" (as opposed to a bug). */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "EAI_AGAIN"]);

function isUnreachable(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === "string" && UNREACHABLE.has(code)) return true;
  return Array.isArray(errors) && errors.some(isUnreachable);
}

/** A consent event of one of SUBJECTS subjects, chosen at random (so subjects repeat). */
function makeEvent(subjects: readonly string[]): ConsentEventInput {
  const r = Math.random();
  return {
    subjectId: subjects[Math.floor(r * subjects.length)] as string,
    targetKind: "purpose",
    targetId: PURPOSES[Math.floor(Math.random() * PURPOSES.length)] as string,
    state: STATES[Math.floor(Math.random() * STATES.length)] as ConsentEventInput["state"],
    noticeVersion: "2025-06-01",
    fingerprint: FINGERPRINT,
    language: r < 0.5 ? "zh-CN" : "en",
    method: "app",
    actor: "self",
    occurredAt: new Date(),
  };
}

/** The same row as the ledger stores, with a hash but no chain (prev_hash = 32 zero bytes). */
function plainRow(e: ConsentEventInput) {
  const row = consentEventRow(e);
  const prev = Buffer.alloc(32);
  return {
    subject_id: row.subjectId,
    target_kind: row.targetKind,
    target_id: row.targetId,
    state: row.state,
    notice_version: row.noticeVersion,
    purpose_fingerprint: row.fingerprint,
    language: row.language,
    method: row.method,
    actor: row.actor,
    actor_id: row.actorId,
    reason: row.reason,
    basis: row.basis,
    occurred_at: row.occurredAt,
    prev_hash: prev,
    hash: consentEventHash(prev, row),
  };
}

/** CLIENTS loops, each awaiting one write before starting the next; returns acknowledged writes/s. */
async function drive(
  seconds: number,
  write: () => Promise<unknown>,
): Promise<{ rate: number; acked: number }> {
  let acked = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        await write();
        acked++;
      }
    }),
  );
  return { rate: acked / ((performance.now() - started) / 1000), acked };
}

/**
 * Consent writes (CON-3): durable consent events per second through the consent ledger (hash chain
 * per subject, projection in the same transaction, each event committed before its append resolves;
 * concurrent appends share a commit) on PostgreSQL, from 32 concurrent clients over 10k subjects,
 * against plain autocommit INSERTs of the same rows into a table of the same shape (no trigger, no
 * chain, no projection) through the same driver and pool. Rounds alternate between the two so drift
 * hits them alike; the median round of each counts. Skipped when no PostgreSQL server is reachable.
 */
export const consentWritesBenchmark: Benchmark = {
  name: "consent-writes",
  description:
    "durable hash-chained consent events per second on PostgreSQL (32 clients) against plain INSERTs",
  async run({ quick, log }) {
    const serverUrl = process.env.DATABASE_URL || DEFAULT_SERVER;
    const where = new URL(serverUrl).host;
    let test: TestDatabase;
    try {
      test = await createTestDatabase({ url: serverUrl });
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      log(`  skipped: no PostgreSQL server reachable at ${where} (set DATABASE_URL to a postgres:// server)`);
      return [];
    }
    let database: Database | undefined;
    try {
      database = await openDatabase({ url: test.url as string, poolSize: CLIENTS });
      return await measure(database.db, quick, log);
    } finally {
      await database?.close();
      await test.close();
    }
  },
};

async function measure(db: Kysely<DB>, quick: boolean, log: (line: string) => void): Promise<BenchResult[]> {
  const roundSeconds = quick ? 1 : 3;
  const rounds = quick ? 3 : 6;
  await sql`create table consent_writes_plain (like consent_events including constraints)`.execute(db);
  await sql`alter table consent_writes_plain alter column id add generated by default as identity`.execute(
    db,
  );
  await sql`alter table consent_writes_plain add primary key (id)`.execute(db);
  await sql`create index on consent_writes_plain (subject_id, id)`.execute(db);
  await sql`create index on consent_writes_plain (target_kind, target_id, state)`.execute(db);

  const subjects = Array.from({ length: SUBJECTS }, () => randomUUID());
  const ledger = createConsentLedger({ db });
  const plainDb = db.withTables<PlainTables>();
  const chained = () => ledger.append(db, [makeEvent(subjects)]);
  const plain = () =>
    plainDb
      .insertInto("consent_writes_plain")
      .values(plainRow(makeEvent(subjects)))
      .execute();

  // Warm-up: connections, plans, caches.
  let chainedAcked = (await drive(quick ? 0.5 : 1, chained)).acked;
  await drive(quick ? 0.5 : 1, plain);

  const rates: number[] = [];
  const peerRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const p = await drive(roundSeconds, plain);
    const c = await drive(roundSeconds, chained);
    chainedAcked += c.acked;
    peerRates.push(p.rate);
    rates.push(c.rate);
    log(
      `  round ${r + 1}: chained ${Math.round(c.rate)} events/s, plain INSERT ${Math.round(p.rate)} rows/s`,
    );
  }

  // Every acknowledged event is stored, and the chains verify.
  const stored = await sql<{ n: number }>`select count(*)::int as n from consent_events`.execute(db);
  if (stored.rows[0]?.n !== chainedAcked)
    throw new Error(`acknowledged ${chainedAcked} consent events but ${stored.rows[0]?.n} are stored`);
  for (const s of subjects.slice(0, quick ? 50 : 200)) {
    const check = await ledger.verify(s);
    if (!check.ok)
      throw new Error(`the chain of a benchmark subject does not verify: ${JSON.stringify(check)}`);
  }

  const value = Math.round(median(rates));
  const peerValue = Math.round(median(peerRates));
  log(
    `  postgres, ${CLIENTS} clients, ${SUBJECTS} subjects: ${value} chained events/s vs ${peerValue} plain INSERTs/s (medians of ${rounds} alternating rounds; ${chainedAcked} events verified stored)`,
  );
  return [
    {
      bench: "consent-writes",
      metric: "postgres_durable_consent_events",
      value,
      unit: "events/s",
      peer: "plain-autocommit-insert",
      peerValue,
      ratio: Math.round((value / peerValue) * 1000) / 1000,
      target: "ratio ≥ 0.8",
    },
  ];
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
