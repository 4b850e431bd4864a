import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "./database.ts";
import { PGliteThread } from "./pglite-thread.ts";

// PGlite with a data folder runs on a thread of its own (ADR 0011): values, errors and
// transactions must behave exactly as with PGlite on the calling thread. The consent ledger
// (CON-3) and the audit ledger (SEC-4) rely on all three: hashes as bytea, a conflict told by its
// SQLSTATE, and an append committed or rolled back as one.
describe("PGlite on its own thread", () => {
  let dir: string;
  let database: Database;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "custos-pglite-thread-"));
    database = await openDatabase({ dataDir: join(dir, "data") });
    await sql`create table t (id bigserial primary key, k text unique not null, b bytea, at timestamptz, d date, j jsonb)`.execute(
      database.db,
    );
  });
  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("CON-3, SEC-4: passes parameters and maps int8, timestamptz, date, jsonb and bytea as the calling thread does", async () => {
    // A small Buffer is a view of Node's shared pool: only its own bytes may travel.
    const pooled = Buffer.from("0aff10", "hex");
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const at = new Date("2025-03-04T05:06:07.123Z");
    const inserted = await sql<{ id: number; b: Buffer }>`
      insert into t (k, b, at, d, j) values (${"a"}, ${pooled}, ${at}, ${"2025-01-02"}, ${JSON.stringify({ x: [1, "y"] })})
      returning id, b`.execute(database.db);
    expect(typeof inserted.rows[0]?.id).toBe("number");
    const row = (
      await sql<{ b: Buffer; at: Date; d: string; j: unknown; big: number; n: string; none: Buffer | null }>`
        select b, at, d, j, 9007199254740991::int8 as big, 1.50::numeric as n, null::bytea as none from t where k = ${"a"}`.execute(
        database.db,
      )
    ).rows[0];
    expect(Buffer.isBuffer(row?.b)).toBe(true);
    expect(row?.b.toString("hex")).toBe("0aff10");
    expect(row?.at).toEqual(at);
    expect(row?.d).toBe("2025-01-02");
    expect(row?.j).toEqual({ x: [1, "y"] });
    expect(row?.big).toBe(9007199254740991);
    expect(row?.n).toBe("1.50");
    expect(row?.none).toBeNull();
    expect(Buffer.isBuffer(inserted.rows[0]?.b)).toBe(true);
  });

  it("CON-3: reports PostgreSQL's errors with their SQLSTATE, severity and constraint", async () => {
    await sql`insert into t (k) values (${"dup"})`.execute(database.db);
    const error = await sql`insert into t (k) values (${"dup"})`
      .execute(database.db)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: "23505", severity: "ERROR", constraint: "t_k_key" });
    expect((error as Error).message).toMatch(/duplicate key/);
    // A value the type mapping refuses fails the query, not the thread.
    await expect(sql`select 9007199254740993::int8 as i`.execute(database.db)).rejects.toThrow(
      /does not fit a JavaScript number/,
    );
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows[0]?.one).toBe(1);
  });

  it("CON-3: keeps a transaction's statements together and rolls them back as one", async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`insert into t (k) values (${"in-tx"})`.execute(trx);
        await sql`insert into t (k) values (${"dup"})`.execute(trx);
      }),
    ).rejects.toMatchObject({ code: "23505" });
    const left = await sql<{ n: number }>`select count(*)::int as n from t where k = ${"in-tx"}`.execute(
      database.db,
    );
    expect(left.rows[0]?.n).toBe(0);
    // Scripts (several statements, no parameters) give the last statement's rows.
    const script = await sql.raw<{ v: number }>("select 1 as v; select 2 as v").execute(database.db);
    expect(script.rows).toEqual([{ v: 2 }]);
  });

  it("SEC-4: fails every statement clearly once the thread has stopped", async () => {
    const own = await mkdtemp(join(tmpdir(), "custos-pglite-thread-stop-"));
    try {
      const thread = await PGliteThread.open(join(own, "data"));
      expect((await thread.query<{ v: number }>("select $1::int as v", [7])).rows).toEqual([{ v: 7 }]);
      await thread.close();
      await expect(thread.query("select 1", [])).rejects.toThrow(/the PGlite thread stopped/);
      await thread.close(); // a second close does nothing
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
