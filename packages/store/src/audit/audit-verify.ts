import {
  type ChainBreak,
  type Clock,
  checkBatchEvents,
  checkBatchLink,
  EventHasher,
  systemClock,
} from "@custos/core";
import { type AuditDb, auditRepo, type StoredAuditEvent, type StoredBatch } from "./audit-repo.ts";

export type VerifyProgress = { batches: number; events: number };

export type VerifyAuditOptions = {
  onProgress?: (progress: VerifyProgress) => void;
  clock?: Clock;
  /** Unsealed events older than this are reported as a warning (default 5 minutes). */
  sealIntervalMs?: number;
  /** Events per keyset page (default 5000). */
  chunkSize?: number;
  /**
   * A batch hash recorded outside the database (e.g. printed by an earlier verify and kept by
   * the auditor). Without one, an attacker who can rewrite the whole tail of the chain could go
   * unnoticed; with one, the chain must still lead to exactly that hash.
   */
  anchor?: { batchId: number; hash: string };
};

export type VerifyAuditResult =
  | {
      ok: true;
      batches: number;
      events: number;
      /** The last verified batch: record it outside the database to anchor later verifications. */
      head: { batchId: number; hash: string } | null;
      unsealed: number;
      warnings: string[];
    }
  | { ok: false; brokenAt: ChainBreak; batches: number; events: number; warnings: string[] };

const BATCH_CHUNK = 8;

/**
 * Keyset-paginated reader that fetches the next page while the caller works on the current one.
 */
class PageCursor<T> {
  rows: T[] = [];
  index = 0;
  #done = false;
  #pending: Promise<T[]> | null = null;
  readonly #fetch: (last: T | undefined) => Promise<T[]>;
  readonly #pageSize: number;

  constructor(fetch: (last: T | undefined) => Promise<T[]>, pageSize: number) {
    this.#fetch = fetch;
    this.#pageSize = pageSize;
  }

  /** True when rows[index] is available. */
  async ensure(): Promise<boolean> {
    if (this.index < this.rows.length) return true;
    if (this.#done) return false;
    const next = this.#pending ?? this.#fetch(this.rows[this.rows.length - 1]);
    this.#pending = null;
    this.rows = await next;
    this.index = 0;
    if (this.rows.length < this.#pageSize) this.#done = true;
    else {
      const pending = this.#fetch(this.rows[this.rows.length - 1]);
      pending.catch(() => {}); // awaited on the next call; never an unhandled rejection
      this.#pending = pending;
    }
    return this.rows.length > 0;
  }
}

/**
 * Recomputes the audit chain (SEC-4): every sealed batch in order and every sealed event in id
 * order within its batch (stamped with the batch's id, or in its id range for a batch sealed by
 * range), reading both in pages. Reports the FIRST broken link: an edited,
 * deleted, inserted or reordered event, an edited or deleted batch, or a broken prev_hash.
 * Batches sealed while it runs are left for the next run.
 */
export async function verifyAuditLedger(
  db: AuditDb,
  options: VerifyAuditOptions = {},
): Promise<VerifyAuditResult> {
  const clock = options.clock ?? systemClock;
  const sealIntervalMs = options.sealIntervalMs ?? 5 * 60_000;
  const chunkSize = options.chunkSize ?? 5000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new RangeError("chunkSize must be a positive integer");
  const warnings: string[] = [];
  const hasher = new EventHasher();

  const maxBatchId = await auditRepo.maxBatchId(db);
  const batchCursor = new PageCursor<StoredBatch>(
    (last) => auditRepo.batchesAfter(db, last?.batchId ?? 0, maxBatchId, BATCH_CHUNK),
    BATCH_CHUNK,
  );
  const eventCursor = new PageCursor<StoredAuditEvent>(
    (last) =>
      auditRepo.sealedEventsAfter(
        db,
        last ? { batchId: last.batchId ?? 0, id: last.id } : { batchId: 0, id: 0 },
        maxBatchId,
        chunkSize,
      ),
    chunkSize,
  );

  let previous: StoredBatch | null = null;
  let batches = 0;
  let events = 0;
  const fail = (brokenAt: ChainBreak): VerifyAuditResult => ({
    ok: false,
    brokenAt,
    batches,
    events,
    warnings,
  });

  while (await batchCursor.ensure()) {
    const batch = batchCursor.rows[batchCursor.index++] as StoredBatch;
    const linkBreak = checkBatchLink(batch, previous);
    if (linkBreak) return fail(linkBreak);
    if (
      options.anchor &&
      options.anchor.batchId === batch.batchId &&
      options.anchor.hash !== batch.hash.toString("hex")
    ) {
      return fail({
        batchId: batch.batchId,
        reason: "batch hash differs from the anchor recorded outside the database (chain rewritten)",
      });
    }

    const sealed = {
      batchId: batch.batchId,
      eventCount: batch.eventCount,
      eventHashesLatin1: batch.eventHashes.toString("latin1"),
    };
    let position = 0;
    let firstId: number | undefined;
    let lastId: number | undefined;
    if (batch.byRange) {
      // Its events are every event with an id in its range; they keep batch_id null (0014).
      for (let afterId = batch.firstEventId - 1; ; ) {
        const rows = await auditRepo.rangeEventsAfter(db, batch, afterId, chunkSize);
        const eventBreak = checkBatchEvents(hasher, sealed, rows, 0, rows.length, position);
        if (eventBreak) return fail(eventBreak);
        if (rows.length === 0) break;
        firstId ??= (rows[0] as StoredAuditEvent).id;
        lastId = (rows[rows.length - 1] as StoredAuditEvent).id;
        position += rows.length;
        afterId = lastId;
        if (rows.length < chunkSize) break;
      }
      if ((await eventCursor.ensure()) && eventCursor.rows[eventCursor.index]?.batchId === batch.batchId) {
        const stamped = eventCursor.rows[eventCursor.index] as StoredAuditEvent;
        return fail({
          batchId: batch.batchId,
          eventId: stamped.id,
          reason: "event names a batch that was sealed by id range (inserted or moved)",
        });
      }
    }
    while (!batch.byRange && (await eventCursor.ensure())) {
      const rows = eventCursor.rows;
      const start = eventCursor.index;
      const head = rows[start] as StoredAuditEvent;
      const headBatch = head.batchId ?? 0;
      if (headBatch > batch.batchId) break;
      if (headBatch < batch.batchId) {
        return fail({
          batchId: headBatch,
          eventId: head.id,
          reason: `event names batch ${headBatch}, which is not in the chain`,
        });
      }
      let end = start;
      while (end < rows.length && (rows[end] as StoredAuditEvent).batchId === batch.batchId) end++;
      const eventBreak = checkBatchEvents(hasher, sealed, rows, start, end, position);
      if (eventBreak) return fail(eventBreak);
      firstId ??= head.id;
      lastId = (rows[end - 1] as StoredAuditEvent).id;
      position += end - start;
      eventCursor.index = end;
      if (end < rows.length) break;
    }
    if (position < batch.eventCount) {
      const missing = batch.eventCount - position;
      return fail({
        batchId: batch.batchId,
        eventId: batch.lastEventId,
        reason: `the last ${missing} sealed event${missing > 1 ? "s" : ""} of the batch ${missing > 1 ? "are" : "is"} missing (deleted)`,
      });
    }
    if (firstId !== batch.firstEventId || lastId !== batch.lastEventId) {
      return fail({
        batchId: batch.batchId,
        reason: "first_event_id/last_event_id do not match the sealed events (batch edited)",
      });
    }
    previous = batch;
    batches++;
    events += position;
    options.onProgress?.({ batches, events });
  }

  // Sealed events whose batch no longer exists: the last batch(es) were deleted.
  const orphan = await auditRepo.firstOrphanEvent(db, previous?.batchId ?? 0);
  if (orphan) {
    return fail({
      batchId: orphan.batchId,
      eventId: orphan.id,
      reason: `batch ${orphan.batchId} is missing (deleted); its events remain`,
    });
  }
  if (options.anchor && options.anchor.batchId > (previous?.batchId ?? 0)) {
    return fail({
      batchId: options.anchor.batchId,
      reason: "the anchored batch is missing (chain truncated)",
    });
  }

  const unsealed = await auditRepo.unsealedSummary(db);
  if (unsealed.oldest && unsealed.oldest.getTime() < clock.now().getTime() - sealIntervalMs) {
    warnings.push(
      `${unsealed.count} event(s) are not sealed yet, the oldest from ${unsealed.oldest.toISOString()}, older than the seal interval: check that the sealer runs (custos audit seal)`,
    );
  }
  return {
    ok: true,
    batches,
    events,
    head: previous ? { batchId: previous.batchId, hash: previous.hash.toString("hex") } : null,
    unsealed: unsealed.count,
    warnings,
  };
}
