import { describe, expect, it } from "vitest";
import {
  iso27560Records,
  kantaraReceipts,
  type ReceiptEvent,
  type ReceiptManifest,
  receiptPrincipalId,
} from "./consent-receipts.ts";

const t = (en: string) => ({ en, "zh-CN": `${en}（中文）` });
const manifest: ReceiptManifest = {
  version: "2024-03-26",
  controller: { name: t("Example Games Ltd"), address: t("1 Example Road") },
  contact: { email: "privacy@example.com" },
  legalBases: [
    { id: "consent", dpv: "dpv:Consent" },
    { id: "contract", dpv: "dpv:Contract" },
  ],
  regions: [{ id: "mainland", country: "CN", default: true }],
  purposes: [
    {
      id: "location",
      name: t("Nearby players"),
      legalBasis: "consent",
      function: "extended",
      consent: "separate",
      categories: ["location"],
      recipients: ["maps-sdk"],
      dpv: "dpv:ServiceProvision",
    },
    {
      id: "analytics",
      name: t("Analytics"),
      legalBasis: "consent",
      function: "extended",
      consent: "policy",
      categories: ["logs"],
      dpv: "dpv:ServiceOptimisation",
    },
    {
      id: "accounts",
      name: t("Accounts"),
      legalBasis: "contract",
      function: "basic",
      consent: "none",
      categories: ["logs"],
      dpv: "dpv:AccountManagement",
    },
  ],
  categories: [
    { id: "location", name: t("Precise location"), sensitivity: "sensitive", classification: "location" },
    { id: "logs", name: t("Logs"), sensitivity: "general", classification: "log" },
  ],
};
const subjectId = "0b0e9f1c-3a52-4cde-9c1f-2f8d1c3a4b5c";
const event = (over: Partial<ReceiptEvent>): ReceiptEvent => ({
  id: 1,
  targetKind: "purpose",
  targetId: "location",
  state: "given",
  noticeVersion: "2024-03-26",
  fingerprint: "a".repeat(64),
  language: "zh-CN",
  method: "app",
  actor: "self",
  occurredAt: new Date("2025-01-02T03:04:05.678Z"),
  hash: "b".repeat(64),
  ...over,
});
const options = { subjectId, policyUrl: "https://privacy.example.com/center/policy/privacy-policy" };

describe("consent receipts (CON-12)", () => {
  it("CON-12: Kantara CR v1.1 fields, with the separate consent explicit and sensitive categories listed", () => {
    const [r] = kantaraReceipts(manifest, [event({})], options);
    expect(r).toMatchObject({
      version: "KI-CR-v1.1.0",
      jurisdiction: "CN",
      consentTimestamp: 1735787045,
      collectionMethod: "app",
      consentReceiptID: `urn:custos:consent-event:${"b".repeat(64)}`,
      language: "zh-CN",
      piiPrincipalId: receiptPrincipalId(subjectId),
      piiControllers: [{ piiController: "Example Games Ltd（中文）", contact: "privacy@example.com" }],
      policyUrl: options.policyUrl,
      services: [
        {
          service: "location",
          purposes: [
            {
              purpose: "Nearby players（中文）",
              purposeCategory: ["dpv:ServiceProvision"],
              consentType: "EXPLICIT",
              piiCategory: ["Precise location（中文）"],
              primaryPurpose: false,
              thirdPartyDisclosure: true,
            },
          ],
        },
      ],
      sensitive: true,
      spiCat: ["Precise location（中文）"],
    });
    expect(JSON.stringify(r)).not.toContain(subjectId);
  });

  it("CON-12: a policy acceptance receipt covers exactly the policy-consent purposes", () => {
    const [r] = kantaraReceipts(
      manifest,
      [event({ targetKind: "policy", targetId: "privacy-policy" })],
      options,
    );
    expect(r?.services[0]?.purposes.map((p) => p.purposeCategory[0])).toEqual(["dpv:ServiceOptimisation"]);
    expect(r?.sensitive).toBe(false);
  });

  it("CON-12: ISO/IEC TS 27560-shaped records carry DPV purpose, legal basis, personal data and status", () => {
    const [rec] = iso27560Records(manifest, [event({ state: "withdrawn", language: "en" })], options);
    expect(rec).toMatchObject({
      recordId: `urn:custos:consent-event:${"b".repeat(64)}`,
      piiPrincipalId: receiptPrincipalId(subjectId),
      notice: { version: "2024-03-26", language: "en" },
      processing: [
        {
          purposeId: "location",
          "dpv:hasPurpose": "dpv:ServiceProvision",
          "dpv:hasLegalBasis": "dpv:Consent",
          consentType: "dpv:ExplicitlyExpressedConsent",
          piiCategories: [{ id: "location", "dpv:hasPersonalData": "pd:Location", sensitive: true }],
          recipients: ["maps-sdk"],
        },
      ],
      event: {
        type: "withdrawn",
        "dpv:hasConsentStatus": "dpv:ConsentWithdrawn",
        timestamp: "2025-01-02T03:04:05.678Z",
      },
    });
  });

  it("CON-12: the principal id is stable per subject and differs between subjects", () => {
    expect(receiptPrincipalId(subjectId)).toBe(receiptPrincipalId(subjectId));
    expect(receiptPrincipalId(subjectId)).not.toBe(
      receiptPrincipalId("1b0e9f1c-3a52-4cde-9c1f-2f8d1c3a4b5c"),
    );
  });
});
