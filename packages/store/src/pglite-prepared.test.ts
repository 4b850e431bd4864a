import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type PreparedSession, preparedSession } from "./pglite-prepared.ts";
import { OID, parseByteaHex, parseDate, parseInt8 } from "./type-mapping.ts";

// The embedded database keeps its data statements prepared (ADR 0016). The ledgers (CON-3, SEC-4)
// depend on it giving the very rows, types and errors PGlite's own query gives, in and out of
// transactions, and on a changed schema never being answered by a stale statement.
describe("PGlite with prepared data statements", () => {
  let pglite: PGlite;
  let session: PreparedSession;
  /** The session's prepared statements by number, as PostgreSQL lists them. */
  const names = async () =>
    (await pglite.query<{ name: string }>("select name from pg_prepared_statements", [])).rows
      .filter((r) => r.name.startsWith(session.prefix))
      .map((r) => Number(r.name.slice(session.prefix.length)))
      .sort((a, b) => a - b);

  beforeAll(async () => {
    pglite = await PGlite.create({
      parsers: { [OID.INT8]: parseInt8, [OID.DATE]: parseDate, [OID.BYTEA]: parseByteaHex },
    });
  });
  afterAll(async () => {
    await pglite?.close();
  });
  // Each test starts from a new table and a new session (a second session on one PGlite names its
  // statements apart; the product has one).
  beforeEach(async () => {
    await pglite.exec(
      "drop table if exists t; create table t (id bigserial primary key, k text unique not null, b bytea, at timestamptz, d date, j jsonb, n numeric)",
    );
    session = preparedSession(pglite, { maxPrepared: 3 });
  });

  it("CON-3, SEC-4: gives the rows, types and counts PGlite's own query gives, and prepares a statement once", async () => {
    const insert =
      "insert into t (k, b, at, d, j, n) values ($1, $2, $3, $4, $5, $6) returning id, b, at, d, j, n";
    const at = new Date("2025-03-04T05:06:07.123Z");
    const values = (k: string) => [
      k,
      Buffer.from("0aff10", "hex"),
      at,
      "2025-01-02",
      JSON.stringify({ x: [1, "y"] }),
      "1.50",
    ];
    const ours = await session.query<Record<string, unknown>>(insert, values("a"));
    const theirs = await pglite.query<Record<string, unknown>>(insert, values("b"));
    expect({ ...ours.rows[0], id: 0 }).toEqual({ ...theirs.rows[0], id: 0 });
    expect(ours.fields).toEqual(theirs.fields);
    expect(ours.rows[0]).toMatchObject({ at, d: "2025-01-02", j: { x: [1, "y"] }, n: "1.50" });
    expect(typeof (ours.rows[0] as { id: unknown }).id).toBe("number");

    await session.query(insert, values("c"));
    const update = await session.query("update t set n = $1 where k = any($2)", [2, ["a", "c"]]);
    expect(update.affectedRows).toBe(2);
    expect(update.rows).toEqual([]);
    const nulls = await session.query("select $1::text as a, $2::int as b", [null, undefined]);
    expect(nulls.rows).toEqual([{ a: null, b: null }]);
    expect(session.stats).toMatchObject({ prepared: 3, reused: 1 });
    expect(await names()).toEqual([1, 2, 3]);
  });

  it("CON-3: reports a statement's error as PGlite does, and the statement stays usable", async () => {
    const insert = "insert into t (k) values ($1)";
    await session.query(insert, ["dup"]);
    const ours = await session.query(insert, ["dup"]).catch((e: unknown) => e);
    const theirs = await pglite.query(insert, ["dup"]).catch((e: unknown) => e);
    expect(ours).toBeInstanceOf(Error);
    expect(ours).toMatchObject({ code: "23505", severity: "ERROR", constraint: "t_k_key" });
    expect((ours as Error).message).toBe((theirs as Error).message);
    await session.query(insert, ["other"]);
    expect((await session.query("select count(*)::int as n from t", [])).rows).toEqual([{ n: 2 }]);
    const bad = await session.query("select nonsense from t", []).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "42703" });
    expect(session.stats.prepared).toBe(2);
  });

  it("CON-3: keeps a transaction's meaning: a failed one refuses statements until rolled back, and statements survive it", async () => {
    const insert = "insert into t (k) values ($1)";
    await session.exec("begin");
    await session.query(insert, ["in"]);
    await expect(session.query(insert, ["in"])).rejects.toMatchObject({ code: "23505" });
    await expect(session.query("select k from t", [])).rejects.toMatchObject({ code: "25P02" });
    await session.exec("rollback");
    expect((await session.query("select k from t", [])).rows).toEqual([]);
    await session.query(insert, ["after"]);
    expect((await session.query("select k from t", [])).rows).toEqual([{ k: "after" }]);
  });

  it("SEC-4: forgets its statements when the schema may have changed, so a changed table is read as it now is", async () => {
    await session.query("insert into t (k) values ($1)", ["a"]);
    const before = await session.query("select * from t", []);
    expect(before.fields.map((f) => f.name)).not.toContain("extra");
    await session.exec("alter table t add column extra text default 'x'");
    const after = await session.query("select * from t", []);
    expect(after.fields.map((f) => f.name)).toContain("extra");
    expect(after.rows[0]).toMatchObject({ k: "a", extra: "x" });
    // The statements let go are closed with the next exchange: only the one just made is left.
    await session.query("select * from t", []);
    expect(await names()).toEqual([3]);
    // DDL sent as a query forgets them too.
    await session.query("alter table t drop column extra", []);
    const dropped = await session.query("select * from t", []);
    expect(dropped.fields.map((f) => f.name)).not.toContain("extra");
  });

  it("CON-3: runs a script as PGlite's exec does: every statement's result, and one error undoing the whole script", async () => {
    const script = "insert into t (k) values ('s1'); select k from t order by k; select 2 as two";
    const ours = await session.exec(script);
    await pglite.exec("delete from t");
    const theirs = await pglite.exec(script);
    expect(ours.map((r) => r.rows)).toEqual(theirs.map((r) => r.rows));
    expect(ours.map((r) => r.affectedRows)).toEqual(theirs.map((r) => r.affectedRows));
    expect(ours[1]?.rows).toEqual([{ k: "s1" }]);
    const failed = await session
      .exec("insert into t (k) values ('s2'); insert into t (k) values ('s1')")
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: "23505" });
    expect((await session.query("select k from t", [])).rows).toEqual([{ k: "s1" }]);
    // The session is healthy afterwards, in and out of a transaction.
    await session.exec("begin");
    await session.query("insert into t (k) values ($1)", ["s3"]);
    await session.exec("rollback");
    expect((await session.query("select count(*)::int as n from t", [])).rows).toEqual([{ n: 1 }]);
  });

  it("SEC-4: keeps at most maxPrepared statements, closing the least recently used", async () => {
    for (const k of ["a", "b", "c", "d", "e"]) await session.query(`select $1::text as "${k}"`, [k]);
    await session.query('select $1::text as "c"', ["again"]);
    await session.query("select 1 as one", []);
    // 1 and 2 went when 4 and 5 came; 4 was the least recent when the sixth came.
    expect(await names()).toEqual([3, 5, 6]);
    expect((await session.query('select $1::text as "c"', ["still"])).rows).toEqual([{ c: "still" }]);
  });
});
