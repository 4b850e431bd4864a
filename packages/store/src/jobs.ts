import { type Clock, systemClock } from "@custos/core";
import type { Kysely, Selectable } from "kysely";
import type { DB, JobsTable } from "./db-types.ts";

/**
 * A durable job queue on the `jobs` table (an outbox): enqueue inside the caller's transaction so
 * a job exists only if the work that caused it committed; workers claim due jobs with
 * `FOR UPDATE SKIP LOCKED` and a lease, so two workers never run the same job at once, and a job
 * whose worker died is claimed again once its lease expires. Same behaviour on PGlite and PostgreSQL.
 */

export type Job = {
  id: number;
  kind: string;
  payload: unknown;
  /** 1 on the first run. */
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  idempotencyKey: string | null;
};

export type EnqueueInput = {
  kind: string;
  payload?: unknown;
  runAt?: Date;
  /** A second enqueue with the same key is a no-op that returns the first job's id. */
  idempotencyKey?: string;
  maxAttempts?: number;
};

export class JobInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobInputError";
  }
}

const KIND_RE = /^[a-z][a-z0-9_.:-]{0,99}$/;
const MAX_PAYLOAD_BYTES = 256 * 1024;
const MAX_ERROR_CHARS = 1000;

function checkInput(input: EnqueueInput): string {
  if (!KIND_RE.test(input.kind)) {
    throw new JobInputError(
      "job kind must be 1-100 characters: lower-case letters, digits, '_', '.', ':', '-'",
    );
  }
  if (
    input.idempotencyKey !== undefined &&
    (input.idempotencyKey.length === 0 || input.idempotencyKey.length > 200)
  ) {
    throw new JobInputError("idempotencyKey must be 1-200 characters");
  }
  if (
    input.maxAttempts !== undefined &&
    !(Number.isInteger(input.maxAttempts) && input.maxAttempts >= 1 && input.maxAttempts <= 100)
  ) {
    throw new JobInputError("maxAttempts must be an integer from 1 to 100");
  }
  if (input.runAt !== undefined && Number.isNaN(input.runAt.getTime()))
    throw new JobInputError("runAt is not a valid date");
  const payload = JSON.stringify(input.payload ?? {});
  if (payload === undefined) throw new JobInputError("payload must be JSON-serialisable");
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
    throw new JobInputError(
      `payload must be at most ${MAX_PAYLOAD_BYTES} bytes of JSON; store large data elsewhere and pass its id`,
    );
  }
  return payload;
}

export function createJobQueue(db: Kysely<DB>, options: { clock?: Clock } = {}) {
  const clock = options.clock ?? systemClock;
  return {
    /** Enqueues on `executor` (the caller's transaction, or the queue's db). */
    async enqueue(
      executor: Kysely<DB> | undefined,
      input: EnqueueInput,
    ): Promise<{ id: number; created: boolean }> {
      const payload = checkInput(input);
      const ex = executor ?? db;
      const inserted = await ex
        .insertInto("jobs")
        .values({
          kind: input.kind,
          payload,
          run_at: input.runAt ?? clock.now(),
          idempotency_key: input.idempotencyKey ?? null,
          created_at: clock.now(),
          ...(input.maxAttempts !== undefined ? { max_attempts: input.maxAttempts } : {}),
        })
        .onConflict((oc) => oc.column("idempotency_key").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (inserted) return { id: inserted.id, created: true };
      const existing = await ex
        .selectFrom("jobs")
        .select("id")
        .where("idempotency_key", "=", input.idempotencyKey ?? "")
        .executeTakeFirstOrThrow();
      return { id: existing.id, created: false };
    },

    async get(id: number, executor?: Kysely<DB>) {
      return (executor ?? db).selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
    },
  };
}

export type JobQueue = ReturnType<typeof createJobQueue>;

export type JobHandler = (ctx: { job: Job; db: Kysely<DB> }) => Promise<void>;

export type WorkerOptions = {
  db: Kysely<DB>;
  handlers: Readonly<Record<string, JobHandler>>;
  clock?: Clock;
  /** Idle wait between polls when no job was due. Default 1000 ms. */
  pollMs?: number;
  workerId?: string;
  /** Jobs claimed per poll. Default 10. */
  batchSize?: number;
  /** How long a claim lasts before another worker may take the job. Default 5 minutes. */
  leaseMs?: number;
  /** Delay before retry number `attempt` (1 = after the first failure). Default 1 s × 2^(attempt-1), at most 1 h. */
  backoffMs?: (attempt: number) => number;
  /** Called when a poll itself fails (e.g. the database is down); the worker keeps polling. */
  onError?: (err: unknown) => void;
};

export type Worker = {
  start(): void;
  /** Stops polling and waits for the running batch to finish. */
  stop(): Promise<void>;
  /** Claims and runs one batch of due jobs; returns how many it ran. */
  runOnce(): Promise<number>;
  readonly workerId: string;
};

export function defaultBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
}

function toJob(row: Selectable<JobsTable>): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    createdAt: row.created_at,
    idempotencyKey: row.idempotency_key,
  };
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.slice(0, MAX_ERROR_CHARS);
}

export function createWorker(options: WorkerOptions): Worker {
  const { db, handlers } = options;
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? 1000;
  const batchSize = options.batchSize ?? 10;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const backoffMs = options.backoffMs ?? defaultBackoffMs;
  const workerId = options.workerId ?? `worker-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const kinds = Object.keys(handlers);

  async function claim(): Promise<Job[]> {
    if (kinds.length === 0) return [];
    const now = clock.now();
    const rows = await db
      .updateTable("jobs")
      .set((eb) => ({
        locked_by: workerId,
        locked_until: new Date(now.getTime() + leaseMs),
        attempts: eb("attempts", "+", 1),
      }))
      .where("id", "in", (eb) =>
        eb
          .selectFrom("jobs")
          .select("id")
          .where("done_at", "is", null)
          .where("failed_at", "is", null)
          .where("run_at", "<=", now)
          .where((w) => w.or([w("locked_until", "is", null), w("locked_until", "<=", now)]))
          .where("kind", "in", kinds)
          .orderBy("run_at")
          .orderBy("id")
          .limit(batchSize)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
    return rows.map(toJob).sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.id - b.id);
  }

  async function finish(job: Job, err: unknown | undefined): Promise<void> {
    const now = clock.now();
    // Only the current lease holder records the outcome: if the lease expired and another worker
    // claimed the job again (attempts moved on), this late result is dropped.
    const owned = db
      .updateTable("jobs")
      .where("id", "=", job.id)
      .where("locked_by", "=", workerId)
      .where("attempts", "=", job.attempts);
    if (err === undefined) {
      await owned.set({ done_at: now, locked_by: null, locked_until: null, last_error: null }).execute();
    } else if (job.attempts >= job.maxAttempts) {
      await owned
        .set({ failed_at: now, locked_by: null, locked_until: null, last_error: errorText(err) })
        .execute();
    } else {
      await owned
        .set({
          run_at: new Date(now.getTime() + backoffMs(job.attempts)),
          locked_by: null,
          locked_until: null,
          last_error: errorText(err),
        })
        .execute();
    }
  }

  async function run(job: Job): Promise<void> {
    const handler = handlers[job.kind];
    let failure: unknown;
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler({ job, db });
    } catch (err) {
      failure = err ?? new Error("handler threw a falsy value");
    }
    await finish(job, failure);
  }

  async function runOnce(): Promise<number> {
    const jobs = await claim();
    await Promise.all(jobs.map(run));
    return jobs.length;
  }

  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function poll(): Promise<void> {
    while (running) {
      let ran = 0;
      try {
        ran = await runOnce();
      } catch (err) {
        options.onError?.(err);
      }
      if (!running) break;
      if (ran < batchSize) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  }

  return {
    workerId,
    runOnce,
    start() {
      if (running) return;
      running = true;
      loop = poll();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = undefined;
    },
  };
}
