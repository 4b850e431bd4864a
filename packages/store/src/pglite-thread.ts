import { Worker } from "node:worker_threads";

/**
 * PGlite on a thread of its own (docs/adr/0011-pglite-thread.md).
 *
 * PGlite is PostgreSQL compiled to WebAssembly: every statement runs on the thread that calls it.
 * In the server that is the thread answering HTTP requests, so each audited denial, seal and
 * count flush used to stop every request for the time PostgreSQL took. Here the PGlite instance of
 * a data folder lives in a worker thread (pglite-thread-worker.ts) and statements go to it as
 * messages: the request thread only sends the statement and reads the rows back. The database is
 * still the one folder, opened by one PGlite, in the server's process (DESIGN.md, Storage), and the
 * dialect still hands out its one session behind a mutex, so transactions keep their meaning.
 *
 * Values cross the thread boundary by structured clone: strings, numbers, Dates, arrays and
 * plain objects unchanged; bytea comes back as a Buffer as on the main thread; an error keeps its
 * message and PostgreSQL's fields (code, severity, constraint, …).
 */

/** The shape of PGlite the dialect uses: PGlite itself, or a PGliteThread. */
export type PGliteSession = {
  query<R>(sql: string, params: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<{ rows: unknown[]; affectedRows?: number }[]>;
};

export type ThreadRequest =
  | { id: number; op: "query"; sql: string; params: unknown[] }
  | { id: number; op: "exec"; sql: string }
  | { id: number; op: "close" };

export type ThreadResult = {
  rows: unknown[];
  affectedRows?: number;
  /** Columns holding bytea (Uint8Array in the message, Buffer once received). */
  bytea?: string[];
};

export type ThreadReply =
  | { id: number; ok: true; result: ThreadResult }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; fields: Record<string, string> };
    };

type Pending = { resolve: (r: ThreadResult) => void; reject: (e: Error) => void };

export class PGliteThread implements PGliteSession {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #stopped: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (reply: ThreadReply) => this.#settle(reply));
    worker.on("error", (error) => this.#stop(error));
    worker.on("exit", (code) =>
      this.#stop(new Error(`the PGlite thread stopped (exit code ${code}); reopen the database`)),
    );
  }

  /** Starts the thread and opens the data folder in it (created by PGlite when missing). */
  static async open(dataDir: string): Promise<PGliteThread> {
    // The .mjs entry loads tsx in the thread, then the TypeScript worker.
    const worker = new Worker(new URL("./pglite-thread-worker.mjs", import.meta.url), {
      workerData: { dataDir },
    });
    const thread = new PGliteThread(worker);
    await new Promise<ThreadResult>((resolve, reject) => thread.#pending.set(0, { resolve, reject }));
    worker.unref();
    return thread;
  }

  async query<R>(sql: string, params: unknown[]): Promise<{ rows: R[]; affectedRows?: number }> {
    const result = await this.#send({ id: this.#nextId++, op: "query", sql, params: params.map(sendable) });
    return result as { rows: R[]; affectedRows?: number };
  }

  /** Runs a script (several statements, no parameters); the last statement's result. */
  async exec(sql: string): Promise<{ rows: unknown[]; affectedRows?: number }[]> {
    return [await this.#send({ id: this.#nextId++, op: "exec", sql })];
  }

  /** Closes the database (a clean shutdown of PostgreSQL) and ends the thread. */
  async close(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#send({ id: this.#nextId++, op: "close" });
    } finally {
      await this.#worker.terminate();
    }
  }

  #send(request: ThreadRequest): Promise<ThreadResult> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    return new Promise<ThreadResult>((resolve, reject) => {
      // The thread keeps the process alive only while a statement is in flight.
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(request.id, { resolve, reject });
      this.#worker.postMessage(request);
    });
  }

  #settle(reply: ThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.ok) pending.resolve(received(reply.result));
    else pending.reject(errorFrom(reply.error));
  }

  #stop(error: Error): void {
    this.#stopped ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

/**
 * A parameter as it should cross: a Buffer from Node's pool is a view of a shared 8 KiB
 * ArrayBuffer, all of which a message would copy, so it goes as a copy of its own bytes.
 */
function sendable(value: unknown): unknown {
  if (value instanceof Uint8Array && value.byteLength !== value.buffer.byteLength)
    return new Uint8Array(value);
  return value;
}

function received(result: ThreadResult): ThreadResult {
  if (result.bytea)
    for (const row of result.rows as Record<string, unknown>[])
      for (const name of result.bytea) {
        const v = row[name];
        if (v instanceof Uint8Array) row[name] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
  return result;
}

/** The worker's error as an Error of this thread, with PostgreSQL's fields (code, severity, …). */
function errorFrom(e: Extract<ThreadReply, { ok: false }>["error"]): Error {
  const error = Object.assign(new Error(e.message), e.fields);
  error.name = e.name;
  return error;
}
