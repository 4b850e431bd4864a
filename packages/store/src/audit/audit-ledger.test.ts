import { randomUUID } from "node:crypto";
import { AppError } from "@custos/core";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../database.ts";
import { createTestDatabase } from "../test-database.ts";
import {
  type AuditLedger,
  auditEventInputSchema,
  createAuditLedger,
  isPlainAuditEvent,
} from "./audit-ledger.ts";
import { staffRead, T0, testClock } from "./audit-test-helpers.ts";
import { verifyAuditLedger } from "./audit-verify.ts";

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError");
}

describe("audit ledger (SEC-4)", () => {
  let database: Database;
  let ledger: AuditLedger;
  const clock = testClock();

  beforeAll(async () => {
    database = await createTestDatabase();
    ledger = createAuditLedger({ db: database.db, clock, maxBatchEvents: 50 });
  });
  afterAll(async () => {
    await database?.close();
  });

  const countEvents = async () =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from audit_events`.execute(database.db)).rows[0]?.n,
    );

  it("SEC-4: events written together keep every value as given: quotes, backslashes, braces, NULL, nulls", async () => {
    const subjectId = randomUUID().toUpperCase();
    const reasons = ['said "no", then {left}', "back\\slash\\", "NULL", " spaced ", "中文 reason", null];
    const events = reasons.map((reason, i) =>
      staffRead({
        subjectId: i === 5 ? null : subjectId,
        category: i === 4 ? null : "contact",
        reason,
        requestId: i === 3 ? null : `req-${i}`,
        details: { note: i, ticket: i === 0 ? "T-1:2/3#4" : "T-9", list: [1, "a/b", null] },
        occurredAt: new Date(T0.getTime() + i * 1001),
      }),
    );
    const ids = await ledger.appendMany(database.db, events);
    expect(ids).toHaveLength(6);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const listed = (await ledger.list({ limit: 500 })).events.filter((e) => ids.includes(e.id));
    listed.sort((a, b) => a.id - b.id);
    expect(listed.map((e) => e.reason)).toEqual(reasons.map((r) => (r === null ? null : r.trim())));
    expect(listed.map((e) => e.subjectId)).toEqual([...Array(5).fill(subjectId.toLowerCase()), null]);
    expect(listed.map((e) => e.category)).toEqual([
      "contact",
      "contact",
      "contact",
      "contact",
      null,
      "contact",
    ]);
    expect(listed.map((e) => e.requestId)).toEqual(["req-0", "req-1", "req-2", null, "req-4", "req-5"]);
    expect(listed.map((e) => e.details)).toEqual(events.map((e) => e.details));
    expect(listed.map((e) => e.occurredAt)).toEqual(events.map((e) => e.occurredAt?.toISOString()));
  });

  it("SEC-6: a reason that is not well-formed text (a lone surrogate) is refused with a 400 and nothing is written", async () => {
    const before = await countEvents();
    const error = await caught(
      ledger.appendMany(database.db, [staffRead(), staffRead({ reason: "ticket \uD83D" })]),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/audit event 2/);
    expect(error.message).toMatch(/well-formed text/);
    expect(await countEvents()).toBe(before);
  });

  it("SEC-4: an event appended in the caller's transaction commits or rolls back with it", async () => {
    const before = await countEvents();
    await expect(
      database.db.transaction().execute(async (trx) => {
        await ledger.append(trx, staffRead());
        throw new Error("the caller's work failed");
      }),
    ).rejects.toThrow(/caller's work failed/);
    expect(await countEvents()).toBe(before);
    const id = await database.db.transaction().execute((trx) => ledger.append(trx, staffRead()));
    expect(id).toBeGreaterThan(0);
    expect(await countEvents()).toBe(before + 1);
  });

  it("SEC-6: an invalid event is refused with a 400 naming the fields, never echoing personal values", async () => {
    const email = "li.si@example.cn";
    const error = await caught(
      ledger.append(database.db, staffRead({ details: { contact: email }, actorType: "robot" as "staff" })),
    );
    expect(error.code).toBe("validation_failed");
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/details\.contact/);
    expect(error.message).toMatch(/actorType/);
    expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain(email);
    // free text in details is refused; an oversized reason too
    await expect(
      ledger.append(database.db, staffRead({ details: { note: "Zhang San, Beijing" } })),
    ).rejects.toThrow(/id or code/);
    await expect(ledger.append(database.db, staffRead({ reason: "x".repeat(501) }))).rejects.toThrow(
      /reason/,
    );
    // one bad event in a batch: nothing is written
    const before = await countEvents();
    await expect(
      ledger.appendMany(database.db, [staffRead(), staffRead({ subjectId: "not-a-uuid" })]),
    ).rejects.toThrow(/audit event 2/);
    expect(await countEvents()).toBe(before);
  });

  it("SEC-4: seal writes batches of at most maxBatchEvents that verify, and stamps every event", async () => {
    await ledger.appendMany(
      database.db,
      Array.from({ length: 120 }, () => staffRead()),
    );
    const result = await ledger.seal();
    expect(result.batches).toBeGreaterThanOrEqual(3);
    expect(await ledger.seal()).toEqual({ batches: 0, events: 0, foldedCounts: 0 });
    const verified = await verifyAuditLedger(database.db, { clock });
    expect(verified).toMatchObject({ ok: true, unsealed: 0 });
    const page = await ledger.list({ limit: 500 });
    expect(page.events.every((e) => e.batchId !== null)).toBe(true);
  });

  it("SEC-4: the console lists events newest first with filters and a cursor", async () => {
    const subject = randomUUID();
    clock.set(new Date(T0.getTime() + 3_600_000));
    const ids = await ledger.appendMany(database.db, [
      staffRead({ subjectId: subject, actorId: "staff-a", action: "read" }),
      staffRead({
        subjectId: subject,
        actorId: "staff-b",
        action: "export",
        outcome: "denied",
        reason: "approval_missing",
      }),
      staffRead({ subjectId: subject, actorId: "staff-a", action: "update", category: "device" }),
      staffRead({ subjectId: subject.toUpperCase(), actorId: "staff-a", action: "read" }),
    ]);
    const all = await ledger.list({ subjectId: subject, limit: 10 });
    expect(all.events.map((e) => e.id)).toEqual([...ids].reverse());
    expect(all.nextCursor).toBeNull();
    expect(all.events[0]).toMatchObject({
      subjectId: subject,
      occurredAt: "2025-03-01T09:00:00.000Z",
      batchId: null,
    });

    const first = await ledger.list({ subjectId: subject.toUpperCase(), limit: 3 });
    expect(first.events).toHaveLength(3);
    const rest = await ledger.list({ subjectId: subject, limit: 3, cursor: first.nextCursor ?? "" });
    expect(rest.events.map((e) => e.id)).toEqual([ids[0]]);
    expect(rest.nextCursor).toBeNull();

    expect(
      (await ledger.list({ subjectId: subject, outcome: "denied" })).events.map((e) => e.reason),
    ).toEqual(["approval_missing"]);
    expect(
      (await ledger.list({ subjectId: subject, actorId: "staff-a", action: "read" })).events,
    ).toHaveLength(2);
    expect((await ledger.list({ subjectId: subject, category: "device" })).events.map((e) => e.id)).toEqual([
      ids[2],
    ]);
    const window = { from: new Date(T0.getTime() + 3_600_000), to: new Date(T0.getTime() + 3_600_001) };
    expect((await ledger.list({ actorId: "staff-b", ...window })).events).toHaveLength(1);
    expect((await ledger.list({ actorId: "staff-b", from: window.to })).events).toHaveLength(0);
    await expect(ledger.list({ cursor: "abc" })).rejects.toThrow(/cursor/);
    await expect(ledger.list({ limit: 10_000 })).rejects.toThrow(/limit/);
  });

  it("SEC-4: decision counts add up per minute and are folded into the chain when the minute closes", async () => {
    const at = new Date("2025-03-01T10:15:20.000Z");
    clock.set(new Date("2025-03-01T10:15:40.000Z"));
    const decision = { service: "match-service", purpose: "matchmaking", category: "device" };
    await ledger.recordDecisionCount({ ...decision, at, count: 5 });
    await ledger.recordDecisionCount({ ...decision, at: new Date(at.getTime() + 30_000), count: 7 });
    await ledger.recordDecisionCount({ ...decision, at: new Date(at.getTime() + 60_000), count: 2 });
    const counts = await ledger.counts(new Date("2025-03-01T10:00:00Z"), new Date("2025-03-01T11:00:00Z"));
    expect(counts.map((c) => [c.minute, c.count])).toEqual([
      ["2025-03-01T10:15:00.000Z", 12],
      ["2025-03-01T10:16:00.000Z", 2],
    ]);

    // the minute 10:15 is still open: nothing is folded
    expect((await ledger.seal()).foldedCounts).toBe(0);
    clock.set(new Date("2025-03-01T10:16:05.000Z"));
    expect((await ledger.seal()).foldedCounts).toBe(1);
    // a late report for a closed minute is folded as a further event
    await ledger.recordDecisionCount({ ...decision, at, count: 3 });
    clock.set(new Date("2025-03-01T10:17:00.000Z"));
    expect((await ledger.seal()).foldedCounts).toBe(2);

    const folded = await ledger.list({ action: "decide-count", actorId: "match-service" });
    expect(folded.events.map((e) => e.details)).toEqual([
      { minute: "2025-03-01T10:16:00.000Z", count: 2, total: 2 },
      { minute: "2025-03-01T10:15:00.000Z", count: 3, total: 15 },
      { minute: "2025-03-01T10:15:00.000Z", count: 12, total: 12 },
    ]);
    expect(
      folded.events.every(
        (e) => e.batchId !== null && e.purpose === "matchmaking" && e.outcome === "allowed",
      ),
    ).toBe(true);
    expect(await verifyAuditLedger(database.db, { clock })).toMatchObject({ ok: true });
    await expect(ledger.recordDecisionCount({ ...decision, at, count: 0 })).rejects.toThrow(/count/);
  });

  it("SEC-4: concurrent appends and seals from two ledgers keep one chain", async () => {
    const other = createAuditLedger({ db: database.db, clock, maxBatchEvents: 7 });
    const before = await verifyAuditLedger(database.db, { clock });
    if (!before.ok) throw new Error("chain broken before the test");
    const tasks: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      tasks.push(
        database.db.transaction().execute(async (trx) => {
          await ledger.appendMany(trx, [staffRead(), staffRead()]);
          await other.append(trx, staffRead({ action: "export" }));
        }),
      );
      if (i % 3 === 0) tasks.push(ledger.seal(), other.seal());
    }
    await Promise.all(tasks);
    await other.seal();
    const after = await verifyAuditLedger(database.db, { clock });
    expect(after).toMatchObject({ ok: true, unsealed: 0, events: before.events + before.unsealed + 60 });
    const batchIds = (
      await sql<{ batch_id: number }>`select batch_id from audit_batches order by batch_id`.execute(
        database.db,
      )
    ).rows.map((r) => r.batch_id);
    expect(batchIds).toEqual(Array.from({ length: batchIds.length }, (_, i) => i + 1));
  });

  it("SEC-4: an event that commits after a later id was sealed goes into the next batch and the chain still verifies", async () => {
    // On PostgreSQL, transaction A can take id n, transaction B id n+1, and B commit (and be
    // sealed) before A commits. The rows below are exactly what that race leaves behind.
    const reserved = Number(
      (await sql<{ id: string }>`select nextval('audit_events_id_seq')::text as id`.execute(database.db))
        .rows[0]?.id,
    );
    const later = await ledger.append(database.db, staffRead());
    await ledger.seal();
    await sql`insert into audit_events (id, occurred_at, actor_type, actor_id, action, outcome)
              values (${reserved}, ${T0}, 'system', 'late-writer', 'create', 'allowed')`.execute(database.db);
    await ledger.seal();
    const [lateEvent] = (await ledger.list({ actorId: "late-writer" })).events;
    const [laterEvent] = (await ledger.list({ cursor: String(later + 1), limit: 1 })).events;
    expect(lateEvent?.id).toBe(reserved);
    expect(laterEvent?.id).toBe(later);
    expect(lateEvent?.batchId).toBeGreaterThan(laterEvent?.batchId ?? Number.POSITIVE_INFINITY);
    expect(await verifyAuditLedger(database.db, { clock })).toMatchObject({ ok: true, unsealed: 0 });
  });

  it("SEC-4: periodic sealing seals new events until stopped", async () => {
    const sealer = ledger.startSealing({ intervalMs: 20 });
    try {
      const id = await ledger.append(database.db, staffRead());
      for (let i = 0; i < 200; i++) {
        const [event] = (await ledger.list({ limit: 1 })).events;
        if (event?.id === id && event.batchId !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await ledger.list({ limit: 1 })).events[0]).toMatchObject({ id, batchId: expect.any(Number) });
    } finally {
      await sealer.stop();
    }
    await ledger.append(database.db, staffRead());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await ledger.list({ limit: 1 })).events[0]?.batchId).toBeNull();
  });
});

describe("isPlainAuditEvent (SEC-6: the schema's shortcut for events it would accept as they are)", () => {
  const base = {
    actorType: "service",
    actorId: "game-server",
    action: "decide",
    subjectId: "0b9f6c1e-5d2a-4c3b-8e7f-1a2b3c4d5e6f",
    purpose: "surveys",
    category: "survey",
    outcome: "denied",
    reason: "consent-withdrawn",
    requestId: "req-0001.a:b/c",
    details: { categories: ["survey", "device"], basis: "consent", count: 3, flag: true, none: null },
    occurredAt: new Date("2026-01-02T03:04:05.678Z"),
  };
  const valid: Record<string, unknown>[] = [
    base,
    { actorType: "system", actorId: "sealer", action: "verify", outcome: "allowed" },
    { ...base, subjectId: null, category: null, purpose: null, reason: null, requestId: null, details: {} },
    { ...base, subjectId: "0B9F6C1E-5D2A-4C3B-8E7F-1A2B3C4D5E6F", reason: "ticket #42: see notes" },
    { ...base, reason: "emoji 😀 and 中文 are fine" },
    { ...base, details: { categories: Array.from({ length: 100 }, (_, i) => `c${i}`) } },
  ];
  const invalid: Record<string, unknown>[] = [
    { ...base, extra: 1 },
    { ...base, actorType: "robot" },
    { ...base, actorId: "" },
    { ...base, actorId: "x".repeat(201) },
    { ...base, actorId: "has space" },
    { ...base, action: "Decide" },
    { ...base, outcome: "maybe" },
    { ...base, subjectId: "not-a-uuid" },
    { ...base, subjectId: "0b9f6c1e-5d2a-9c3b-8e7f-1a2b3c4d5e6f" },
    { ...base, subjectId: "00000000-0000-0000-0000-000000000000" }, // the schema takes it; the shortcut leaves it to the schema
    { ...base, category: "a b" },
    { ...base, purpose: "p".repeat(101) },
    { ...base, reason: "" },
    { ...base, reason: " padded " }, // the schema trims it: not "as it is"
    { ...base, reason: "r".repeat(501) },
    { ...base, reason: "half a pair \uD83D here" },
    { ...base, reason: "\uDE00 trailing half" },
    { ...base, requestId: "id with spaces" },
    { ...base, details: { "bad-key": 1 } },
    { ...base, details: { free: "Zhang San lives here" } },
    { ...base, details: { n: Number.NaN } },
    { ...base, details: { n: Number.POSITIVE_INFINITY } },
    { ...base, details: { list: Array.from({ length: 101 }, () => 1) } },
    { ...base, details: { nested: { a: 1 } } },
    { ...base, details: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
    { ...base, details: [] },
    { ...base, occurredAt: new Date(Number.NaN) },
    { ...base, occurredAt: "2026-01-02" },
  ];

  it("SEC-4: accepts the usual events, each exactly as the schema gives them back", () => {
    for (const e of valid) {
      expect(isPlainAuditEvent(e)).toBe(true);
      const parsed = auditEventInputSchema.safeParse(e);
      expect(parsed.success).toBe(true);
      expect(parsed.data).toEqual(e);
    }
  });

  it("SEC-6: leaves to the schema every event it would refuse or change", () => {
    for (const e of invalid) {
      expect(isPlainAuditEvent(e)).toBe(false);
    }
    // Whatever the shortcut accepts, the schema accepts unchanged (never the other way round).
    for (const e of [...valid, ...invalid])
      if (isPlainAuditEvent(e)) expect(auditEventInputSchema.parse(e)).toEqual(e);
  });
});
