import { type DecisionManifest, purposeFingerprint } from "@custos/core";
import type { ConsentEventInput } from "./consent-ledger.ts";

/**
 * A consent event the subject gave now on a purpose of `manifest`, with the purpose's current
 * fingerprint and notice version: what the tests and benchmarks append to the ledger.
 */
export function purposeConsentEvent(
  manifest: DecisionManifest,
  subjectId: string,
  purposeId: string,
  state: ConsentEventInput["state"],
  how: Pick<Partial<ConsentEventInput>, "language" | "method"> = {},
): ConsentEventInput {
  const purpose = manifest.purposes.find((p) => p.id === purposeId);
  if (!purpose) throw new Error(`no purpose ${purposeId} in the manifest`);
  return {
    subjectId,
    targetKind: "purpose",
    targetId: purposeId,
    state,
    noticeVersion: manifest.version,
    fingerprint: purposeFingerprint(purpose),
    language: how.language ?? "en",
    method: how.method ?? "app",
    actor: "self",
  };
}
