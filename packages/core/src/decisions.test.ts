import { describe, expect, it } from "vitest";
import {
  type DecisionManifest,
  type DecisionPurpose,
  decide,
  policyFingerprint,
  purposeConsentView,
  purposeFingerprint,
  type SubjectConsentState,
} from "./decisions.ts";

const purposes: DecisionPurpose[] = [
  { id: "accounts", legalBasis: "contract", function: "basic", consent: "none", categories: ["profile"] },
  { id: "safety", legalBasis: "legal-obligation", function: "basic", consent: "none", categories: ["logs"] },
  { id: "analytics", legalBasis: "consent", function: "extended", consent: "policy", categories: ["logs"] },
  {
    id: "location",
    legalBasis: "consent",
    function: "extended",
    consent: "separate",
    separateReason: "sensitive",
    categories: ["location"],
  },
  {
    id: "ads",
    legalBasis: "consent",
    function: "extended",
    consent: "separate",
    separateReason: "sensitive",
    categories: ["logs"],
    setting: "personalised-ads",
    recipients: ["ad-network"],
  },
];
const manifest: DecisionManifest = {
  version: "v1",
  purposes,
  categories: [
    { id: "profile", sensitivity: "general" },
    { id: "logs", sensitivity: "general" },
    { id: "location", sensitivity: "sensitive" },
  ],
};
const fp = (id: string) => purposeFingerprint(purposes.find((p) => p.id === id) as DecisionPurpose);
const given = (id: string) => ({ state: "given" as const, fingerprint: fp(id), noticeVersion: "v1" });
const policyAccepted = {
  state: "given" as const,
  fingerprint: policyFingerprint(manifest),
  noticeVersion: "v1",
};

describe("decide (MAN-5, CON-1, CON-4, CON-5, CON-13, CON-14)", () => {
  it("MAN-5: an undeclared purpose is denied and the answer lists the declared ones", () => {
    expect(decide(manifest, undefined, { purposeId: "resale", categories: ["logs"] })).toEqual({
      allow: false,
      reason: "undeclared-purpose",
      basis: null,
      sensitive: false,
      validPurposes: ["accounts", "safety", "analytics", "location", "ads"],
    });
  });

  it("MAN-5: an undeclared category, or one the purpose does not declare, is denied with the valid ones", () => {
    expect(decide(manifest, undefined, { purposeId: "accounts", categories: ["dna"] })).toMatchObject({
      allow: false,
      reason: "undeclared-category",
      validCategories: ["profile"],
    });
    expect(decide(manifest, undefined, { purposeId: "accounts", categories: ["location"] })).toMatchObject({
      allow: false,
      reason: "category-not-in-purpose",
      validCategories: ["profile"],
    });
  });

  it("CON-14: a no-consent legal basis allows without any consent and names the basis", () => {
    expect(decide(manifest, undefined, { purposeId: "accounts", categories: ["profile"] })).toEqual({
      allow: true,
      reason: "basis",
      basis: "contract",
      sensitive: false,
    });
    expect(decide(manifest, undefined, { purposeId: "safety", categories: ["logs"] }).basis).toBe(
      "legal-obligation",
    );
  });

  it("CON-1: consent-based processing without a current consent is denied", () => {
    expect(decide(manifest, undefined, { purposeId: "analytics", categories: ["logs"] })).toMatchObject({
      allow: false,
      reason: "consent-missing",
      basis: "consent",
    });
    const state: SubjectConsentState = { purposes: { location: given("location") } };
    expect(decide(manifest, state, { purposeId: "location", categories: ["location"] })).toEqual({
      allow: true,
      reason: "consent-given",
      basis: "consent",
      sensitive: true,
    });
  });

  it("CON-4: accepting the policy covers policy purposes but never a separate-consent purpose", () => {
    const state: SubjectConsentState = { purposes: {}, policy: policyAccepted };
    expect(decide(manifest, state, { purposeId: "analytics", categories: ["logs"] }).allow).toBe(true);
    expect(decide(manifest, state, { purposeId: "location", categories: ["location"] })).toMatchObject({
      allow: false,
      reason: "consent-missing",
    });
  });

  it("CON-5: a withdrawal wins over the policy acceptance and denies at once", () => {
    const state: SubjectConsentState = {
      purposes: { analytics: { ...given("analytics"), state: "withdrawn" } },
      policy: policyAccepted,
    };
    expect(decide(manifest, state, { purposeId: "analytics", categories: ["logs"] })).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
  });

  it("CON-8: a switched-off personalisation setting denies even with consent", () => {
    const state: SubjectConsentState = { purposes: { ads: given("ads") } };
    expect(decide(manifest, state, { purposeId: "ads", categories: ["logs"] }).allow).toBe(true);
    expect(
      decide(manifest, state, {
        purposeId: "ads",
        categories: ["logs"],
        facts: { settings: { "personalised-ads": false } },
      }).reason,
    ).toBe("setting-off");
  });

  it("RR-13: a restricted purpose is denied whatever its basis (mechanism)", () => {
    expect(
      decide(manifest, undefined, {
        purposeId: "accounts",
        categories: ["profile"],
        facts: { restricted: ["accounts"] },
      }).reason,
    ).toBe("restricted");
  });

  it("CON-13: a consent to a since-changed purpose counts as not given and is asked again", () => {
    const changed: DecisionManifest = {
      ...manifest,
      purposes: purposes.map((p) => (p.id === "ads" ? { ...p, recipients: ["ad-network", "broker"] } : p)),
    };
    const state: SubjectConsentState = { purposes: { ads: given("ads") } };
    expect(decide(changed, state, { purposeId: "ads", categories: ["logs"] })).toMatchObject({
      allow: false,
      reason: "consent-invalidated",
    });
    const ads = changed.purposes.find((p) => p.id === "ads") as DecisionPurpose;
    expect(purposeConsentView(changed, state, ads)).toMatchObject({ state: "invalidated", askAgain: true });
    // A change to a policy-covered purpose asks for the policy again.
    const changedPolicy: DecisionManifest = {
      ...manifest,
      purposes: purposes.map((p) => (p.id === "analytics" ? { ...p, categories: ["logs", "profile"] } : p)),
    };
    expect(
      decide(
        changedPolicy,
        { purposes: {}, policy: policyAccepted },
        { purposeId: "analytics", categories: ["logs"] },
      ).reason,
    ).toBe("consent-invalidated");
  });

  it("CON-13: names and descriptions do not change the fingerprint; categories, recipients and means do", () => {
    const base = purposes[4] as DecisionPurpose;
    const renamed = { ...base, name: { en: "Ads!" } } as DecisionPurpose;
    expect(purposeFingerprint(renamed)).toBe(purposeFingerprint(base));
    expect(purposeFingerprint({ ...base, categories: ["logs", "profile"] })).not.toBe(
      purposeFingerprint(base),
    );
    expect(purposeFingerprint({ ...base, permissions: ["camera"] })).not.toBe(purposeFingerprint(base));
    expect(purposeFingerprint({ ...base, background: true })).not.toBe(purposeFingerprint(base));
    // Order of lists does not matter.
    expect(purposeFingerprint({ ...base, categories: ["b", "a"] })).toBe(
      purposeFingerprint({ ...base, categories: ["a", "b"] }),
    );
  });
});

describe("switches kept in the consent ledger (CON-8, CON-9, CON-10)", () => {
  const off = { state: "withdrawn" as const, fingerprint: "f".repeat(64), noticeVersion: "v1" };
  const on = { ...off, state: "given" as const };
  const withDevice: DecisionManifest = {
    ...manifest,
    purposes: [
      ...purposes,
      {
        id: "support",
        legalBasis: "contract",
        function: "basic",
        consent: "none",
        categories: ["profile", "media"],
        permissions: ["camera"],
      },
      {
        id: "newsletter",
        legalBasis: "consent",
        function: "extended",
        consent: "policy",
        categories: ["profile"],
        features: ["marketing"],
      },
    ],
    categories: [...manifest.categories, { id: "media", sensitivity: "general" }],
    permissions: [{ id: "camera", categories: ["media"] }],
  };

  it("CON-8: a personalisation switch turned off in the ledger denies; turned back on it allows", () => {
    const consented = { ads: given("ads") };
    const request = { purposeId: "ads", categories: ["logs"] };
    expect(
      decide(manifest, { purposes: consented, settings: { "personalised-ads": off } }, request),
    ).toMatchObject({ allow: false, reason: "setting-off" });
    expect(
      decide(manifest, { purposes: consented, settings: { "personalised-ads": on } }, request).allow,
    ).toBe(true);
    // A switch never touched is on; the analytics purpose has no setting and is untouched.
    expect(decide(manifest, { purposes: consented }, request).allow).toBe(true);
  });

  it("CON-10: revoking a device permission denies only the categories that need it, not the whole purpose", () => {
    const state: SubjectConsentState = { purposes: {}, permissions: { camera: off } };
    expect(decide(withDevice, state, { purposeId: "support", categories: ["media"] })).toMatchObject({
      allow: false,
      reason: "permission-off",
    });
    expect(decide(withDevice, state, { purposeId: "support", categories: ["profile"] }).allow).toBe(true);
    const granted: SubjectConsentState = { purposes: {}, permissions: { camera: on } };
    expect(decide(withDevice, granted, { purposeId: "support", categories: ["media"] }).allow).toBe(true);
  });

  it("CON-9: an unsubscribed channel denies marketing through that channel only", () => {
    const state: SubjectConsentState = {
      purposes: {},
      policy: { ...policyAccepted, fingerprint: policyFingerprint(withDevice) },
      marketing: { sms: off },
    };
    const ask = (channel?: string) =>
      decide(withDevice, state, { purposeId: "newsletter", categories: ["profile"], channel });
    expect(ask("sms")).toMatchObject({ allow: false, reason: "unsubscribed" });
    expect(ask("email").allow).toBe(true);
    expect(ask().allow).toBe(true);
  });
});
