import { type PGlite, parse, protocol } from "@electric-sql/pglite";

/**
 * PGlite's session with its data statements kept prepared (docs/adr/0016-pglite-prepared-statements.md).
 *
 * `PGlite.query` sends a statement in six exchanges with the WebAssembly backend (parse, describe
 * the statement, bind, describe the portal, execute, sync), and PostgreSQL parses and analyses its
 * text every time. The server sends the same few statements over and over (an audited denial's
 * insert, a subject's consent state, a count), so here each data statement (SELECT, INSERT,
 * UPDATE, DELETE, WITH) is prepared once under a name of its own, its parameter types kept, and
 * then run in one exchange: bind, describe, execute, sync. Values are serialised and rows parsed
 * by PGlite's own serialisers and parsers, by the types PostgreSQL reported, so results are the
 * ones `query` gives.
 *
 * Anything else (DDL, SET) goes through PGlite unchanged and forgets every prepared statement,
 * since a changed table could change what a kept statement returns. So does a script, sent as one
 * simple query, unless it is transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT). The least
 * recently used statements beyond `maxPrepared` are closed. A Close goes out only in a healthy
 * session (not in a failed transaction), and a Close of a name PostgreSQL no longer has is not an
 * error.
 */

const { serialize } = protocol;

/** Statements kept prepared: those that read or write rows. */
const DATA_STATEMENT = /^\s*(?:select|insert|update|delete|with)\b/i;
/** Scripts that leave the schema as it is: transaction control. */
const TRANSACTION_CONTROL =
  /^\s*(?:begin|start\s+transaction|commit|end|rollback|abort|savepoint|release)\b[^;]*;?\s*$/i;
const DEFAULT_MAX_PREPARED = 200;

type Prepared = { name: string; types: number[] };
type Results = Awaited<ReturnType<PGlite["query"]>>;

export type PreparedSession = {
  query<R>(sql: string, params: unknown[]): Promise<Results & { rows: R[] }>;
  exec(sql: string): Promise<Results[]>;
  /** Statements prepared so far, and how many runs found theirs already prepared. */
  readonly stats: { prepared: number; reused: number };
  /** The start of this session's statement names (the rest is a counter). */
  readonly prefix: string;
};

/** Sessions made in this process: each names its statements apart from any other's. */
let sessions = 0;

export function preparedSession(pglite: PGlite, options: { maxPrepared?: number } = {}): PreparedSession {
  const maxPrepared = Math.max(1, options.maxPrepared ?? DEFAULT_MAX_PREPARED);
  // By statement text, least recently used first (a Map keeps insertion order).
  const statements = new Map<string, Prepared>();
  let toClose: string[] = [];
  let next = 0;
  const prefix = `custos_${++sessions}_`;
  // The session's state after the last exchange made here: I (idle), T (in a transaction), E
  // (a failed transaction), or undefined when PGlite itself ran something since.
  let status: string | undefined;
  const stats = { prepared: 0, reused: 0 };

  function forgetAll(): void {
    for (const s of statements.values()) toClose.push(s.name);
    statements.clear();
    status = undefined;
  }

  /** Close messages for the statements let go, when the session can take them. */
  function closes(): Uint8Array[] {
    if (toClose.length === 0 || (status !== "I" && status !== "T")) return [];
    const out = toClose.map((name) => serialize.close({ type: "S", name }));
    toClose = [];
    return out;
  }

  async function exchange(parts: Uint8Array[]) {
    status = undefined;
    const { messages } = await pglite.execProtocol(Buffer.concat(parts), { throwOnError: false });
    status = (messages.findLast((m) => m.name === "readyForQuery") as { status?: string } | undefined)
      ?.status;
    const error = messages.find((m) => m.name === "error");
    if (error) throw error;
    return messages;
  }

  async function prepare(sql: string): Promise<Prepared> {
    const name = `${prefix}${++next}`;
    const messages = await exchange([
      ...closes(),
      serialize.parse({ name, text: sql }),
      serialize.describe({ type: "S", name }),
      serialize.sync(),
    ]);
    const statement = { name, types: parse.parseDescribeStatementResults(messages) };
    statements.set(sql, statement);
    stats.prepared += 1;
    if (statements.size > maxPrepared) {
      const [oldest] = statements;
      if (oldest) {
        statements.delete(oldest[0]);
        toClose.push(oldest[1].name);
      }
    }
    return statement;
  }

  async function run(sql: string, params: unknown[]): Promise<Results> {
    let statement = statements.get(sql);
    if (statement) {
      statements.delete(sql);
      statements.set(sql, statement);
      stats.reused += 1;
    } else statement = await prepare(sql);
    const { types } = statement;
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = pglite.serializers[types[i] as number];
      return serializer ? serializer(value) : String(value);
    });
    const messages = await exchange([
      ...closes(),
      serialize.bind({ statement: statement.name, values }),
      serialize.describe({ type: "P" }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    return parse.parseResults(messages, pglite.parsers)[0] ?? { rows: [], fields: [] };
  }

  return {
    stats,
    prefix,
    async query<R>(sql: string, params: unknown[]) {
      if (!DATA_STATEMENT.test(sql)) {
        forgetAll();
        return (await pglite.query<R>(sql, params)) as Results & { rows: R[] };
      }
      return (await pglite.runExclusive(() => run(sql, params))) as Results & { rows: R[] };
    },
    // A script (or BEGIN, COMMIT) in one exchange: a simple query ends with its own ReadyForQuery.
    async exec(sql: string) {
      if (!TRANSACTION_CONTROL.test(sql)) forgetAll();
      return pglite.runExclusive(async () =>
        parse.parseResults(await exchange([serialize.query(sql)]), pglite.parsers),
      );
    },
  };
}
