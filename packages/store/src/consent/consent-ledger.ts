import { createHash } from "node:crypto";
import {
  AppError,
  type Clock,
  type ConsentEntry,
  canonicalJson,
  type DecisionManifest,
  policyFingerprint,
  purposeFingerprint,
  type SubjectConsentState,
  systemClock,
} from "@custos/core";
import type { Kysely } from "kysely";
import type { DB } from "../db-types.ts";
import {
  type ConsentActor,
  type ConsentEventRow,
  type ConsentEventState,
  type ConsentMethod,
  type ConsentStateRow,
  type ConsentTargetKind,
  createConsentRepo,
  type NewConsentEventRow,
} from "./consent-repo.ts";

/**
 * The consent ledger (CON-3): append-only consent events, chained by hash per subject, and the
 * current-state projection the decisions read, written in the same transaction.
 *
 * Event hash = SHA-256(prev_hash || UTF-8 canonical JSON of
 *   { v: 1, subjectId, targetKind, targetId, state, noticeVersion, fingerprint, language, method,
 *     actor, actorId, reason, basis, occurredAt (ISO 8601, milliseconds) }),
 * prev_hash = the subject's previous event hash, or 32 zero bytes for the first.
 */

export const POLICY_TARGET_ID = "privacy-policy";

export type ConsentEventInput = {
  subjectId: string;
  targetKind: ConsentTargetKind;
  targetId: string;
  state: ConsentEventState;
  noticeVersion: string;
  fingerprint: string;
  language: "en" | "zh-CN";
  method: ConsentMethod;
  actor: ConsentActor;
  actorId?: string | null;
  reason?: string | null;
  basis?: string | null;
  occurredAt?: Date;
};

/** The row the ledger stores for an event, before chaining: absent ids and reasons as null. */
export function consentEventRow(
  e: ConsentEventInput,
  clock: Clock = systemClock,
): Omit<NewConsentEventRow, "prevHash" | "hash"> {
  return {
    subjectId: e.subjectId,
    targetKind: e.targetKind,
    targetId: e.targetId,
    state: e.state,
    noticeVersion: e.noticeVersion,
    fingerprint: e.fingerprint,
    language: e.language,
    method: e.method,
    actor: e.actor,
    actorId: e.actorId ?? null,
    reason: e.reason ?? null,
    basis: e.basis ?? null,
    occurredAt: e.occurredAt ?? clock.now(),
  };
}

export function consentEventHash(
  prevHash: Buffer,
  e: Omit<ConsentEventRow, "id" | "prevHash" | "hash">,
): Buffer {
  const body = canonicalJson({
    v: 1,
    subjectId: e.subjectId.toLowerCase(),
    targetKind: e.targetKind,
    targetId: e.targetId,
    state: e.state,
    noticeVersion: e.noticeVersion,
    fingerprint: e.fingerprint,
    language: e.language,
    method: e.method,
    actor: e.actor,
    actorId: e.actorId,
    reason: e.reason,
    basis: e.basis,
    occurredAt: e.occurredAt.toISOString(),
  });
  return createHash("sha256").update(prevHash).update(body, "utf8").digest();
}

const GENESIS = () => Buffer.alloc(32);

export type ChainCheck =
  | { ok: true; events: number }
  | { ok: false; events: number; firstBadEventId: number };

/** One append() call: events of one subject, in order, not yet chained. */
type PendingAppend = { subjectKey: string; rows: Omit<NewConsentEventRow, "prevHash" | "hash">[] };

/** How appends outside a transaction share commits. */
export type GroupCommitOptions = {
  /** Most events written by one transaction (default 1000; one call's events are never split). */
  maxEvents?: number;
  /** Most groups being written at once (default 4; each uses a pool connection while it runs). */
  maxInFlight?: number;
};

/**
 * The SQLSTATE of an error the server reported (pg and PGlite errors carry a severity); absent for
 * a client-side failure such as a broken connection (outcome unknown).
 */
function sqlState(error: unknown): string | undefined {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof severity === "string" && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)
    ? code
    : undefined;
}
const UNIQUE_VIOLATION = "23505";
const DEADLOCK_DETECTED = "40P01";

/** Chains each append's events after its subject's last hash, in call order (updates `heads`). */
function chainAppends(appends: readonly PendingAppend[], heads: Map<string, Buffer>): NewConsentEventRow[] {
  const rows: NewConsentEventRow[] = [];
  for (const a of appends) {
    let prev = heads.get(a.subjectKey) ?? GENESIS();
    for (const row of a.rows) {
      const hash = consentEventHash(prev, row);
      rows.push({ ...row, prevHash: prev, hash });
      prev = hash;
    }
    heads.set(a.subjectKey, prev);
  }
  return rows;
}

/** The new event ids of each append, from the `{ id, hash }` of the inserted rows. */
function idsOf(
  appends: readonly PendingAppend[],
  rows: readonly NewConsentEventRow[],
  idByHash: ReadonlyMap<string, number>,
): number[][] | undefined {
  let i = 0;
  const out: number[][] = [];
  for (const a of appends) {
    const ids: number[] = [];
    for (let n = 0; n < a.rows.length; n++) {
      const id = idByHash.get((rows[i++] as NewConsentEventRow).hash.toString("hex"));
      if (id === undefined) return undefined;
      ids.push(id);
    }
    out.push(ids);
  }
  return out;
}

const byHash = (inserted: readonly { id: number; hash: Buffer }[]) =>
  new Map(inserted.map((r) => [r.hash.toString("hex"), r.id]));

/**
 * Writes appends in the caller's transaction: locks their subjects (in a stable order), reads each
 * subject's last hash once, chains the events in memory in call order, and writes all events and
 * the projection with one statement. Returns the new event ids of each append.
 */
async function writeAppends(tx: Kysely<DB>, appends: readonly PendingAppend[]): Promise<number[][]> {
  const repo = createConsentRepo();
  const subjects = [...new Set(appends.map((a) => a.subjectKey))];
  await repo.lockSubjects(tx, subjects);
  const rows = chainAppends(appends, await repo.lastHashes(tx, subjects));
  const ids = idsOf(appends, rows, byHash(await repo.insertEvents(tx, rows)));
  if (!ids) throw new Error("consent ledger: an inserted event was not returned; nothing was written");
  return ids;
}

type WriteOutcome =
  | { ok: true; ids: number[][] }
  /** `written: "no"`: the database refused or rolled back the whole write; "unknown": it may have committed. */
  | { ok: false; error: unknown; written: "no" | "unknown" };

/**
 * Writes a group of appends outside any transaction, all of them or none.
 *
 * Fast path, two round trips: read the subjects' last hashes (no lock), chain in memory, then one
 * statement that takes the subjects' advisory locks, inserts every event and upserts the
 * projection, and commits (a statement outside a transaction is its own transaction). If another
 * writer extended one of the chains in between, the unique (subject_id, prev_hash) index refuses the
 * whole statement; the group is then written the locked way: in a transaction that takes the locks
 * first and reads the last hashes under them.
 */
async function writeGroup(db: Kysely<DB>, appends: readonly PendingAppend[]): Promise<WriteOutcome> {
  const repo = createConsentRepo();
  const subjects = [...new Set(appends.map((a) => a.subjectKey))];
  let rows: NewConsentEventRow[] = [];
  try {
    rows = chainAppends(appends, await repo.lastHashes(db, subjects));
  } catch (error) {
    return { ok: false, error, written: "no" };
  }
  try {
    const ids = idsOf(appends, rows, byHash(await repo.insertEvents(db, rows, { lock: true })));
    if (ids) return { ok: true, ids };
    return await settleUnknown(
      db,
      appends,
      rows,
      new Error("consent ledger: the database did not return every inserted event"),
      "unknown",
    );
  } catch (error) {
    const state = sqlState(error);
    // The connection failed: the statement may have committed (and may still commit).
    if (state === undefined) return settleUnknown(db, appends, rows, error, "unknown");
    // The server ended the session (shut down, terminated): it rolled back unless it had committed.
    if (state.startsWith("57") || state.startsWith("08"))
      return settleUnknown(db, appends, rows, error, "no");
    if (state !== UNIQUE_VIOLATION && state !== DEADLOCK_DETECTED) return { ok: false, error, written: "no" };
  }
  for (let attempt = 1; ; attempt++) {
    let committing = false;
    try {
      const ids = await db.transaction().execute(async (tx) => {
        const result = await writeAppends(tx, appends);
        committing = true;
        return result;
      });
      return { ok: true, ids };
    } catch (error) {
      const state = sqlState(error);
      if (committing && state === undefined) return { ok: false, error, written: "unknown" };
      if (state === DEADLOCK_DETECTED && attempt < 3) continue;
      return { ok: false, error, written: "no" };
    }
  }
}

/**
 * The session ended while the one-statement write ran: it committed or it did not. Looks the events
 * up; when they are stored, the write succeeded. Otherwise `ifAbsent`: "no" when the server reported
 * the end of the session (it rolled back), "unknown" when the connection just broke (the server may
 * still commit it): then the callers get the error and nothing is retried, which could record the
 * events twice.
 */
async function settleUnknown(
  db: Kysely<DB>,
  appends: readonly PendingAppend[],
  rows: readonly NewConsentEventRow[],
  error: unknown,
  ifAbsent: "no" | "unknown",
): Promise<WriteOutcome> {
  // Right after a crash the pool may still hand out connections that died with it: try again.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const found = await createConsentRepo().idsByHash(
        db,
        appends.map((a) => a.subjectKey),
        rows.map((r) => r.hash),
      );
      const ids = idsOf(appends, rows, found);
      if (ids) return { ok: true, ids };
      return { ok: false, error, written: ifAbsent };
    } catch {
      // Looked up again, or, with no database at all, the outcome stays unknown.
    }
  }
  return { ok: false, error, written: "unknown" };
}

/**
 * Group commit for appends made outside a transaction: concurrent appends (of any subjects) queue
 * up and are written together (writeGroup); each caller's promise resolves after the commit. A
 * group starts as soon as a writer is free, so a lone append waits for no one, and appends made
 * meanwhile form the next group. If the database refuses a group (one invalid event), nothing of
 * it was written, and each of its appends is retried alone, so only the appends that fail alone
 * fail. If the outcome is unknown (connection lost at commit), every caller gets the error.
 */
function createGroupCommit(db: Kysely<DB>, options: GroupCommitOptions) {
  const maxEvents = options.maxEvents ?? 1000;
  const maxInFlight = options.maxInFlight ?? 4;
  type Waiter = { append: PendingAppend; resolve(ids: number[]): void; reject(error: unknown): void };
  const queue: Waiter[] = [];
  let inFlight = 0;
  let scheduled = false;

  async function run(batch: Waiter[]): Promise<void> {
    const outcome = await writeGroup(
      db,
      batch.map((w) => w.append),
    );
    if (outcome.ok) {
      for (const [i, w] of batch.entries()) w.resolve(outcome.ids[i] as number[]);
      return;
    }
    if (batch.length === 1 || outcome.written === "unknown") {
      for (const w of batch) w.reject(outcome.error);
      return;
    }
    for (const w of batch) {
      const alone = await writeGroup(db, [w.append]);
      if (alone.ok) w.resolve(alone.ids[0] as number[]);
      else w.reject(alone.error);
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch: Waiter[] = [];
      let events = 0;
      while (queue.length > 0) {
        const next = queue[0] as Waiter;
        if (batch.length > 0 && events + next.append.rows.length > maxEvents) break;
        batch.push(queue.shift() as Waiter);
        events += next.append.rows.length;
      }
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    append(append: PendingAppend): Promise<number[]> {
      return new Promise<number[]>((resolve, reject) => {
        queue.push({ append, resolve, reject });
        // Appends made in the same tick join one group.
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
  };
}

export function createConsentLedger({
  db,
  clock = systemClock,
  groupCommit = {},
}: {
  db: Kysely<DB>;
  clock?: Clock;
  groupCommit?: GroupCommitOptions;
}) {
  const repo = createConsentRepo();
  const writers = new WeakMap<Kysely<DB>, ReturnType<typeof createGroupCommit>>();

  const ledger = {
    /**
     * Appends events of ONE subject in order, updating the projection. Returns the new event ids
     * once they are committed.
     *
     * In a transaction (`txOrDb.isTransaction`), the events are written in it, before this returns,
     * and commit or roll back with it. Otherwise the append joins the ledger's group commit:
     * concurrent appends share one transaction and one COMMIT, and each resolves after that COMMIT.
     */
    async append(txOrDb: Kysely<DB>, events: readonly ConsentEventInput[]): Promise<number[]> {
      if (events.length === 0) return [];
      const subjectId = events[0]?.subjectId as string;
      if (events.some((e) => e.subjectId !== subjectId))
        throw new Error("consent ledger: append() takes the events of one subject at a time");
      for (const e of events)
        if (e.actor === "staff" && (!e.reason || !e.actorId))
          throw new AppError("validation_failed", {
            message:
              "a consent event recorded by staff needs the staff id and a reason (ticket or request reference)",
          });
      const pending: PendingAppend = {
        subjectKey: subjectId.toLowerCase(),
        rows: events.map((e) => consentEventRow(e, clock)),
      };
      if (txOrDb.isTransaction) return (await writeAppends(txOrDb, [pending]))[0] as number[];
      let writer = writers.get(txOrDb);
      if (!writer) {
        writer = createGroupCommit(txOrDb, groupCommit);
        writers.set(txOrDb, writer);
      }
      return writer.append(pending);
    },

    /** The current state of each subject, as `decide` takes it. */
    async statesOf(
      subjectIds: readonly string[],
      txOrDb: Kysely<DB> = db,
    ): Promise<Map<string, SubjectConsentState>> {
      const rows = await repo.statesOf(txOrDb, subjectIds);
      // Built in place (each subject's records are its own, made here): a subject's rows cost
      // one property each, not a copy of the record so far (background refreshes read hundreds
      // of subjects at once, ~20 rows each).
      type Building = {
        purposes: Record<string, ConsentEntry>;
        policy?: ConsentEntry;
        settings?: Record<string, ConsentEntry>;
        permissions?: Record<string, ConsentEntry>;
        marketing?: Record<string, ConsentEntry>;
      };
      const put = (record: Record<string, ConsentEntry> | undefined, id: string, entry: ConsentEntry) => {
        const into = record ?? {};
        into[id] = entry;
        return into;
      };
      const out = new Map<string, Building>();
      for (const id of subjectIds) out.set(id, { purposes: {} });
      for (const r of rows) {
        let s = out.get(r.subjectId);
        if (s === undefined) {
          s = { purposes: {} };
          out.set(r.subjectId, s);
        }
        const entry = { state: r.state, fingerprint: r.fingerprint, noticeVersion: r.noticeVersion };
        if (r.targetKind === "purpose") s.purposes[r.targetId] = entry;
        else if (r.targetKind === "policy" && r.targetId === POLICY_TARGET_ID) s.policy = entry;
        else if (r.targetKind === "setting") s.settings = put(s.settings, r.targetId, entry);
        else if (r.targetKind === "permission") s.permissions = put(s.permissions, r.targetId, entry);
        else if (r.targetKind === "marketing") s.marketing = put(s.marketing, r.targetId, entry);
      }
      return out as Map<string, SubjectConsentState>;
    },

    async stateRows(subjectId: string): Promise<ConsentStateRow[]> {
      return repo.statesOf(db, [subjectId]);
    },

    async events(subjectId: string): Promise<ConsentEventRow[]> {
      return repo.eventsOf(db, subjectId);
    },

    /** Recomputes one subject's chain; names the first event that does not match (CON-3). */
    async verify(subjectId: string): Promise<ChainCheck> {
      const events = await repo.eventsOf(db, subjectId);
      let prev: Buffer = GENESIS();
      for (const e of events) {
        if (!e.prevHash.equals(prev) || !consentEventHash(prev, e).equals(e.hash))
          return { ok: false, events: events.length, firstBadEventId: e.id };
        prev = e.hash;
      }
      return { ok: true, events: events.length };
    },
  };
  return ledger;
}
export type ConsentLedger = ReturnType<typeof createConsentLedger>;

/**
 * CON-13: after a manifest change, appends an `invalidated` event for every current consent whose
 * purpose (or, for the policy acceptance, whose policy-covered purposes) changed, so each affected
 * subject is asked again. Returns how many events were appended. Idempotent.
 */
export async function invalidateChangedConsents(
  db: Kysely<DB>,
  manifest: DecisionManifest,
  options: { clock?: Clock; language?: "en" | "zh-CN" } = {},
): Promise<{ invalidated: number; subjects: number }> {
  const repo = createConsentRepo();
  const ledger = createConsentLedger({ db, clock: options.clock ?? systemClock });
  const targets: { kind: ConsentTargetKind; id: string; fingerprint: string }[] = [
    ...manifest.purposes
      .filter((p) => p.consent !== "none")
      .map((p) => ({ kind: "purpose" as const, id: p.id, fingerprint: purposeFingerprint(p) })),
    { kind: "policy", id: POLICY_TARGET_ID, fingerprint: policyFingerprint(manifest) },
  ];
  const bySubject = new Map<string, ConsentEventInput[]>();
  for (const t of targets) {
    for (const row of await repo.givenWithOtherFingerprint(db, t.kind, t.id, t.fingerprint)) {
      const list = bySubject.get(row.subjectId) ?? [];
      list.push({
        subjectId: row.subjectId,
        targetKind: t.kind,
        targetId: t.id,
        state: "invalidated",
        noticeVersion: manifest.version,
        // The fingerprint of what was consented to, so the record says which definition it ended.
        fingerprint: row.fingerprint,
        language: options.language ?? "en",
        method: "system",
        actor: "system",
        reason: "purpose-changed",
      });
      bySubject.set(row.subjectId, list);
    }
  }
  // Appended concurrently, a chunk of subjects at a time, so the group commit writes many per
  // transaction. Each subject's events are one append: all of them or none.
  const all = [...bySubject.values()];
  let invalidated = 0;
  for (let from = 0; from < all.length; from += 500) {
    const chunk = all.slice(from, from + 500);
    await Promise.all(chunk.map((events) => ledger.append(db, events)));
    invalidated += chunk.reduce((n, events) => n + events.length, 0);
  }
  return { invalidated, subjects: bySubject.size };
}
