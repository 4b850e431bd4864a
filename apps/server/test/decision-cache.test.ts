import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fixedClock } from "@custos/core";
import type { Manifest } from "@custos/manifest";
import {
  createAuditLedger,
  createConsentLedger,
  type Database,
  openDatabase,
  purposeConsentEvent,
} from "@custos/store";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { createConsentChanges } from "../src/consent/consent-changes.ts";
import { createConsentService } from "../src/consent/consent-service.ts";
import { hashServiceKey } from "../src/consent/service-auth.ts";
import { startServer } from "../src/start.ts";
import { decideOne, SERVICE_KEY, serviceHeaders } from "./consent-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

/**
 * The decision API's state cache, in-memory allow counts and per-service rate limit: correctness
 * before speed. A cached state must never outlive a change made through any instance (CON-5).
 */

const serviceKeys = JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]);

/** A consent decision relayed by the app backend: one request, as the subject's own act. */
async function relayConsent(app: FastifyInstance, subjectId: string, purposeId: string, state: string) {
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/consents",
    headers: serviceHeaders,
    payload: {
      subjectId,
      purposeId,
      state,
      noticeVersion: app.custos.manifest.manifest.version,
      language: "en",
      method: "app",
    },
  });
  expect(res.statusCode, res.body).toBe(201);
}

/** What another server instance does: commits to the shared ledger without this instance's service. */
async function appendElsewhere(
  database: Database,
  manifest: Manifest,
  subjectId: string,
  state: "given" | "withdrawn",
) {
  await createConsentLedger({ db: database.db }).append(database.db, [
    purposeConsentEvent(manifest, subjectId, "surveys", state),
  ]);
}

async function countedDecisions(database: Database, purpose: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select coalesce(sum(count), 0)::int as n from audit_counts
    where service = 'game-server' and purpose = ${purpose}`.execute(database.db);
  return r.rows[0]?.n ?? 0;
}

async function auditedDecisions(database: Database, subjectId: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from audit_events where action = 'decide' and subject_id = ${subjectId}`.execute(
    database.db,
  );
  return r.rows[0]?.n ?? 0;
}

const surveys = (subjectId: string) => ({ subjectId, purposeId: "surveys", categories: ["survey"] });

describe("decision state cache (CON-5)", () => {
  let t: TestApp;
  const clock = fixedClock("2025-04-01T08:00:00Z");

  beforeAll(async () => {
    t = await buildTestApp({
      env: {
        CUSTOS_SERVICE_KEYS: serviceKeys,
        CUSTOS_DECISION_CACHE_SUBJECTS: "1000",
        CUSTOS_DECISION_CACHE_TTL_SECONDS: "30",
      },
      deps: { clock },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("CON-5: a withdrawal is seen by the very next decision, though the state was cached", async () => {
    const subjectId = randomUUID();
    await relayConsent(t.app, subjectId, "surveys", "given");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({
      allow: true,
      reason: "consent-given",
    });
    const before = t.app.custos.consent.cacheStats();
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
    // The second decision came from the cache, not the database.
    expect(t.app.custos.consent.cacheStats().hits).toBe(before.hits + 1);

    await relayConsent(t.app, subjectId, "surveys", "withdrawn");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
    await relayConsent(t.app, subjectId, "surveys", "given");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
  });

  it("CON-5: a subject id in upper case is the same subject, for decisions and for invalidation", async () => {
    const subjectId = randomUUID();
    const upper = subjectId.toUpperCase();
    await relayConsent(t.app, subjectId, "surveys", "given");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
    expect(await decideOne(t.app, surveys(upper))).toMatchObject({ allow: true });
    await relayConsent(t.app, upper, "surveys", "withdrawn");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
    expect(await decideOne(t.app, surveys(upper))).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
  });

  it("CON-8: switching a setting off through the service denies the next decision", async () => {
    const subjectId = randomUUID();
    await relayConsent(t.app, subjectId, "personalised-content", "given");
    const item = { subjectId, purposeId: "personalised-content", categories: ["device"] };
    expect(await decideOne(t.app, item)).toMatchObject({ allow: true });
    await t.app.custos.consent.recordSwitch(subjectId, {
      kind: "setting",
      id: "personalised-content",
      state: "withdrawn",
      language: "en",
      method: "app",
    });
    expect(await decideOne(t.app, item)).toMatchObject({ allow: false, reason: "setting-off" });
  });

  it("CON-5: a change committed by another instance invalidates when its notification arrives", async () => {
    const subjectId = randomUUID();
    await relayConsent(t.app, subjectId, "surveys", "given");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });

    await appendElsewhere(t.database, t.manifest.manifest, subjectId, "withdrawn");
    // Until the notification arrives this instance cannot know (the cache is really in use)…
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
    // …and the PostgreSQL bridge delivers it as a remote change on the same feed.
    t.app.custos.consentChanges.publishRemote([subjectId]);
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
  });

  it("a gap in the cross-instance feed empties the cache; the TTL bounds a lost notification", async () => {
    const a = randomUUID();
    const b = randomUUID();
    for (const id of [a, b]) {
      await relayConsent(t.app, id, "surveys", "given");
      expect(await decideOne(t.app, surveys(id))).toMatchObject({ allow: true });
      await appendElsewhere(t.database, t.manifest.manifest, id, "withdrawn");
    }
    t.app.custos.consentChanges.markGap();
    expect(await decideOne(t.app, surveys(a))).toMatchObject({ allow: false });

    // b's notification is lost and b was cached again before the change: at most the TTL.
    await appendElsewhere(t.database, t.manifest.manifest, b, "given");
    expect(await decideOne(t.app, surveys(b))).toMatchObject({ allow: true });
    await appendElsewhere(t.database, t.manifest.manifest, b, "withdrawn");
    clock.advance(29_000);
    expect(await decideOne(t.app, surveys(b))).toMatchObject({ allow: true });
    clock.advance(2_000);
    expect(await decideOne(t.app, surveys(b))).toMatchObject({ allow: false, reason: "consent-withdrawn" });
  });

  it("CON-5: a state in use is read again in the background before its TTL runs out, with no miss", async () => {
    const subjectId = randomUUID();
    await relayConsent(t.app, subjectId, "surveys", "given");
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
    // Another instance's change whose notification is lost: only a read can tell.
    await appendElsewhere(t.database, t.manifest.manifest, subjectId, "withdrawn");
    clock.advance(10_000);
    const early = t.app.custos.consent.cacheStats();
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(t.app.custos.consent.cacheStats().refreshes).toBe(early.refreshes);

    // Past the refresh point (half to three quarters of the TTL): the hit is answered from the
    // cache and queues a read; the decisions after it see the change, well before the TTL.
    clock.advance(13_000);
    const before = t.app.custos.consent.cacheStats();
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({ allow: true });
    await expect
      .poll(() => t.app.custos.consent.cacheStats().refreshes, { timeout: 5000 })
      .toBeGreaterThan(before.refreshes);
    expect(await decideOne(t.app, surveys(subjectId))).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
    expect(t.app.custos.consent.cacheStats().misses).toBe(before.misses);
  });

  type StatesOf = ReturnType<typeof createConsentLedger>["statesOf"];

  /**
   * A cached consent service on the real ledger, its state reads going through `statesOf` (given
   * the real one), and the consent it records for the tests below.
   */
  function serviceOnLedger(
    serviceClock: ReturnType<typeof fixedClock>,
    statesOf: (real: StatesOf, ids: readonly string[]) => ReturnType<StatesOf>,
    onBackgroundError?: (error: unknown) => void,
  ) {
    const db = t.database.db;
    const real = createConsentLedger({ db });
    const service = createConsentService({
      db,
      manifest: t.manifest.manifest,
      ledger: { ...real, statesOf: (ids: readonly string[]) => statesOf(real.statesOf, ids) },
      audit: createAuditLedger({ db }),
      clock: serviceClock,
      publicUrl: "http://custos.test",
      changes: createConsentChanges(),
      cache: { maxSubjects: 100, ttlMs: 60_000 },
      onBackgroundError,
    });
    const consent = {
      purposeId: "surveys",
      noticeVersion: t.manifest.manifest.version,
      language: "en" as const,
      method: "app" as const,
    };
    return { service, consent };
  }

  /**
   * A consent service whose next state read is answered only when released, after its query ran
   * (a slow network): what a change racing that read needs.
   */
  function serviceWithHeldRead(serviceClock: ReturnType<typeof fixedClock>) {
    let reads = 0;
    let holdNext: Promise<void> | undefined;
    const { service, consent } = serviceOnLedger(serviceClock, async (statesOf, ids) => {
      reads += 1;
      const states = await statesOf(ids);
      const hold = holdNext;
      holdNext = undefined;
      await hold;
      return states;
    });
    return {
      service,
      consent,
      reads: () => reads,
      /** Holds the next read's answer; call the result to release it. */
      holdNextRead(): () => void {
        let release = () => {};
        holdNext = new Promise<void>((resolve) => {
          release = resolve;
        });
        return release;
      },
    };
  }

  it("CON-5: a change committed while a background refresh reads is not overwritten by that read", async () => {
    const own = fixedClock("2025-04-01T08:00:00Z");
    const { service, consent, reads, holdNextRead } = serviceWithHeldRead(own);
    try {
      const subjectId = randomUUID();
      await service.record(subjectId, { ...consent, state: "given" });
      expect((await service.decideMany("game-server", [surveys(subjectId)]))[0]).toMatchObject({
        allow: true,
      });
      const release = holdNextRead();
      own.advance(46_000);
      const readsBefore = reads();
      // A hit past the refresh point: answered from the cache, its background read is held.
      expect(service.decideOne("game-server", surveys(subjectId))).toMatchObject({ allow: true });
      await expect.poll(reads, { timeout: 5000 }).toBe(readsBefore + 1);
      await service.record(subjectId, { ...consent, state: "withdrawn" });
      release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(service.cacheStats().refreshes).toBe(0);
      const [next] = await service.decideMany("game-server", [surveys(subjectId)]);
      expect(next).toMatchObject({ allow: false, reason: "consent-withdrawn" });
    } finally {
      await service.close();
    }
  });

  it("CON-5: a background refresh that fails leaves the cached state to its TTL, then a miss reads it", async () => {
    let failReads = false;
    const own = fixedClock("2025-04-01T08:00:00Z");
    const failures: unknown[] = [];
    const { service, consent } = serviceOnLedger(
      own,
      async (statesOf, ids) => {
        if (failReads) throw new Error("the database is unreachable");
        return statesOf(ids);
      },
      (error) => failures.push(error),
    );
    try {
      const subjectId = randomUUID();
      await service.record(subjectId, { ...consent, state: "given" });
      expect((await service.decideMany("game-server", [surveys(subjectId)]))[0]).toMatchObject({
        allow: true,
      });
      failReads = true;
      own.advance(46_000);
      expect(service.decideOne("game-server", surveys(subjectId))).toMatchObject({ allow: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Still answered from the cache, synchronously, until the TTL; nothing reported as lost evidence.
      expect(service.decideOne("game-server", surveys(subjectId))).toMatchObject({ allow: true });
      expect(service.cacheStats().refreshes).toBe(0);
      expect(failures).toEqual([]);
      failReads = false;
      own.advance(15_000);
      const { misses } = service.cacheStats();
      expect((await service.decideMany("game-server", [surveys(subjectId)]))[0]).toMatchObject({
        allow: true,
      });
      expect(service.cacheStats().misses).toBe(misses + 1);
    } finally {
      await service.close();
    }
  });

  it("CON-5: a state read while the subject changed answers that request but is not cached", async () => {
    const { service, consent, holdNextRead } = serviceWithHeldRead(clock);
    try {
      const subjectId = randomUUID();
      await service.record(subjectId, { ...consent, state: "given" });
      const release = holdNextRead();
      const racing = service.decideMany("game-server", [surveys(subjectId)]);
      // Let the query run, then withdraw while its answer is held.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await service.record(subjectId, { ...consent, state: "withdrawn" });
      release();
      expect((await racing)[0]).toMatchObject({ allow: true });
      const [next] = await service.decideMany("game-server", [surveys(subjectId)]);
      expect(next).toMatchObject({ allow: false, reason: "consent-withdrawn" });
    } finally {
      await service.close();
    }
  });

  it("SEC-4: allow counts a failed write could not store are kept, added to, and written by the next flush", async () => {
    const db = t.database.db;
    const ledger = createAuditLedger({ db, clock });
    let failNext = true;
    // The real ledger, with one write failing as a lost database connection would.
    const audit = Object.create(ledger) as typeof ledger;
    audit.recordDecisionCount = async (input, tx) => {
      if (failNext) {
        failNext = false;
        throw new Error("connection lost");
      }
      return ledger.recordDecisionCount(input, tx);
    };
    const service = createConsentService({
      db,
      manifest: t.manifest.manifest,
      ledger: createConsentLedger({ db }),
      audit,
      clock,
      publicUrl: "http://custos.test",
      changes: createConsentChanges(),
      cache: { maxSubjects: 100, ttlMs: 60_000 },
    });
    const service_ = `count-retry-${randomUUID().slice(0, 8)}`;
    const item = (purposeId: string, categories: string[]) => ({
      subjectId: randomUUID(),
      purposeId,
      categories,
    });
    try {
      await service.decideMany(service_, [
        item("delivery", ["delivery"]),
        item("delivery", ["delivery"]),
        item("service-operation", ["device", "logs"]),
      ]);
      await expect(service.flushDecisionCounts()).rejects.toThrow(/connection lost/);
      await service.decideMany(service_, [item("delivery", ["delivery"]), item("delivery", [])]);
      expect(await service.flushDecisionCounts()).toBe(6);
      const minute = new Date(Math.floor(clock.now().getTime() / 60_000) * 60_000);
      const rows = (await ledger.counts(minute, new Date(minute.getTime() + 60_000))).filter(
        (r) => r.service === service_,
      );
      expect(rows.map((r) => [r.purpose, r.category, Number(r.count)]).sort()).toEqual([
        ["delivery", "delivery", 3],
        ["delivery", "none", 1],
        ["service-operation", "device", 1],
        ["service-operation", "logs", 1],
      ]);
    } finally {
      await service.close();
    }
  });

  it("keeps at most the configured number of subjects (least recently used go first, by the CLOCK rule)", async () => {
    const db = t.database.db;
    const service = createConsentService({
      db,
      manifest: t.manifest.manifest,
      ledger: createConsentLedger({ db }),
      audit: createAuditLedger({ db }),
      clock,
      publicUrl: "http://custos.test",
      changes: createConsentChanges(),
      cache: { maxSubjects: 2, ttlMs: 60_000 },
    });
    try {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      const delivery = (subjectId: string) => ({
        subjectId,
        purposeId: "delivery",
        categories: ["delivery"],
      });
      await service.decideMany("game-server", [delivery(a), delivery(b)]);
      await service.decideMany("game-server", [delivery(a)]); // a is now the most recent
      await service.decideMany("game-server", [delivery(c)]); // evicts b
      expect(service.cacheStats().subjects).toBe(2);
      const { hits, misses } = service.cacheStats();
      await service.decideMany("game-server", [delivery(a), delivery(b)]);
      expect(service.cacheStats()).toMatchObject({ hits: hits + 1, misses: misses + 1, subjects: 2 });

      // A subject read again gets a second chance over one that was not (the CLOCK rule: an entry
      // read since it was last passed over moves to the end instead of leaving).
      const [x, w] = [randomUUID(), randomUUID()];
      await service.decideMany("game-server", [delivery(x), delivery(w)]);
      await service.decideMany("game-server", [delivery(x)]);
      await service.decideMany("game-server", [delivery(randomUUID())]); // evicts w, not x
      expect(service.cacheStats().subjects).toBe(2);
      const before = service.cacheStats();
      await service.decideMany("game-server", [delivery(x)]);
      expect(service.cacheStats()).toMatchObject({ hits: before.hits + 1, misses: before.misses });
      await service.decideMany("game-server", [delivery(w)]);
      expect(service.cacheStats()).toMatchObject({ hits: before.hits + 1, misses: before.misses + 1 });
    } finally {
      await service.close();
    }
  });
});

describe("decision audit: sensitive evidence before the answer, denials soon after, allow counts in memory", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({
      env: { CUSTOS_SERVICE_KEYS: serviceKeys, CUSTOS_DECISION_COUNT_FLUSH_SECONDS: "1" },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("SEC-4: concurrent sensitive allows are each in the audit log when their answers arrive", async () => {
    const subjects = Array.from({ length: 20 }, () => randomUUID());
    const answers = await Promise.all(
      subjects.map((subjectId) =>
        decideOne(t.app, { subjectId, purposeId: "real-name-authentication", categories: ["real-name"] }),
      ),
    );
    expect(answers.every((a) => a.allow && a.sensitive && a.reason === "basis")).toBe(true);
    for (const subjectId of subjects) expect(await auditedDecisions(t.database, subjectId)).toBe(1);
  });

  it("SEC-4: denials are each audited, in one background write within the denial window", async () => {
    const subjects = Array.from({ length: 20 }, () => randomUUID());
    const answers = await Promise.all(subjects.map((subjectId) => decideOne(t.app, surveys(subjectId))));
    expect(answers.every((a) => !a.allow && a.reason === "consent-missing")).toBe(true);
    const deadline = Date.now() + 5000;
    let audited = 0;
    while (Date.now() < deadline) {
      audited = 0;
      for (const subjectId of subjects) audited += await auditedDecisions(t.database, subjectId);
      if (audited === subjects.length) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(audited).toBe(subjects.length);
  });

  it("SEC-4: denials still queued are written when the service closes; later ones before their answer", async () => {
    const db = t.database.db;
    const service = createConsentService({
      db,
      manifest: t.manifest.manifest,
      ledger: createConsentLedger({ db }),
      audit: createAuditLedger({ db }),
      clock: fixedClock(new Date()),
      publicUrl: "http://custos.test",
      denialFlushMs: 600_000,
    });
    const [queued, late] = [randomUUID(), randomUUID()];
    try {
      expect((await service.decideMany("game-server", [surveys(queued)]))[0]).toMatchObject({ allow: false });
      expect(await auditedDecisions(t.database, queued)).toBe(0);
    } finally {
      await service.close();
    }
    expect(await auditedDecisions(t.database, queued)).toBe(1);
    await service.decideMany("game-server", [surveys(late)]);
    expect(await auditedDecisions(t.database, late)).toBe(1);
  });

  it("SEC-4: allowed decisions are counted in memory and written within the flush interval", async () => {
    const before = await countedDecisions(t.database, "anti-cheat");
    for (let i = 0; i < 5; i++)
      await decideOne(t.app, { subjectId: randomUUID(), purposeId: "anti-cheat", categories: ["device"] });
    // Not one write per decision: nothing yet (unless a flush just ran), all of them shortly.
    const deadline = Date.now() + 5000;
    let now = await countedDecisions(t.database, "anti-cheat");
    while (now < before + 5 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await countedDecisions(t.database, "anti-cheat");
    }
    expect(now).toBe(before + 5);
  });
});

describe("allow counts survive a clean close", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "custos-decision-counts-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("SEC-4: counts still in memory are written when the server stops (before its database closes)", async () => {
    const dataDir = path.join(dir, "data");
    const config = loadConfig({
      CUSTOS_DATA_DIR: dataDir,
      CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
      PORT: "0",
      LOG_LEVEL: "silent",
      CUSTOS_SERVICE_KEYS: serviceKeys,
      CUSTOS_DECISION_COUNT_FLUSH_SECONDS: "300",
    });
    const server = await startServer({ config });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.url}/api/v1/decisions`, {
          method: "POST",
          headers: { ...serviceHeaders, "content-type": "application/json" },
          body: JSON.stringify({ subjectId: randomUUID(), purposeId: "delivery", categories: ["delivery"] }),
        });
        expect(res.status).toBe(200);
      }
    } finally {
      await server.close();
    }
    const database = await openDatabase({ dataDir: path.join(dataDir, "pglite") });
    try {
      expect(await countedDecisions(database, "delivery")).toBe(3);
    } finally {
      await database.close();
    }
  });
});

describe("rate limit per service (SEC-8)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      env: { CUSTOS_SERVICE_KEYS: serviceKeys, RATE_LIMIT_MAX: "2", CUSTOS_SERVICE_RATE_LIMIT_MAX: "4" },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("SEC-8: a service has its own limit; a wrong key counts against the client address", async () => {
    const body = { subjectId: randomUUID(), purposeId: "delivery", categories: ["delivery"] };
    const send = (headers: Record<string, string>) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/decisions",
        headers,
        payload: body,
        remoteAddress: "198.51.100.77",
      });
    for (let i = 0; i < 4; i++) expect((await send(serviceHeaders)).statusCode).toBe(200);
    const limited = await send(serviceHeaders);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.message).toContain("from this service (limit 4 per minute)");

    const wrong = { "x-custos-service-key": "not-the-key-0123456789abcdef" };
    expect((await send(wrong)).statusCode).toBe(401);
    expect((await send(wrong)).statusCode).toBe(401);
    const byAddress = await send(wrong);
    expect(byAddress.statusCode).toBe(429);
    expect(byAddress.json().error.message).toContain("from this client (limit 2 per minute)");
  });
});
