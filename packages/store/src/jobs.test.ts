import { fixedClock } from "@custos/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "./database.ts";
import { createJobQueue, createWorker, type Job, JobInputError } from "./jobs.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";

describe("jobs", () => {
  let database: TestDatabase;
  const clock = fixedClock("2025-06-01T08:00:00Z");

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom("jobs").execute();
    clock.set(new Date("2025-06-01T08:00:00Z"));
  });

  it("runs a due job once and marks it done; a future job waits for its time", async () => {
    const queue = createJobQueue(database.db, { clock });
    const seen: Job[] = [];
    const worker = createWorker({
      db: database.db,
      clock,
      handlers: {
        "notify.send": async ({ job }) => {
          seen.push(job);
        },
      },
    });
    const { id } = await queue.enqueue(undefined, {
      kind: "notify.send",
      payload: { messageId: "m1", n: [1, 2] },
    });
    await queue.enqueue(undefined, {
      kind: "notify.send",
      payload: {},
      runAt: new Date("2025-06-01T09:00:00Z"),
    });

    expect(await worker.runOnce()).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id,
      kind: "notify.send",
      payload: { messageId: "m1", n: [1, 2] },
      attempts: 1,
    });
    const row = await queue.get(id);
    expect(row?.done_at).toEqual(clock.now());
    expect(row?.locked_by).toBeNull();
    expect(await worker.runOnce()).toBe(0);

    clock.advance(60 * 60_000);
    expect(await worker.runOnce()).toBe(1);
    expect(await worker.runOnce()).toBe(0);
  });

  it("retries with exponential backoff, then succeeds", async () => {
    const queue = createJobQueue(database.db, { clock });
    let calls = 0;
    const worker = createWorker({
      db: database.db,
      clock,
      handlers: {
        flaky: async () => {
          calls += 1;
          if (calls < 3) throw new Error(`boom ${calls}`);
        },
      },
    });
    const { id } = await queue.enqueue(undefined, { kind: "flaky", maxAttempts: 5 });

    expect(await worker.runOnce()).toBe(1);
    let row = await queue.get(id);
    expect(row?.attempts).toBe(1);
    expect(row?.last_error).toBe("Error: boom 1");
    expect(row?.run_at.getTime()).toBe(clock.now().getTime() + 1000);
    expect(await worker.runOnce()).toBe(0); // not due yet

    clock.advance(1000);
    expect(await worker.runOnce()).toBe(1);
    row = await queue.get(id);
    expect(row?.run_at.getTime()).toBe(clock.now().getTime() + 2000); // doubled

    clock.advance(2000);
    expect(await worker.runOnce()).toBe(1);
    row = await queue.get(id);
    expect(row?.done_at).not.toBeNull();
    expect(row?.failed_at).toBeNull();
    expect(row?.attempts).toBe(3);
    expect(calls).toBe(3);
  });

  it("fails a job for good after max_attempts; the handler sees which attempt of how many it is", async () => {
    const queue = createJobQueue(database.db, { clock });
    let calls = 0;
    const tries: [number, number][] = [];
    const worker = createWorker({
      db: database.db,
      clock,
      backoffMs: () => 10,
      handlers: {
        broken: async ({ job }) => {
          calls += 1;
          tries.push([job.attempts, job.maxAttempts]);
          throw new Error("always");
        },
      },
    });
    const { id } = await queue.enqueue(undefined, { kind: "broken", maxAttempts: 2 });
    expect(await worker.runOnce()).toBe(1);
    clock.advance(10);
    expect(await worker.runOnce()).toBe(1);
    clock.advance(60_000);
    expect(await worker.runOnce()).toBe(0);
    const row = await queue.get(id);
    expect(calls).toBe(2);
    // attempts === maxAttempts tells the handler this is its last try (e.g. to mark a message failed).
    expect(tries).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(row?.failed_at?.getTime()).toBe(clock.now().getTime() - 60_000);
    expect(row?.done_at).toBeNull();
    expect(row?.last_error).toBe("Error: always");
  });

  it("an idempotency key makes a second enqueue a no-op", async () => {
    const queue = createJobQueue(database.db, { clock });
    const first = await queue.enqueue(undefined, {
      kind: "export.build",
      payload: { a: 1 },
      idempotencyKey: "req-42",
    });
    const second = await queue.enqueue(undefined, {
      kind: "export.build",
      payload: { a: 2 },
      idempotencyKey: "req-42",
    });
    expect(first.created).toBe(true);
    expect(second).toEqual({ id: first.id, created: false });
    const rows = await database.db.selectFrom("jobs").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.payload).toEqual({ a: 1 });
  });

  it("enqueue joins the caller's transaction: a rollback leaves no job", async () => {
    const queue = createJobQueue(database.db, { clock });
    await expect(
      database.db.transaction().execute(async (trx) => {
        await queue.enqueue(trx, { kind: "notify.send" });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await database.db.selectFrom("jobs").selectAll().execute()).toHaveLength(0);
  });

  it("refuses bad input with a clear message", async () => {
    const queue = createJobQueue(database.db, { clock });
    await expect(queue.enqueue(undefined, { kind: "Bad Kind" })).rejects.toThrow(JobInputError);
    await expect(queue.enqueue(undefined, { kind: "ok", maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
    await expect(queue.enqueue(undefined, { kind: "ok", payload: "x".repeat(300_000) })).rejects.toThrow(
      /at most/,
    );
    expect(await database.db.selectFrom("jobs").selectAll().execute()).toHaveLength(0);
  });

  it("a job whose lease expired is claimed again, and the late first run cannot overwrite the outcome", async () => {
    const queue = createJobQueue(database.db, { clock });
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs: string[] = [];
    const slow = createWorker({
      db: database.db,
      clock,
      leaseMs: 30_000,
      workerId: "slow",
      handlers: {
        long: async () => {
          runs.push("slow");
          await blocked;
          throw new Error("late failure");
        },
      },
    });
    const fast = createWorker({
      db: database.db,
      clock,
      leaseMs: 30_000,
      workerId: "fast",
      handlers: {
        long: async () => {
          runs.push("fast");
        },
      },
    });
    const { id } = await queue.enqueue(undefined, { kind: "long", maxAttempts: 3 });
    const slowRun = slow.runOnce();
    while (runs.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect((await queue.get(id))?.locked_by).toBe("slow");

    expect(await fast.runOnce()).toBe(0); // lease still held
    clock.advance(30_001);
    expect(await fast.runOnce()).toBe(1); // lease expired: reclaimed
    release();
    expect(await slowRun).toBe(1);

    const row = await queue.get(id);
    expect(runs).toEqual(["slow", "fast"]);
    expect(row?.done_at).not.toBeNull();
    expect(row?.attempts).toBe(2);
    expect(row?.last_error).toBeNull();
  });

  it("start() polls until stop(); jobs of kinds without a handler are left alone", async () => {
    const queue = createJobQueue(database.db);
    const done: number[] = [];
    const worker = createWorker({
      db: database.db,
      pollMs: 20,
      handlers: {
        tick: async ({ job }) => {
          done.push(job.id);
        },
      },
    });
    await queue.enqueue(undefined, { kind: "other" });
    worker.start();
    const a = await queue.enqueue(undefined, { kind: "tick" });
    const b = await queue.enqueue(undefined, { kind: "tick" });
    const deadline = Date.now() + 10_000;
    while (done.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await worker.stop();
    expect(done.sort()).toEqual([a.id, b.id].sort());
    const other = await database.db
      .selectFrom("jobs")
      .selectAll()
      .where("kind", "=", "other")
      .executeTakeFirst();
    expect(other?.attempts).toBe(0);
    expect(other?.done_at).toBeNull();
  });

  it("two workers never run the same job (separate pools on PostgreSQL)", async () => {
    const queue = createJobQueue(database.db, { clock });
    const total = 60;
    for (let i = 0; i < total; i++) await queue.enqueue(undefined, { kind: "count", payload: { i } });

    let second: Database | undefined;
    if (database.kind === "postgres" && database.url)
      second = await openDatabase({ url: database.url, poolSize: 5 });
    const runsById = new Map<number, string[]>();
    const handler =
      (name: string) =>
      async ({ job }: { job: Job }) => {
        runsById.set(job.id, [...(runsById.get(job.id) ?? []), name]);
        await new Promise((r) => setTimeout(r, 1));
      };
    const w1 = createWorker({
      db: database.db,
      clock,
      batchSize: 7,
      workerId: "w1",
      handlers: { count: handler("w1") },
    });
    const w2 = createWorker({
      db: second?.db ?? database.db,
      clock,
      batchSize: 7,
      workerId: "w2",
      handlers: { count: handler("w2") },
    });
    try {
      const drain = async (w: typeof w1) => {
        let n = 0;
        for (;;) {
          const ran = await w.runOnce();
          if (ran === 0) return n;
          n += ran;
        }
      };
      // Two concurrent loops per worker, so claims overlap within and across workers.
      const counts = await Promise.all([drain(w1), drain(w2), drain(w1), drain(w2)]);
      const [a = 0, b = 0, c = 0, d = 0] = counts;
      const n1 = a + c;
      const n2 = b + d;
      expect(n1 + n2).toBe(total);
      expect(runsById.size).toBe(total);
      for (const runs of runsById.values()) expect(runs).toHaveLength(1);
      expect(n1).toBeGreaterThan(0);
      expect(n2).toBeGreaterThan(0);
      const pending = await database.db
        .selectFrom("jobs")
        .select("id")
        .where("done_at", "is", null)
        .execute();
      expect(pending).toHaveLength(0);
    } finally {
      await second?.close();
    }
  });
});
