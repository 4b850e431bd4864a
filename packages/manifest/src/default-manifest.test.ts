import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDefaultManifest } from "./load.ts";
import { LEGAL_BASES, type Manifest, NO_CONSENT_BASES, RIGHTS } from "./schema.ts";

let m: Manifest;
beforeAll(async () => {
  m = (await loadDefaultManifest()).manifest;
});

const ids = (list: readonly { id: string }[]) => list.map((x) => x.id);
const byId = <T extends { id: string }>(list: readonly T[], id: string): T => {
  const found = list.find((x) => x.id === id);
  if (!found) throw new Error(`${id} is missing from the default manifest`);
  return found;
};
const CJK = /[\u4e00-\u9fff]/;

/** Every LocalizedText in the manifest, with its path. */
function localizedTexts(value: unknown, path = ""): { path: string; en: string; zh: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => localizedTexts(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.en === "string" && typeof o["zh-CN"] === "string")
      return [{ path, en: o.en, zh: o["zh-CN"] }];
    return Object.entries(o).flatMap(([k, v]) => localizedTexts(v, path ? `${path}.${k}` : k));
  }
  return [];
}

describe("MAN-2: the default manifest encodes the seed", () => {
  it("MAN-2: controller, contact and the two documents", () => {
    expect(m.controller.name.en).toBe("Hong Kong NetEase Interactive Entertainment Limited");
    expect(m.controller.address.en).toMatch(
      /Unit 802.*8th Floor.*Chuang's Tower.*30-32 Connaught Road Central.*Hong Kong/,
    );
    expect(m.contact.email).toBe("service@mumuplayer.com");
    expect(m.contact.department.en).toMatch(/Personal Information Protection/);
    expect(m.contact.responseWorkingDays).toBe(15);
    expect(m.contact.escalation.map((e) => e.en).join(" ")).toMatch(/consumer protection.*court/s);
    expect(ids(m.documents)).toEqual(["privacy-policy", "children-rules"]);
    for (const d of m.documents) expect(d.lastUpdated).toBe("2024-03-26");
  });

  it("MAN-2: storage in China and separate consent for cross-border transfer (XB-1)", () => {
    expect(m.regions.filter((r) => r.default).map((r) => r.country)).toEqual(["CN"]);
    expect(m.crossBorder.requires).toContain("separate-consent");
    for (const c of m.categories) if (c.storage === "server") expect(c.region).toBe("cn");
  });

  it("MAN-2: every category the seed names, each with classification, grade and retention", () => {
    expect(ids(m.categories).sort()).toEqual(
      [
        "registration",
        "account-profile",
        "third-party-login",
        "logs",
        "device",
        "security-data",
        "location",
        "user-content",
        "clipboard",
        "survey",
        "marketing-contacts",
        "orders",
        "delivery",
        "payment",
        "recharge-consumption",
        "customer-service",
        "recommendation-profile",
        "advertising-profile",
        "cookie-identifiers",
        "real-name",
        "address-book",
        "calendar-events",
        "guardian-contact",
        "guardianship-proof",
        "children-data",
      ].sort(),
    );
    const itemsOf = (id: string) =>
      byId(m.categories, id)
        .items.map((i) => i.en)
        .join(" | ");
    expect(itemsOf("registration")).toMatch(/phone.*email.*username.*password/is);
    expect(itemsOf("third-party-login")).toMatch(/nickname.*avatar.*unique identifier.*friend/is);
    for (const id of ["IMEI", "Android ID", "IDFA", "OAID", "BSSID", "SSID"])
      expect(itemsOf("device")).toContain(id);
    expect(itemsOf("security-data")).toMatch(/installed applications.*processes.*crash/is);
    expect(byId(m.purposes, "anti-cheat").background).toBe(true);
    expect(itemsOf("delivery")).toMatch(/consignee.*address.*phone/is);
    expect(itemsOf("real-name")).toMatch(/name.*identity card number/is);
    expect(ids(byId(m.categories, "guardianship-proof").fields)).toContain("id-number");
    for (const c of m.categories) {
      if (c.storage === "server") expect(c.retention, c.id).toBeDefined();
      expect(c.grade).toBeGreaterThanOrEqual(1);
    }
  });

  it("MAN-2: email, phone and ID-number fields are looked up through blind indexes", () => {
    const fields = m.categories.flatMap((c) => c.fields.map((f) => ({ ...f, category: c.id })));
    const lookups = fields.filter((f) => ["email", "phone", "id-number"].includes(f.kind));
    expect(lookups.length).toBeGreaterThanOrEqual(8);
    for (const f of lookups) expect(f.lookup, `${f.category}.${f.id}`).toBe(true);
    for (const f of fields.filter((x) => x.lookup)) expect(["email", "phone", "id-number"]).toContain(f.kind);
  });

  it("MAN-2 MAN-7: the sensitive categories (location, top-up and spending, real-name, guardianship proof, children) state necessity and impact", () => {
    const sensitive = m.categories.filter((c) => c.sensitivity === "sensitive");
    expect(ids(sensitive).sort()).toEqual(
      ["location", "recharge-consumption", "real-name", "guardianship-proof", "children-data"].sort(),
    );
    for (const c of sensitive) {
      expect(c.necessity?.en.length, c.id).toBeGreaterThan(20);
      expect(c.impact?.en.length, c.id).toBeGreaterThan(20);
      expect(c.grade).toBe(4);
    }
  });

  it("MAN-2: a purpose for every use the seed names, with basis, function, consent and DPV term", () => {
    expect(ids(m.purposes)).toEqual(
      expect.arrayContaining([
        "account-registration",
        "third-party-login",
        "service-operation",
        "network-security",
        "anti-cheat",
        "location-services",
        "publishing",
        "share-codes",
        "surveys",
        "direct-marketing",
        "order-payment",
        "delivery",
        "customer-service",
        "personalised-content",
        "personalised-ads",
        "commercial-sms",
        "affiliated-binding",
        "group-account-sharing",
        "research-sharing",
        "guardian-notices",
        "real-name-authentication",
        "guardian-verification",
        "children-services",
      ]),
    );
    for (const p of m.purposes) {
      expect(p.dpv, p.id).toMatch(/^dpv:[A-Z][A-Za-z]+$/);
      expect(p.refusalImpact.en.length, p.id).toBeGreaterThan(10);
    }
    expect(byId(m.purposes, "personalised-content").setting).toBe("personalised-content");
    expect(byId(m.purposes, "personalised-ads").setting).toBe("personalised-ads");
    expect(byId(m.purposes, "location-services")).toMatchObject({
      consent: "separate",
      separateReason: "sensitive",
    });
    expect(byId(m.purposes, "children-services")).toMatchObject({
      consent: "separate",
      separateReason: "children",
    });
    expect(byId(m.purposes, "real-name-authentication").legalBasis).toBe("legal-obligation");
    expect(byId(m.purposes, "order-payment").legalBasis).toBe("contract");
    const research = byId(m.recipients, byId(m.purposes, "research-sharing").recipients[0] ?? "");
    expect(research).toMatchObject({ kind: "research", dataForm: "anonymised" });
    expect(new Set(m.purposes.map((p) => p.consent))).toEqual(new Set(["policy", "separate", "none"]));
  });

  it("MAN-2 CON-10: the seven device permissions, each with a notice and the features it enables", () => {
    expect(ids(m.permissions)).toEqual([
      "storage",
      "phone",
      "camera",
      "contacts",
      "microphone",
      "location",
      "calendar",
    ]);
    for (const p of m.permissions) {
      expect(p.notice.en.length).toBeGreaterThan(20);
      expect(p.features.length).toBeGreaterThan(0);
      expect(p.platformNames.length).toBeGreaterThan(0);
    }
    expect(m.permissions.filter((p) => p.sensitive).map((p) => p.id)).toEqual(["location"]);
    const used = new Set(m.purposes.flatMap((p) => p.permissions));
    for (const p of m.permissions) expect(used.has(p.id), p.id).toBe(true);
  });

  it("MAN-2 CON-11: the three cookie purposes; only identity is necessary", () => {
    expect(ids(m.cookies)).toEqual(["identity", "analytics", "advertising"]);
    expect(m.cookies.filter((c) => c.necessary).map((c) => c.id)).toEqual(["identity"]);
  });

  it("MAN-2 SHR-1: the nine SDK purposes, each with an illustrative SDK recipient, plus logistics, payment, research and affiliates", () => {
    expect(ids(m.sdkPurposes)).toEqual([
      "advertising",
      "push",
      "payment",
      "location-device",
      "third-party-auth",
      "feature-modules",
      "performance",
      "security-hardening",
      "logistics",
    ]);
    for (const s of m.sdkPurposes) {
      const sdks = m.recipients.filter((r) => r.kind === "sdk" && r.sdkPurposes.includes(s.id));
      expect(sdks.length, s.id).toBe(1);
    }
    expect(byId(m.recipients, "sdk-push").company.en).toMatch(/push/i);
    const kinds = new Set(m.recipients.map((r) => r.kind));
    for (const k of ["logistics", "payment", "research", "affiliate"] as const)
      expect(kinds.has(k), k).toBe(true);
    expect(m.affiliates.length).toBeGreaterThan(0);
    for (const r of m.recipients) expect(r.enabled).toBe(true);
  });

  it("MAN-2 CON-9: marketing channels sms, email, push and social, each versioned", () => {
    expect(ids(m.marketingChannels)).toEqual(["sms", "email", "push", "social"]);
    for (const c of m.marketingChannels) expect(c.version).not.toBe("");
    expect(byId(m.marketingChannels, "sms").unsubscribe.en).toMatch(/reply/i);
  });

  it("MAN-2: just-in-time notices (location pop-up, first-purchase prompt, permission page prompt), versioned", () => {
    expect(byId(m.notices, "location-popup")).toMatchObject({
      kind: "popup",
      purposes: ["location-services"],
    });
    expect(byId(m.notices, "first-purchase")).toMatchObject({ kind: "page-prompt" });
    expect(byId(m.notices, "permission-prompt")).toMatchObject({ kind: "page-prompt" });
    for (const n of m.notices) expect(n.version).toMatch(/\S/);
  });

  it("MAN-2 CON-14: consent and the six no-consent legal bases", () => {
    expect(NO_CONSENT_BASES).toHaveLength(6);
    expect(ids(m.legalBases).sort()).toEqual([...LEGAL_BASES].sort());
    for (const b of m.legalBases) expect(b.dpv).toMatch(/^dpv:/);
  });

  it("MAN-2 RR-1: every right of the seed plus restriction and objection", () => {
    expect(ids(m.rights).sort()).toEqual([...RIGHTS].sort());
    expect(byId(m.rights, "cancel-account").description.en).toMatch(/third-party/);
    expect(byId(m.rights, "deceased-relatives").forChildren).toBe(false);
  });

  it("MAN-2 POL-1: the six kinds of material change", () => {
    expect(ids(m.materialChanges)).toEqual([
      "service-model",
      "ownership",
      "recipients",
      "rights",
      "contact",
      "other-significant",
    ]);
  });

  it("MAN-2: the children's rules", () => {
    expect(m.children).toMatchObject({
      ageThreshold: 14,
      adultAge: 18,
      timeZone: "Asia/Shanghai",
      realNameCategories: ["real-name"],
      guardianCategories: ["guardian-contact", "guardianship-proof"],
      guardianConsent: "separate",
      accessApprover: "children-officer",
      outsideGroupSharingNeedsGuardianConsent: true,
    });
    expect(ids(m.children.proofKinds)).toEqual([
      "household-register",
      "birth-certificate",
      "id-card",
      "other",
    ]);
    expect(m.children.guardianVisibility).toEqual(
      expect.arrayContaining(["login-accounts", "login-duration", "consumption"]),
    );
    expect([...m.children.deletionTriggers].sort()).toEqual([
      "beyond-purpose-or-period",
      "guardian-withdraws",
      "termination",
      "violation",
    ]);
    for (const id of [...m.children.guardianCategories, "children-data"])
      expect(byId(m.categories, id).children, id).toBe(true);
  });

  it("MAN-2 INC-4: the incident policy (channels, notice contents, four grades)", () => {
    expect(m.incidents.channels).toEqual(["email", "letter", "phone", "push", "announcement"]);
    expect(m.incidents.noticeContents).toEqual([
      "situation",
      "impact",
      "measures",
      "self-protection",
      "remedies",
      "contact",
    ]);
    expect(m.incidents.grades).toHaveLength(4);
  });

  it("MAN-2 RET-1: retention rules by group, with periods and delete/anonymise actions", () => {
    const rule = (id: string) => byId(m.retention, id);
    expect(rule("logs").period).toBe("P6M");
    expect(rule("security").period).toBe("P1Y");
    expect(rule("transactions").period).toBe("P3Y");
    expect(rule("location").period).toBe("P30D");
    expect(rule("marketing").from).toBe("event");
    expect(rule("account").period).toBe("account-lifetime");
    expect(new Set(m.retention.map((r) => r.action))).toEqual(new Set(["delete", "anonymise"]));
    const groups = new Set(m.retention.map((r) => r.group));
    for (const g of [
      "account",
      "logs",
      "security",
      "transactions",
      "location",
      "marketing",
      "children",
      "customer-service",
    ])
      expect(groups.has(g), g).toBe(true);
    const used = new Set(m.categories.flatMap((c) => (c.retention ? [c.retention] : [])));
    for (const r of m.retention) expect(used.has(r.id), r.id).toBe(true);
  });

  it("MAN-2: every text exists in English and Simplified Chinese", () => {
    const texts = localizedTexts(m);
    expect(texts.length).toBeGreaterThan(300);
    for (const t of texts) {
      expect(CJK.test(t.zh), `${t.path} zh-CN`).toBe(true);
      expect(CJK.test(t.en), `${t.path} en`).toBe(false);
    }
  });

  it("MAN-2: wording is our own: no eight-word run of prose is copied from the seed", () => {
    const seedPath = resolve(
      import.meta.dirname,
      "../../../../shared/seed/mumuplayer-pro-privacy-policy.txt",
    );
    expect(existsSync(seedPath)).toBe(true);
    const norm = (s: string) =>
      s
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, " ")
        .trim();
    const seed = ` ${norm(readFileSync(seedPath, "utf8"))} `;
    const copied: string[] = [];
    for (const t of localizedTexts(m)) {
      const words = t.en.split(/[^A-Za-z0-9]+/).filter(Boolean);
      for (let i = 0; i + 8 <= words.length; i++) {
        const run = words.slice(i, i + 8);
        // Names and identifier lists (mostly capitalised) are facts, not sentences.
        if (run.filter((w) => /^[a-z]/.test(w)).length < 4) continue;
        if (seed.includes(` ${norm(run.join(" "))} `)) copied.push(`${t.path}: ${run.join(" ")}`);
      }
    }
    expect(copied).toEqual([]);
  });
});

describe("MAN-6 MAN-7: identifying and device-only data", () => {
  it("MAN-6: device and log categories do not identify a person on their own", () => {
    const deviceAndLog = m.categories.filter(
      (c) => c.classification === "device" || c.classification === "log",
    );
    expect(ids(deviceAndLog)).toEqual(expect.arrayContaining(["device", "logs", "cookie-identifiers"]));
    for (const c of deviceAndLog) expect(c.identifying, c.id).toBe(false);
    for (const id of ["registration", "real-name", "delivery"])
      expect(byId(m.categories, id).identifying, id).toBe(true);
  });

  it("MAN-7: the clipboard is device-only: no retention, no region, no recipient", () => {
    const clipboard = byId(m.categories, "clipboard");
    expect(clipboard.storage).toBe("device-only");
    expect(clipboard.retention).toBeUndefined();
    expect(clipboard.region).toBeUndefined();
    expect(clipboard.fields.some((f) => f.lookup)).toBe(false);
    for (const r of m.recipients) expect(r.categories).not.toContain("clipboard");
    expect(m.categories.filter((c) => c.storage === "device-only").map((c) => c.id)).toEqual(["clipboard"]);
  });

  it("CON-15: personalisation purposes use only pseudonymous categories", () => {
    for (const p of m.purposes.filter((x) => x.setting)) {
      for (const id of p.categories) {
        const c = byId(m.categories, id);
        expect(c.identifying, `${p.id} uses ${id}`).toBe(false);
      }
    }
  });
});
