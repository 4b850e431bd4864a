import { batchHash, EventHasher } from "@custos/core";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../database.ts";
import { createTestDatabase } from "../test-database.ts";
import { type AuditLedger, createAuditLedger } from "./audit-ledger.ts";
import { auditRepo } from "./audit-repo.ts";
import { asSuperuser, buildChain, staffRead, T0, testClock } from "./audit-test-helpers.ts";
import { verifyAuditLedger } from "./audit-verify.ts";

/**
 * A fresh database per test holding a sealed chain of three batches (5, 7 and 4 staff reads),
 * sealed the given way; read its parts through the getters.
 */
function chainOf(sealBy: "stamp" | "range") {
  let database: Database;
  let ledger: AuditLedger;
  let batches: number[][];
  const clock = testClock();
  beforeEach(async () => {
    database = await createTestDatabase();
    clock.set(T0);
    ledger = createAuditLedger({ db: database.db, clock, sealBy });
    batches = await buildChain(database.db, ledger, [5, 7, 4]);
  });
  afterEach(async () => {
    await database?.close();
  });
  return {
    clock,
    get database() {
      return database;
    },
    get ledger() {
      return ledger;
    },
    get batches() {
      return batches;
    },
  };
}

// Every check runs on both kinds of batch: stamped (PostgreSQL) and sealed by id range (PGlite).
describe.each(["stamp", "range"] as const)(
  "audit ledger verification, batches sealed by %s (SEC-4)",
  (sealBy) => {
    const chain = chainOf(sealBy);
    const { clock } = chain;

    const db = () => chain.database.db;
    const second = (i: number) => chain.batches[1]?.[i] as number;

    it("SEC-4: an untouched ledger verifies, in small pages too, and reports its head", async () => {
      const progress: number[] = [];
      const result = await verifyAuditLedger(db(), {
        chunkSize: 3,
        clock,
        onProgress: (p) => progress.push(p.events),
      });
      expect(result).toMatchObject({ ok: true, batches: 3, events: 16, unsealed: 0, warnings: [] });
      expect(progress).toEqual([5, 12, 16]);
      if (!result.ok) throw new Error("unreachable");
      expect(result.head?.batchId).toBe(3);
      expect(result.head?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(await verifyAuditLedger(db(), { clock, anchor: result.head ?? undefined })).toMatchObject({
        ok: true,
      });
      expect(
        await verifyAuditLedger(db(), { clock, anchor: { batchId: 2, hash: "00".repeat(32) } }),
      ).toMatchObject({
        ok: false,
        brokenAt: { batchId: 2, reason: expect.stringMatching(/anchor/) },
      });
    });

    it("SEC-4: an empty ledger verifies", async () => {
      const empty = await createTestDatabase();
      try {
        expect(await verifyAuditLedger(empty.db)).toMatchObject({
          ok: true,
          batches: 0,
          events: 0,
          head: null,
        });
      } finally {
        await empty.close();
      }
    });

    it("SEC-4: the application cannot update, delete or truncate audit rows (the trigger raises)", async () => {
      const id = second(0);
      await expect(
        sql`update audit_events set outcome = 'denied' where id = ${id}`.execute(db()),
      ).rejects.toThrow(/append-only/);
      await expect(sql`update audit_events set batch_id = 3 where id = ${id}`.execute(db())).rejects.toThrow(
        /append-only/,
      );
      await expect(sql`delete from audit_events where id = ${id}`.execute(db())).rejects.toThrow(
        /append-only/,
      );
      await expect(sql`truncate audit_events`.execute(db())).rejects.toThrow(/append-only/);
      await expect(
        sql`update audit_batches set sealed_at = now() where batch_id = 1`.execute(db()),
      ).rejects.toThrow(/append-only/);
      await expect(sql`delete from audit_batches where batch_id = 3`.execute(db())).rejects.toThrow(
        /append-only/,
      );
      await expect(sql`truncate audit_batches`.execute(db())).rejects.toThrow(/append-only/);
      // an unsealed event cannot be edited either, only stamped by the sealer
      const fresh = await chain.ledger.append(db(), staffRead());
      await expect(
        sql`update audit_events set actor_id = 'x', batch_id = 9 where id = ${fresh}`.execute(db()),
      ).rejects.toThrow(/append-only/);
      expect(await verifyAuditLedger(db(), { clock })).toMatchObject({ ok: true, events: 16, unsealed: 1 });
    });

    it("SEC-4: an edited event is caught at its batch and id", async () => {
      await asSuperuser(db(), async () => {
        await sql`update audit_events set outcome = 'denied' where id = ${second(3)}`.execute(db());
      });
      expect(await verifyAuditLedger(db(), { chunkSize: 4 })).toMatchObject({
        ok: false,
        batches: 1,
        brokenAt: { batchId: 2, eventId: second(3), reason: expect.stringMatching(/edited/) },
      });
    });

    it("SEC-4: an edit of details or time only is caught too", async () => {
      await asSuperuser(db(), async () => {
        await sql`update audit_events set details = '{"fields": 1, "ticket": "T-9"}' where id = ${second(0)}`.execute(
          db(),
        );
      });
      expect(await verifyAuditLedger(db())).toMatchObject({
        ok: false,
        brokenAt: { batchId: 2, eventId: second(0) },
      });

      await asSuperuser(db(), async () => {
        await sql`update audit_events set details = '{"fields": 1, "ticket": "T-0"}' where id = ${second(0)}`.execute(
          db(),
        );
        await sql`update audit_events set occurred_at = occurred_at + interval '1 second' where id = ${second(5)}`.execute(
          db(),
        );
      });
      expect(await verifyAuditLedger(db())).toMatchObject({
        ok: false,
        brokenAt: { batchId: 2, eventId: second(5) },
      });
    });

    it("SEC-4: a deleted event is caught, in the middle and at the end of a batch", async () => {
      await asSuperuser(db(), async () => {
        await sql`delete from audit_events where id = ${second(2)}`.execute(db());
      });
      expect(await verifyAuditLedger(db(), { chunkSize: 2 })).toMatchObject({
        ok: false,
        brokenAt: {
          batchId: 2,
          eventId: second(3),
          reason: expect.stringMatching(/1 event sealed just before this one is missing/),
        },
      });

      const other = await createTestDatabase();
      try {
        const otherLedger = createAuditLedger({ db: other.db, clock, sealBy });
        const ids = await buildChain(other.db, otherLedger, [3, 3]);
        const last = ids[0]?.[2] as number;
        await asSuperuser(other.db, async () => {
          await sql`delete from audit_events where id = ${last}`.execute(other.db);
        });
        expect(await verifyAuditLedger(other.db)).toMatchObject({
          ok: false,
          brokenAt: {
            batchId: 1,
            eventId: last,
            reason: expect.stringMatching(/last 1 sealed event of the batch is missing/),
          },
        });
      } finally {
        await other.close();
      }
    });

    it("SEC-4: two events swapping contents (reordered) are caught at the first of them", async () => {
      const a = second(1);
      const b = second(4);
      await asSuperuser(db(), async () => {
        await sql`
        update audit_events t set
          occurred_at = s.occurred_at, actor_type = s.actor_type, actor_id = s.actor_id, action = s.action,
          subject_id = s.subject_id, category = s.category, purpose = s.purpose, outcome = s.outcome,
          reason = s.reason, request_id = s.request_id, details = s.details
        from audit_events s
        where (t.id, s.id) in ((${a}::int8, ${b}::int8), (${b}::int8, ${a}::int8))`.execute(db());
      });
      expect(await verifyAuditLedger(db())).toMatchObject({
        ok: false,
        brokenAt: { batchId: 2, eventId: a },
      });
    });

    it("SEC-4: an event inserted into a sealed batch is caught", async () => {
      const [id] = await chain.ledger.appendMany(db(), [staffRead()]);
      await asSuperuser(db(), async () => {
        await sql`update audit_events set batch_id = 2 where id = ${id}`.execute(db());
      });
      expect(await verifyAuditLedger(db())).toMatchObject({
        ok: false,
        brokenAt: {
          batchId: 2,
          eventId: id,
          reason: expect.stringMatching(
            sealBy === "stamp" ? /not sealed in this batch/ : /sealed by id range/,
          ),
        },
      });
    });

    it("SEC-4: an edited batch hash is caught at that batch; a resealed batch breaks the next link", async () => {
      await asSuperuser(db(), async () => {
        await sql`update audit_batches set hash = sha256(hash) where batch_id = 2`.execute(db());
      });
      expect(await verifyAuditLedger(db())).toMatchObject({
        ok: false,
        batches: 1,
        brokenAt: { batchId: 2, reason: expect.stringMatching(/batch hash/) },
      });

      // The attacker edits an event and recomputes batch 2 consistently: batch 3 no longer links.
      const other = await createTestDatabase();
      try {
        const otherLedger = createAuditLedger({ db: other.db, clock });
        const ids = await buildChain(other.db, otherLedger, [2, 2, 2]);
        const victim = ids[1]?.[0] as number;
        await asSuperuser(other.db, async () => {
          await sql`update audit_events set outcome = 'denied' where id = ${victim}`.execute(other.db);
          const events = (
            await auditRepo.sealedEventsAfter(other.db, { batchId: 1, id: 2 ** 52 }, 2, 100)
          ).filter((e) => e.batchId === 2);
          const [b1] = await auditRepo.batchesAfter(other.db, 0, 1, 1);
          const eventHashes = new EventHasher().digestAll(events);
          const hash = batchHash(b1?.hash ?? Buffer.alloc(32), 2, events.length, eventHashes);
          await sql`update audit_batches set hash = ${hash}, event_hashes = ${eventHashes} where batch_id = 2`.execute(
            other.db,
          );
        });
        expect(await verifyAuditLedger(other.db)).toMatchObject({
          ok: false,
          batches: 2,
          brokenAt: { batchId: 3, reason: expect.stringMatching(/prev_hash/) },
        });
      } finally {
        await other.close();
      }
    });

    it.skipIf(sealBy === "range")(
      "SEC-4: a deleted batch is caught, in the middle and at the end of the chain",
      async () => {
        await asSuperuser(db(), async () => {
          await sql`delete from audit_batches where batch_id = 3`.execute(db());
        });
        expect(await verifyAuditLedger(db())).toMatchObject({
          ok: false,
          batches: 2,
          brokenAt: {
            batchId: 3,
            eventId: chain.batches[2]?.[0],
            reason: expect.stringMatching(/batch 3 is missing/),
          },
        });
        await asSuperuser(db(), async () => {
          await sql`delete from audit_batches where batch_id = 2`.execute(db());
        });
        expect(await verifyAuditLedger(db())).toMatchObject({
          ok: false,
          batches: 1,
          brokenAt: { batchId: 2, reason: expect.stringMatching(/batch 2 is missing/) },
        });
      },
    );

    it("SEC-4: unsealed events older than the seal interval are a warning, not a break", async () => {
      await chain.ledger.append(db(), staffRead());
      expect(await verifyAuditLedger(db(), { clock })).toMatchObject({ ok: true, unsealed: 1, warnings: [] });
      clock.advance(10 * 60_000);
      const result = await verifyAuditLedger(db(), { clock, sealIntervalMs: 60_000 });
      expect(result).toMatchObject({
        ok: true,
        unsealed: 1,
        warnings: [expect.stringMatching(/not sealed yet/)],
      });
    });
  },
);

describe("audit batches sealed by id range, as on the embedded database (SEC-4)", () => {
  const chain = chainOf("range");
  const { clock } = chain;

  const db = () => chain.database.db;
  const second = (i: number) => chain.batches[1]?.[i] as number;

  it("SEC-4: a batch is one row; its events stay unstamped, verify in small pages and list with their batch", async () => {
    const stamped = await sql<{
      n: number;
    }>`select count(*)::int as n from audit_events where batch_id is not null`.execute(db());
    expect(stamped.rows[0]?.n).toBe(0);
    const rows = await auditRepo.batchesAfter(db(), 0, 3, 10);
    expect(rows.map((b) => [b.byRange, b.firstEventId, b.lastEventId, b.eventCount])).toEqual([
      [true, chain.batches[0]?.[0], chain.batches[0]?.[4], 5],
      [true, second(0), second(6), 7],
      [true, chain.batches[2]?.[0], chain.batches[2]?.[3], 4],
    ]);
    expect(await verifyAuditLedger(db(), { chunkSize: 3, clock })).toMatchObject({
      ok: true,
      batches: 3,
      events: 16,
      unsealed: 0,
    });

    const fresh = await chain.ledger.append(db(), staffRead());
    const listed = await chain.ledger.list({ limit: 500 });
    expect(listed.events.map((e) => [e.id, e.batchId])).toEqual(
      [[fresh, null], ...chain.batches.flatMap((ids, b) => ids.map((id) => [id, b + 1]))].sort(
        (x, y) => (y[0] as number) - (x[0] as number),
      ),
    );
    expect(await verifyAuditLedger(db(), { clock })).toMatchObject({ ok: true, events: 16, unsealed: 1 });
    expect(await chain.ledger.seal()).toMatchObject({ batches: 1, events: 1 });
    expect(await verifyAuditLedger(db(), { clock })).toMatchObject({ ok: true, batches: 4, unsealed: 0 });
  });

  it("SEC-4: a seal takes the hashes of the events its ledger appended and reads the others; the chain verifies", async () => {
    // Values the database gives back in another form: a uuid in capitals, details keys out of
    // order, -0, a number JSON writes with an exponent, text beyond ASCII.
    const own = await chain.ledger.appendMany(db(), [
      staffRead({ subjectId: "0B9F6C1E-5D2A-4C3B-8E7F-1A2B3C4D5E6F", reason: "中文 reason, emoji 😀" }),
      staffRead({ details: { zeta: 1, alpha: [3, "x/y", null, true], neg: -0, big: 1e21, half: 0.5 } }),
      staffRead({
        subjectId: null,
        category: null,
        purpose: null,
        reason: null,
        requestId: null,
        details: {},
      }),
    ]);
    // Another ledger on the same database (another process would do the same): not remembered here.
    const otherLedger = createAuditLedger({ db: db(), clock, sealBy: "range" });
    const others = await otherLedger.appendMany(db(), [staffRead(), staffRead({ reason: "by the other" })]);
    const mine = await chain.ledger.append(db(), staffRead({ details: { b: 2, a: 1 } }));
    expect(await chain.ledger.seal()).toMatchObject({ batches: 1, events: 6 });
    const [batch] = await auditRepo.batchesAfter(db(), 3, 4, 10);
    expect([batch?.firstEventId, batch?.lastEventId]).toEqual([own[0], mine]);
    expect(others.every((id) => id > (own[2] as number) && id < mine)).toBe(true);
    expect(await verifyAuditLedger(db(), { chunkSize: 4, clock })).toMatchObject({
      ok: true,
      batches: 4,
      events: 22,
      unsealed: 0,
    });
  });

  it("SEC-4: an event changed after it was appended and before its seal is caught at its id", async () => {
    const [first, changed, last] = await chain.ledger.appendMany(db(), [
      staffRead(),
      staffRead(),
      staffRead(),
    ]);
    await asSuperuser(db(), async () => {
      await sql`update audit_events set purpose = 'marketing' where id = ${changed}`.execute(db());
    });
    expect(await chain.ledger.seal()).toMatchObject({ batches: 1, events: 3 });
    expect(await verifyAuditLedger(db(), { clock })).toMatchObject({
      ok: false,
      brokenAt: { batchId: 4, eventId: changed },
    });
    expect([first, last].every((id) => typeof id === "number")).toBe(true);
  });

  it("SEC-4: an event inserted into a sealed range, or stamped with a range batch, is caught", async () => {
    // A rolled-back append leaves a gap in the ids inside the next range.
    const before = await chain.ledger.append(db(), staffRead());
    await db()
      .transaction()
      .execute(async (trx) => {
        await chain.ledger.append(trx, staffRead());
        throw new Error("roll back");
      })
      .catch(() => undefined);
    const after = await chain.ledger.append(db(), staffRead());
    expect(after).toBe(before + 2);
    expect(await chain.ledger.seal()).toMatchObject({ batches: 1, events: 2 });
    expect(await verifyAuditLedger(db())).toMatchObject({ ok: true, batches: 4, events: 18 });

    await asSuperuser(db(), async () => {
      await sql`insert into audit_events (id, occurred_at, actor_type, actor_id, action, outcome)
        values (${before + 1}, now(), 'staff', 'staff-7', 'read', 'allowed')`.execute(db());
    });
    expect(await verifyAuditLedger(db())).toMatchObject({
      ok: false,
      batches: 3,
      brokenAt: { batchId: 4, eventId: before + 1 },
    });

    const fresh = await chain.ledger.append(db(), staffRead());
    await asSuperuser(db(), async () => {
      await sql`delete from audit_events where id = ${before + 1}`.execute(db());
      await sql`update audit_events set batch_id = 3 where id = ${fresh}`.execute(db());
    });
    expect(await verifyAuditLedger(db())).toMatchObject({
      ok: false,
      batches: 2,
      brokenAt: { batchId: 3, eventId: fresh, reason: expect.stringMatching(/sealed by id range/) },
    });
  });

  it("SEC-4: a deleted range batch breaks the link in the middle; at the end its events look unsealed, and the anchor catches it", async () => {
    const head = await verifyAuditLedger(db(), { clock });
    if (!head.ok || !head.head) throw new Error("expected a sound chain");
    await asSuperuser(db(), async () => {
      await sql`delete from audit_batches where batch_id = 3`.execute(db());
    });
    expect(await verifyAuditLedger(db(), { clock })).toMatchObject({ ok: true, batches: 2, unsealed: 4 });
    expect(await verifyAuditLedger(db(), { clock, anchor: head.head })).toMatchObject({
      ok: false,
      brokenAt: { batchId: 3, reason: expect.stringMatching(/chain truncated/) },
    });
    clock.advance(10 * 60_000);
    expect(await verifyAuditLedger(db(), { clock, sealIntervalMs: 60_000 })).toMatchObject({
      ok: true,
      warnings: [expect.stringMatching(/4 event\(s\) are not sealed yet/)],
    });
    await asSuperuser(db(), async () => {
      await sql`delete from audit_batches where batch_id = 1`.execute(db());
    });
    expect(await verifyAuditLedger(db(), { clock })).toMatchObject({
      ok: false,
      batches: 0,
      brokenAt: { batchId: 2 },
    });
  });

  it("SEC-4: a ledger that stamps never reseals a range, and one that seals by range continues a stamped chain", async () => {
    const stamping = createAuditLedger({ db: db(), clock });
    expect(await stamping.seal()).toMatchObject({ batches: 0, events: 0 });
    const later = await stamping.append(db(), staffRead());
    expect(await stamping.seal()).toMatchObject({ batches: 1, events: 1 });
    const [batch4] = await auditRepo.batchesAfter(db(), 3, 4, 1);
    expect(batch4).toMatchObject({ byRange: false, firstEventId: later, lastEventId: later });
    expect(await verifyAuditLedger(db())).toMatchObject({ ok: true, batches: 4, events: 17, unsealed: 0 });

    const other = await createTestDatabase();
    try {
      await buildChain(other.db, createAuditLedger({ db: other.db, clock }), [3, 3]);
      const ranged = createAuditLedger({ db: other.db, clock, sealBy: "range" });
      await buildChain(other.db, ranged, [4]);
      expect(await verifyAuditLedger(other.db)).toMatchObject({ ok: true, batches: 3, events: 10 });
    } finally {
      await other.close();
    }
  });
});
