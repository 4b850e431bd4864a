import { createHash } from "node:crypto";
import {
  AppError,
  type Clock,
  canonicalJson,
  type DecisionManifest,
  policyFingerprint,
  purposeFingerprint,
  type SubjectConsentState,
  systemClock,
} from "@custos/core";
import type { Kysely } from "kysely";
import type { DB } from "../db-types.ts";
import { inTransaction } from "../transaction.ts";
import {
  type ConsentActor,
  type ConsentEventRow,
  type ConsentEventState,
  type ConsentMethod,
  type ConsentStateRow,
  type ConsentTargetKind,
  createConsentRepo,
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

export function createConsentLedger({ db, clock = systemClock }: { db: Kysely<DB>; clock?: Clock }) {
  const repo = createConsentRepo();

  const ledger = {
    /**
     * Appends events of ONE subject in order, updating the projection, in the caller's transaction
     * (or a new one). Returns the new event ids.
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
      return inTransaction(txOrDb, async (tx) => {
        await repo.lockSubject(tx, subjectId);
        let prev: Buffer = (await repo.lastHash(tx, subjectId)) ?? GENESIS();
        const ids: number[] = [];
        for (const e of events) {
          const row = {
            subjectId,
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
          const hash = consentEventHash(prev, row);
          const id = await repo.insertEvent(tx, { ...row, prevHash: prev, hash });
          await repo.upsertState(tx, {
            subjectId,
            targetKind: row.targetKind,
            targetId: row.targetId,
            state: row.state,
            noticeVersion: row.noticeVersion,
            fingerprint: row.fingerprint,
            updatedAt: row.occurredAt,
            eventId: id,
          });
          ids.push(id);
          prev = hash;
        }
        return ids;
      });
    },

    /** The current state of each subject, as `decide` takes it. */
    async statesOf(
      subjectIds: readonly string[],
      txOrDb: Kysely<DB> = db,
    ): Promise<Map<string, SubjectConsentState>> {
      const rows = await repo.statesOf(txOrDb, subjectIds);
      const out = new Map<string, SubjectConsentState>();
      for (const id of subjectIds) out.set(id, { purposes: {} });
      for (const r of rows) {
        const s = out.get(r.subjectId) ?? { purposes: {} };
        const entry = { state: r.state, fingerprint: r.fingerprint, noticeVersion: r.noticeVersion };
        if (r.targetKind === "purpose") s.purposes = { ...s.purposes, [r.targetId]: entry };
        else if (r.targetKind === "policy" && r.targetId === POLICY_TARGET_ID) s.policy = entry;
        else if (r.targetKind === "setting") s.settings = { ...s.settings, [r.targetId]: entry };
        else if (r.targetKind === "permission") s.permissions = { ...s.permissions, [r.targetId]: entry };
        else if (r.targetKind === "marketing") s.marketing = { ...s.marketing, [r.targetId]: entry };
        out.set(r.subjectId, s);
      }
      return out;
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
  let invalidated = 0;
  for (const events of bySubject.values()) {
    await ledger.append(db, events);
    invalidated += events.length;
  }
  return { invalidated, subjects: bySubject.size };
}
