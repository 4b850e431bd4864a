import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "./database.ts";
import { migrate } from "./migrate.ts";
import { createTestDatabase } from "./test-database.ts";

describe("openDatabase", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  it("maps int8, timestamptz, date, jsonb and bytea the same way on both engines", async () => {
    const r = await sql<{
      i8: number;
      ts: Date;
      d: string;
      j: unknown;
      b: Buffer;
      n: string;
    }>`select 9007199254740991::int8 as i8, '2025-03-04T05:06:07Z'::timestamptz as ts, '2025-01-02'::date as d,
          '{"a":[1,"x"]}'::jsonb as j, '\\x00ff10'::bytea as b, 1.50::numeric as n`.execute(database.db);
    const row = r.rows[0];
    expect(row?.i8).toBe(9007199254740991);
    expect(row?.ts).toBeInstanceOf(Date);
    expect(row?.ts.toISOString()).toBe("2025-03-04T05:06:07.000Z");
    expect(row?.d).toBe("2025-01-02");
    expect(row?.j).toEqual({ a: [1, "x"] });
    expect(Buffer.isBuffer(row?.b)).toBe(true);
    expect([...(row?.b ?? [])]).toEqual([0, 255, 16]);
    expect(row?.n).toBe("1.50");
  });

  it("round-trips parameters of each mapped type", async () => {
    const id = await database.db
      .insertInto("jobs")
      .values({
        kind: "probe",
        payload: JSON.stringify(["a", { b: 1 }]),
        run_at: new Date("2025-01-01T00:00:00Z"),
      })
      .returning(["id", "payload", "run_at"])
      .executeTakeFirstOrThrow();
    expect(typeof id.id).toBe("number");
    expect(id.payload).toEqual(["a", { b: 1 }]);
    expect(id.run_at.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    const r = await sql<{ b: Buffer }>`select ${Buffer.from([1, 2, 3])}::bytea as b`.execute(database.db);
    expect([...(r.rows[0]?.b ?? [])]).toEqual([1, 2, 3]);
  });

  it("transactions commit and roll back; concurrent transactions queue rather than interleave", async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("subjects")
          .values({ subject_id: crypto.randomUUID(), region: "rolled-back" })
          .execute();
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    const none = await database.db
      .selectFrom("subjects")
      .where("region", "=", "rolled-back")
      .selectAll()
      .execute();
    expect(none).toHaveLength(0);

    const work = Array.from({ length: 8 }, (_, i) =>
      database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("subjects")
          .values({ subject_id: crypto.randomUUID(), region: `q${i}` })
          .execute();
        await new Promise((r) => setTimeout(r, 2));
        if (i % 2 === 1) throw new Error("odd");
      }),
    );
    const results = await Promise.allSettled(work);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(4);
    const rows = await database.db
      .selectFrom("subjects")
      .where("region", "like", "q%")
      .select("region")
      .execute();
    expect(rows.map((r) => r.region).sort()).toEqual(["q0", "q2", "q4", "q6"]);
  });
});

describe("PGlite data folder", () => {
  it("persists across close and reopen", async () => {
    const dir = await mkdtemp(join(tmpdir(), "custos-pglite-"));
    try {
      const first = await openDatabase({ dataDir: join(dir, "data"), acquireTimeoutMs: 300 });
      expect(first.kind).toBe("pglite");
      expect((await migrate(first.db)).applied).toContain("0001_init");

      // Using `db` instead of `trx` inside a transaction fails with an explanation instead of hanging.
      await expect(
        first.db.transaction().execute(async () => {
          await first.db.selectFrom("subjects").selectAll().execute();
        }),
      ).rejects.toThrow(/use the transaction object `trx`/);

      await first.db
        .insertInto("subjects")
        .values({ subject_id: "7c0f6f7e-5f55-4c8e-9a55-2f6d0a0b1c2d", region: "cn" })
        .execute();
      await first.close();

      const second = await openDatabase({ dataDir: join(dir, "data") });
      expect((await migrate(second.db)).applied).toEqual([]);
      const row = await second.db.selectFrom("subjects").selectAll().executeTakeFirst();
      expect(row?.region).toBe("cn");
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("closing the embedded database", () => {
  it("SEC-4: lets the queries and the transaction queued before it finish (audit writes among them), then refuses later ones with a clear error", async () => {
    const database = await openDatabase({ pgliteThread: false });
    const { db } = database;
    await sql`create table t (n int)`.execute(db);
    // A transaction holds the one connection; five queries queue behind it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transaction = db.transaction().execute(async (trx) => {
      await sql`insert into t values (1)`.execute(trx);
      await held;
      await sql`insert into t values (2)`.execute(trx);
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const queued = Array.from({ length: 5 }, (_, i) => sql<{ n: number }>`select ${i}::int as n`.execute(db));
    const closing = database.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Asked once closing has begun: refused at once, not queued behind the others.
    await expect(sql`select 1`.execute(db)).rejects.toThrow(/destroyed|closed/);
    release();
    await transaction;
    expect((await Promise.all(queued)).map((r) => r.rows[0]?.n)).toEqual([0, 1, 2, 3, 4]);
    await closing;
    await expect(sql`select 1`.execute(db)).rejects.toThrow(/destroyed|closed/);
  });
});
