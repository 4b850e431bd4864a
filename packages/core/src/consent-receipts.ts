import { createHash } from "node:crypto";

/**
 * Consent receipts (CON-12), pure: a subject's consent events rendered as ISO/IEC TS 27560-shaped
 * JSON records and as Kantara Consent Receipt v1.1 receipts, with W3C DPV terms from the manifest.
 * The subject appears only as a pseudonymous principal id, never by name or contact.
 */

type Text = { en: string; "zh-CN": string };

export type ReceiptManifest = {
  version: string;
  controller: { name: Text; address: Text };
  contact: { email: string };
  legalBases: readonly { id: string; dpv: string }[];
  regions: readonly { id: string; country: string; default?: boolean | undefined }[];
  purposes: readonly {
    id: string;
    name: Text;
    legalBasis: string;
    function: "basic" | "extended";
    consent: "policy" | "separate" | "none";
    categories: readonly string[];
    recipients?: readonly string[] | undefined;
    permissions?: readonly string[] | undefined;
    features?: readonly string[] | undefined;
    setting?: string | undefined;
    dpv: string;
  }[];
  categories: readonly {
    id: string;
    name: Text;
    sensitivity: "general" | "sensitive";
    classification: string;
  }[];
  recipients?: readonly { id: string; name: Text }[] | undefined;
};

export type ReceiptEvent = {
  id: number;
  targetKind: "purpose" | "permission" | "cookie" | "policy" | "setting" | "marketing";
  targetId: string;
  state: string;
  noticeVersion: string;
  fingerprint: string;
  language: "en" | "zh-CN";
  method: string;
  actor: string;
  occurredAt: Date;
  hash: string;
};

export type ReceiptOptions = {
  subjectId: string;
  /** Where the policy is published (a URL). */
  policyUrl: string;
};

/** A stable pseudonym for the subject in receipts (not the internal id). */
export function receiptPrincipalId(subjectId: string): string {
  return `urn:custos:principal:${createHash("sha256").update(`custos-receipt-principal:${subjectId}`).digest("hex").slice(0, 32)}`;
}

const DPV_BY_CLASSIFICATION: Readonly<Record<string, string>> = {
  identity: "pd:Identifying",
  contact: "pd:Contact",
  account: "pd:Account",
  device: "pd:DeviceBased",
  log: "pd:UsageHistory",
  location: "pd:Location",
  content: "pd:Communication",
  transaction: "pd:Transactional",
  service: "pd:Behavioural",
  profile: "pd:Profile",
  children: "pd:Child",
  guardian: "pd:Family",
  security: "pd:Authenticating",
};

/** The purposes a receipt event covers: the purpose itself, or every policy-covered purpose. */
function coveredPurposes(manifest: ReceiptManifest, e: ReceiptEvent) {
  if (e.targetKind === "policy") return manifest.purposes.filter((p) => p.consent === "policy");
  if (e.targetKind === "purpose") return manifest.purposes.filter((p) => p.id === e.targetId);
  if (e.targetKind === "setting") return manifest.purposes.filter((p) => p.setting === e.targetId);
  if (e.targetKind === "permission")
    return manifest.purposes.filter((p) => p.permissions?.includes(e.targetId));
  if (e.targetKind === "marketing") return manifest.purposes.filter((p) => p.features?.includes("marketing"));
  return [];
}

function jurisdiction(manifest: ReceiptManifest): string {
  return (manifest.regions.find((r) => r.default) ?? manifest.regions[0])?.country ?? "CN";
}

function categoriesOf(manifest: ReceiptManifest, ids: readonly string[]) {
  return ids.flatMap((id) => manifest.categories.filter((c) => c.id === id));
}

const TERMINATION =
  "Withdraw at any time in the privacy center (one step); processing stops at once and earlier processing stays lawful.";

/** Kantara Consent Receipt v1.1 (one receipt per consent event). */
export function kantaraReceipts(
  manifest: ReceiptManifest,
  events: readonly ReceiptEvent[],
  options: ReceiptOptions,
) {
  const principal = receiptPrincipalId(options.subjectId);
  return events.map((e) => {
    const purposes = coveredPurposes(manifest, e);
    const cats = categoriesOf(manifest, [...new Set(purposes.flatMap((p) => p.categories))]);
    const sensitive = cats.filter((c) => c.sensitivity === "sensitive");
    return {
      version: "KI-CR-v1.1.0",
      jurisdiction: jurisdiction(manifest),
      consentTimestamp: Math.floor(e.occurredAt.getTime() / 1000),
      collectionMethod: e.method,
      consentReceiptID: `urn:custos:consent-event:${e.hash}`,
      language: e.language,
      piiPrincipalId: principal,
      piiControllers: [
        {
          piiController: manifest.controller.name[e.language],
          onBehalf: false,
          contact: manifest.contact.email,
          address: manifest.controller.address[e.language],
          email: manifest.contact.email,
        },
      ],
      policyUrl: options.policyUrl,
      services: [
        {
          service: e.targetKind === "policy" ? `policy:${e.targetId}` : e.targetId,
          purposes: purposes.map((p) => ({
            purpose: p.name[e.language],
            purposeCategory: [p.dpv],
            consentType: p.consent === "separate" ? "EXPLICIT" : "EXPRESSED",
            piiCategory: categoriesOf(manifest, p.categories).map((c) => c.name[e.language]),
            primaryPurpose: p.function === "basic",
            termination: TERMINATION,
            thirdPartyDisclosure: (p.recipients ?? []).length > 0,
            thirdPartyName: (p.recipients ?? []).length > 0 ? (p.recipients ?? []).join(", ") : undefined,
          })),
        },
      ],
      sensitive: sensitive.length > 0,
      spiCat: sensitive.map((c) => c.name[e.language]),
      // Not part of the v1.1 field list: the state this event recorded and the notice version.
      "x-custos": { state: e.state, noticeVersion: e.noticeVersion, actor: e.actor },
    };
  });
}

/** ISO/IEC TS 27560-shaped consent records, with DPV terms (one record per consent event). */
export function iso27560Records(
  manifest: ReceiptManifest,
  events: readonly ReceiptEvent[],
  options: ReceiptOptions,
) {
  const principal = receiptPrincipalId(options.subjectId);
  const basisDpv = (id: string) => manifest.legalBases.find((b) => b.id === id)?.dpv ?? "dpv:LegalBasis";
  return events.map((e) => {
    const purposes = coveredPurposes(manifest, e);
    return {
      schema: "ISO/IEC TS 27560:2023",
      recordId: `urn:custos:consent-event:${e.hash}`,
      schemaVersion: "1",
      piiPrincipalId: principal,
      notice: { version: e.noticeVersion, language: e.language, url: options.policyUrl },
      controllers: [{ name: manifest.controller.name[e.language], contact: manifest.contact.email }],
      jurisdiction: jurisdiction(manifest),
      processing: purposes.map((p) => ({
        purposeId: p.id,
        purpose: p.name[e.language],
        "dpv:hasPurpose": p.dpv,
        "dpv:hasLegalBasis": basisDpv(p.legalBasis),
        consentType: p.consent === "separate" ? "dpv:ExplicitlyExpressedConsent" : "dpv:ExpressedConsent",
        piiCategories: categoriesOf(manifest, p.categories).map((c) => ({
          id: c.id,
          name: c.name[e.language],
          "dpv:hasPersonalData": DPV_BY_CLASSIFICATION[c.classification] ?? "dpv:PersonalData",
          sensitive: c.sensitivity === "sensitive",
        })),
        recipients: [...(p.recipients ?? [])],
        purposeFingerprint: e.fingerprint,
      })),
      event: {
        type: e.state,
        "dpv:hasConsentStatus": CONSENT_STATUS_DPV[e.state] ?? "dpv:ConsentStatus",
        timestamp: e.occurredAt.toISOString(),
        method: e.method,
        actor: e.actor,
        target: { kind: e.targetKind, id: e.targetId },
      },
      integrity: { algorithm: "sha-256", hash: e.hash },
    };
  });
}

const CONSENT_STATUS_DPV: Readonly<Record<string, string>> = {
  given: "dpv:ConsentGiven",
  refused: "dpv:ConsentRefused",
  withdrawn: "dpv:ConsentWithdrawn",
  expired: "dpv:ConsentExpired",
  invalidated: "dpv:ConsentInvalidated",
};
