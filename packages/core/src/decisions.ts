import { createHash } from "node:crypto";
import { canonicalJson } from "./hash-chain.ts";

/**
 * Purpose binding and consent decisions (MAN-5, CON-1, CON-4, CON-5, CON-6, CON-8, CON-13, CON-14),
 * pure: no I/O, no clock. The server loads the subject's consent state and calls `decide`.
 *
 * The manifest types are structural (the parts a decision needs), so @custos/core does not depend on
 * @custos/manifest; a parsed `Manifest` fits them as it is.
 */

export type DecisionPurpose = {
  id: string;
  legalBasis: string;
  function: "basic" | "extended";
  consent: "policy" | "separate" | "none";
  categories: readonly string[];
  recipients?: readonly string[] | undefined;
  permissions?: readonly string[] | undefined;
  background?: boolean | undefined;
  automatedDecision?: boolean | undefined;
  setting?: string | undefined;
  separateReason?: string | undefined;
  /** Features the purpose serves; a purpose serving `marketing` honours channel subscriptions (CON-9). */
  features?: readonly string[] | undefined;
};

export type DecisionPermission = { id: string; categories: readonly string[] };

export type DecisionManifest = {
  version: string;
  purposes: readonly DecisionPurpose[];
  categories: readonly { id: string; sensitivity: "general" | "sensitive" }[];
  /** Device permissions and the categories each one gives access to (CON-10). */
  permissions?: readonly DecisionPermission[] | undefined;
};

export const CONSENT_STATES = ["given", "refused", "withdrawn", "expired", "invalidated"] as const;
export type ConsentStateValue = (typeof CONSENT_STATES)[number];

export type ConsentEntry = { state: ConsentStateValue; fingerprint: string; noticeVersion: string };

/**
 * A subject's current consents: per purpose, the policy acceptance (covers `consent: policy`), and
 * the other kinds of consent kept in the same ledger: personalisation switches (CON-8), marketing
 * subscriptions per channel (CON-9) and device permission grants (CON-10). For those three only an
 * explicit `refused` or `withdrawn` switches something off; a switch never touched is on.
 */
export type SubjectConsentState = {
  purposes: Readonly<Record<string, ConsentEntry>>;
  policy?: ConsentEntry | undefined;
  settings?: Readonly<Record<string, ConsentEntry>> | undefined;
  marketing?: Readonly<Record<string, ConsentEntry>> | undefined;
  permissions?: Readonly<Record<string, ConsentEntry>> | undefined;
};

/** Whether an entry switches its target off (an explicit refusal or withdrawal, CON-8..10). */
export function isSwitchedOff(entry: ConsentEntry | undefined): boolean {
  return entry?.state === "refused" || entry?.state === "withdrawn";
}

export type SubjectFacts = {
  /** Personalisation switches (CON-8): only an explicit `false` switches a purpose off. */
  settings?: Readonly<Record<string, boolean>>;
  /** Purposes whose processing is restricted for this subject (a rights request), or `true` for all. */
  restricted?: boolean | readonly string[];
};

/** The marketing feature: purposes serving it honour channel subscriptions (CON-9). */
export const MARKETING_FEATURE = "marketing";

export const DECISION_REASONS = [
  "basis",
  "consent-given",
  "consent-missing",
  "consent-withdrawn",
  "consent-invalidated",
  "setting-off",
  "permission-off",
  "unsubscribed",
  "undeclared-purpose",
  "undeclared-category",
  "category-not-in-purpose",
  "restricted",
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export type PurposeDecision = {
  allow: boolean;
  reason: DecisionReason;
  /** The legal basis the processing rests on (`consent` or a no-consent basis, CON-14). */
  basis: string | null;
  /** Whether a category of the request is sensitive (audited one by one). */
  sensitive: boolean;
  /** For an undeclared purpose: the purposes the manifest declares. */
  validPurposes?: string[];
  /** For an undeclared or unlisted category: the categories the purpose declares. */
  validCategories?: string[];
};

export type DecisionRequest = {
  purposeId: string;
  categories: readonly string[];
  /** For a marketing purpose: the channel the message would go through (CON-9). */
  channel?: string | undefined;
  facts?: SubjectFacts;
};

const EMPTY_STATE: SubjectConsentState = { purposes: {} };

/**
 * SHA-256 (hex) of what a consent to `purpose` is about (CON-13): its legal basis, consent kind,
 * categories, recipients and means (permissions, background running, automated decisions, setting).
 * Names and descriptions are left out, so a translation fix does not invalidate consents.
 */
export function purposeFingerprint(purpose: DecisionPurpose): string {
  const cached = purposeFingerprints.get(purpose);
  if (cached !== undefined) return cached;
  const fingerprint = computePurposeFingerprint(purpose);
  purposeFingerprints.set(purpose, fingerprint);
  return fingerprint;
}

/**
 * Fingerprints are cached per purpose and manifest object: a loaded manifest is never mutated (a new
 * manifest is a new object), and `decide` runs on every request, so hashing each time would dominate.
 */
const purposeFingerprints = new WeakMap<DecisionPurpose, string>();
const policyFingerprints = new WeakMap<DecisionManifest, string>();

function computePurposeFingerprint(purpose: DecisionPurpose): string {
  const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();
  return sha256Hex(
    canonicalJson({
      v: 1,
      id: purpose.id,
      legalBasis: purpose.legalBasis,
      consent: purpose.consent,
      categories: sorted(purpose.categories),
      recipients: sorted(purpose.recipients),
      means: {
        permissions: sorted(purpose.permissions),
        background: purpose.background ?? false,
        automatedDecision: purpose.automatedDecision ?? false,
        setting: purpose.setting ?? null,
      },
    }),
  );
}

/**
 * The fingerprint a policy acceptance is bound to: the fingerprints of every purpose the policy
 * covers (`consent: policy`). A change to any of them asks for the policy again (CON-13).
 */
export function policyFingerprint(manifest: DecisionManifest): string {
  const cached = policyFingerprints.get(manifest);
  if (cached !== undefined) return cached;
  const covered: Record<string, string> = {};
  for (const p of manifest.purposes) if (p.consent === "policy") covered[p.id] = purposeFingerprint(p);
  const fingerprint = sha256Hex(canonicalJson({ v: 1, policyPurposes: covered }));
  policyFingerprints.set(manifest, fingerprint);
  return fingerprint;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isRestricted(facts: SubjectFacts | undefined, purposeId: string): boolean {
  const r = facts?.restricted;
  if (r === true) return true;
  return Array.isArray(r) && r.includes(purposeId);
}

/** Maps a consent entry that is not a current `given` to the reason for denying. */
function reasonFor(entry: ConsentEntry, fingerprint: string): DecisionReason {
  if (entry.state === "given")
    return entry.fingerprint === fingerprint ? "consent-given" : "consent-invalidated";
  if (entry.state === "withdrawn") return "consent-withdrawn";
  if (entry.state === "invalidated") return "consent-invalidated";
  return "consent-missing";
}

/**
 * Whether `purposeId` may process `categories` for a subject in `state` (MAN-5, CON-1):
 *  1. an undeclared purpose or category is denied, and the answer lists the valid ones;
 *  2. a restriction (rights request) or a switched-off setting (CON-8) denies;
 *  3. a no-consent legal basis allows and names the basis (CON-14);
 *  4. otherwise a current consent is needed: a separate-consent purpose only by its own event
 *     (CON-4); a policy-covered purpose by its own event when there is one (a withdrawal wins,
 *     CON-5), else by the policy acceptance. A consent given to a since-changed purpose counts as
 *     not given (CON-13).
 * Each purpose is decided on its own: refusing one purpose never affects another (CON-6).
 */
export function decide(
  manifest: DecisionManifest,
  state: SubjectConsentState | undefined,
  request: DecisionRequest,
): PurposeDecision {
  const purpose = manifest.purposes.find((p) => p.id === request.purposeId);
  if (!purpose)
    return {
      allow: false,
      reason: "undeclared-purpose",
      basis: null,
      sensitive: false,
      validPurposes: manifest.purposes.map((p) => p.id),
    };
  let sensitive = false;
  for (const categoryId of request.categories) {
    const category = manifest.categories.find((c) => c.id === categoryId);
    if (!category || !purpose.categories.includes(categoryId))
      return {
        allow: false,
        reason: category ? "category-not-in-purpose" : "undeclared-category",
        basis: purpose.legalBasis,
        sensitive: category?.sensitivity === "sensitive",
        validCategories: [...purpose.categories],
      };
    if (category.sensitivity === "sensitive") sensitive = true;
  }
  const deny = (reason: DecisionReason): PurposeDecision => ({
    allow: false,
    reason,
    basis: purpose.legalBasis,
    sensitive,
  });
  if (isRestricted(request.facts, purpose.id)) return deny("restricted");
  const current = state ?? EMPTY_STATE;
  if (
    purpose.setting &&
    (request.facts?.settings?.[purpose.setting] === false ||
      isSwitchedOff(current.settings?.[purpose.setting]))
  )
    return deny("setting-off");
  if (revokedPermissionFor(manifest, current, purpose, request.categories)) return deny("permission-off");
  if (
    request.channel !== undefined &&
    purpose.features?.includes(MARKETING_FEATURE) &&
    isSwitchedOff(current.marketing?.[request.channel])
  )
    return deny("unsubscribed");
  if (purpose.legalBasis !== "consent" || purpose.consent === "none")
    return { allow: true, reason: "basis", basis: purpose.legalBasis, sensitive };

  const fingerprint = purposeFingerprint(purpose);
  const own = current.purposes[purpose.id];
  let reason: DecisionReason;
  if (own) reason = reasonFor(own, fingerprint);
  else if (purpose.consent === "policy" && current.policy)
    reason = reasonFor(current.policy, policyFingerprint(manifest));
  else reason = "consent-missing";
  return reason === "consent-given" ? { allow: true, reason, basis: "consent", sensitive } : deny(reason);
}

/**
 * A device permission the purpose needs, refused or revoked on the device, that gives access to one
 * of the requested categories (CON-10). Revoking a permission denies only what needs it: the same
 * purpose still processes its other categories.
 */
function revokedPermissionFor(
  manifest: DecisionManifest,
  state: SubjectConsentState,
  purpose: DecisionPurpose,
  categories: readonly string[],
): string | undefined {
  if (!purpose.permissions?.length || !state.permissions || categories.length === 0) return undefined;
  for (const permissionId of purpose.permissions) {
    if (!isSwitchedOff(state.permissions[permissionId])) continue;
    const permission = manifest.permissions?.find((p) => p.id === permissionId);
    if (permission?.categories.some((c) => categories.includes(c))) return permissionId;
  }
  return undefined;
}

/** What the privacy center shows for one purpose: its state and whether to ask again (CON-13). */
export type PurposeConsentView = {
  purposeId: string;
  consent: "policy" | "separate" | "none";
  function: "basic" | "extended";
  /** given | refused | withdrawn | expired | invalidated | not-asked | not-needed */
  state: ConsentStateValue | "not-asked" | "not-needed";
  /** Where a `given` comes from: the purpose's own event or the policy acceptance. */
  via: "purpose" | "policy" | null;
  askAgain: boolean;
};

export function purposeConsentView(
  manifest: DecisionManifest,
  state: SubjectConsentState | undefined,
  purpose: DecisionPurpose,
): PurposeConsentView {
  const base = { purposeId: purpose.id, consent: purpose.consent, function: purpose.function };
  if (purpose.consent === "none") return { ...base, state: "not-needed", via: null, askAgain: false };
  const current = state ?? EMPTY_STATE;
  const own = current.purposes[purpose.id];
  const fromPolicy = !own && purpose.consent === "policy" ? current.policy : undefined;
  const entry = own ?? fromPolicy;
  if (!entry) return { ...base, state: "not-asked", via: null, askAgain: false };
  const fingerprint = own ? purposeFingerprint(purpose) : policyFingerprint(manifest);
  const changed =
    entry.state === "invalidated" || (entry.state === "given" && entry.fingerprint !== fingerprint);
  return {
    ...base,
    state: changed ? "invalidated" : entry.state,
    via: own ? "purpose" : "policy",
    askAgain: changed,
  };
}

/**
 * The fingerprint a setting, marketing or permission event is bound to (CON-13), like
 * `purposeFingerprint`: what the switch governs, without names or descriptions.
 */
export function switchFingerprint(
  kind: "setting" | "marketing" | "permission",
  id: string,
  governs: { categories?: readonly string[]; purposes?: readonly string[]; version?: string },
): string {
  const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();
  return sha256Hex(
    canonicalJson({
      v: 1,
      kind,
      id,
      categories: sorted(governs.categories),
      purposes: sorted(governs.purposes),
      version: governs.version ?? null,
    }),
  );
}
