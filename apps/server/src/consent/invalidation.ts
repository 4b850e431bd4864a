import { type Clock, policyFingerprint, purposeFingerprint } from "@custos/core";
import type { LoadedManifest, Manifest } from "@custos/manifest";
import {
  type ConsentTargetKind,
  createConsentRepo,
  type DB,
  invalidateChangedConsents,
  POLICY_TARGET_ID,
} from "@custos/store";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { ConsentChanges } from "./consent-changes.ts";

/**
 * CON-13 on publishing: when the server starts with a manifest that became the version in force
 * (a new version, or a rollback), every given consent bound to a purpose definition that changed
 * (categories, means, recipients, legal basis: `purposeFingerprint`; for the policy acceptance,
 * `policyFingerprint`) gets an `invalidated` event (actor and method `system`), and the affected
 * subjects are published on the consent change feed, so connected SDKs drop them and the privacy
 * center asks again (`askAgain`). A change of names or wording only invalidates nothing.
 *
 * Decisions never depend on this having run: `decide` compares fingerprints itself, so a consent
 * given for an older definition is denied as `consent-invalidated` even before the event exists.
 */

export type PublishOutcome = { becameCurrent: boolean; previousVersion: string | null };

/** What it needs of the app's services (`app.custos`). */
type Deps = {
  db: Kysely<DB>;
  manifest: Pick<LoadedManifest, "manifest">;
  clock: Clock;
  consentChanges: Pick<ConsentChanges, "publish">;
};

export type InvalidationResult = {
  /** Events appended. */
  invalidated: number;
  /** Subjects affected (published on the change feed). */
  subjects: number;
  /** The targets (purpose ids, or `privacy-policy`) whose consents were invalidated. */
  targets: string[];
};

/** The given consents whose target definition changed: subject ids and the changed targets. */
async function changedConsents(db: Kysely<DB>, manifest: Manifest) {
  const repo = createConsentRepo();
  const targets: { kind: ConsentTargetKind; id: string; fingerprint: string }[] = [
    ...manifest.purposes
      .filter((p) => p.consent !== "none")
      .map((p) => ({ kind: "purpose" as const, id: p.id, fingerprint: purposeFingerprint(p) })),
    { kind: "policy", id: POLICY_TARGET_ID, fingerprint: policyFingerprint(manifest) },
  ];
  const subjects = new Set<string>();
  const changed: string[] = [];
  for (const t of targets) {
    const rows = await repo.givenWithOtherFingerprint(db, t.kind, t.id, t.fingerprint);
    if (rows.length === 0) continue;
    changed.push(t.id);
    for (const row of rows) subjects.add(row.subjectId);
  }
  return { subjects: [...subjects], changed };
}

/** Runs after `policyService.ensurePublished`; does nothing unless the version in force changed. */
export async function invalidateOnPublish(
  deps: Deps,
  published: PublishOutcome,
  log: Pick<FastifyBaseLogger, "info">,
): Promise<InvalidationResult> {
  const none = { invalidated: 0, subjects: 0, targets: [] };
  if (!published.becameCurrent) return none;
  const { db, clock, consentChanges: changes } = deps;
  const manifest = deps.manifest.manifest;
  const { subjects, changed } = await changedConsents(db, manifest);
  if (subjects.length === 0) return none;
  const result = await invalidateChangedConsents(db, manifest, { clock });
  // After commit: connected SDKs and streams drop the old consents at once.
  changes.publish(subjects);
  log.info(
    {
      version: manifest.version,
      previousVersion: published.previousVersion,
      invalidated: result.invalidated,
      subjects: result.subjects,
      targets: changed,
    },
    "consents bound to changed purposes were invalidated (CON-13)",
  );
  return { invalidated: result.invalidated, subjects: result.subjects, targets: changed };
}
