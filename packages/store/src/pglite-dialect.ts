import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { PGliteSession } from "./pglite-thread.ts";

/**
 * A Kysely dialect for PGlite (see docs/adr/0001-query-layer-kysely.md).
 *
 * PGlite (on this thread, or on its own: PGliteThread) is a single PostgreSQL backend: it has exactly one session, so a transaction must own it
 * from BEGIN to COMMIT. The driver hands out that one connection behind a FIFO mutex; concurrent
 * callers queue. Consequence: inside `db.transaction().execute(async (trx) => …)` use `trx`, never
 * `db` (a query on `db` would wait for the transaction that waits for it).
 */
export type PGliteDialectOptions = {
  /** How long a caller waits for the connection before failing with an explanation. Default 20 s. */
  acquireTimeoutMs?: number;
};

export class PGliteDialect implements Dialect {
  readonly #pglite: PGliteSession;
  readonly #acquireTimeoutMs: number;

  constructor(pglite: PGliteSession, options: PGliteDialectOptions = {}) {
    this.#pglite = pglite;
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 20_000;
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#pglite, this.#acquireTimeoutMs);
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}

/** A FIFO mutex: `acquire()` resolves when the caller owns the lock; `release()` passes it on. */
class Mutex {
  #locked = false;
  readonly #waiters: { grant: () => void; refuse: (error: Error) => void }[] = [];
  #closed: Error | undefined;

  /** Rejects after `timeoutMs` without taking the lock, or at once once closed. */
  async acquire(timeoutMs: number): Promise<void> {
    if (this.#closed) throw this.#closed;
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
        refuse: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(
          new Error(
            `waited ${Math.round(timeoutMs / 1000)} s for the PGlite connection: a very long transaction, or a query on \`db\` inside db.transaction() (use the transaction object \`trx\` there)`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.grant();
    else this.#locked = false;
  }

  /** Refuses every caller still waiting, and every later one, with `error`. */
  close(error: Error): void {
    this.#closed = error;
    for (const waiter of this.#waiters.splice(0)) waiter.refuse(error);
  }
}

/** How long closing waits for the queries and transactions already queued to finish. */
const DRAIN_TIMEOUT_MS = 10_000;

class PGliteDriver implements Driver {
  readonly #connection: PGliteConnection;
  readonly #mutex = new Mutex();
  readonly #acquireTimeoutMs: number;

  constructor(pglite: PGliteSession, acquireTimeoutMs: number) {
    this.#connection = new PGliteConnection(pglite);
    this.#acquireTimeoutMs = acquireTimeoutMs;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.acquire(this.#acquireTimeoutMs);
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let text = "begin";
    if (settings.isolationLevel || settings.accessMode) {
      text = "start transaction";
      if (settings.isolationLevel) text += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) text += ` ${settings.accessMode}`;
    }
    await connection.executeQuery(CompiledQuery.raw(text));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${quoteIdent(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdent(name)}`));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.release();
  }

  /**
   * Lets the queries and transactions queued before it finish (FIFO: they hold or wait for the
   * connection ahead of this call), then refuses any later one with a clear error. A server
   * stopping under load thus answers what it had started instead of failing it on a closed
   * database. The owner of the PGlite instance closes it afterwards (see openDatabase).
   */
  async destroy(): Promise<void> {
    try {
      await this.#mutex.acquire(DRAIN_TIMEOUT_MS);
    } catch {
      // Something held the connection for 10 s: close anyway (it fails on the closed database).
    }
    this.#mutex.close(
      new Error("the database is closed: the server is stopping, or the database was closed by its owner"),
    );
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGliteSession;

  constructor(pglite: PGliteSession) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (compiled.parameters.length === 0) {
      // Simple query protocol, like node-postgres without parameters: allows several statements
      // (migration files). The last statement's result is returned.
      const results = await this.#pglite.exec(compiled.sql);
      const last = results[results.length - 1];
      return {
        rows: (last?.rows ?? []) as R[],
        ...(last?.affectedRows !== undefined ? { numAffectedRows: BigInt(last.affectedRows) } : {}),
      };
    }
    const result = await this.#pglite.query<R>(compiled.sql, [...compiled.parameters]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0)
      throw new Error("chunkSize must be a positive integer");
    const { rows } = await this.executeQuery<R>(compiled);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}
