import { createConsentLedger } from "@custos/store";
import { describe, expect, it } from "vitest";
import { decideOne, newPlayer, postConsent, serviceHeaders, useConsentApp } from "./consent-helpers.ts";
import type { TestApp } from "./helpers.ts";

let t: TestApp;
let version: string;

useConsentApp((app) => ({ t, version } = app));

type View = {
  noticeVersion: string;
  policy: { state: string; askAgain: boolean };
  purposes: {
    purposeId: string;
    name: string;
    consent: string;
    state: string;
    via: string | null;
    askAgain: boolean;
    allowed: boolean;
  }[];
};
const purposeIn = (view: View, id: string) => view.purposes.find((p) => p.purposeId === id);

async function myConsents(headers: Record<string, string>, lang = "en"): Promise<View> {
  const res = await t.app.inject({ method: "GET", url: `/api/v1/me/consents?lang=${lang}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as View;
}

describe("consent ledger over HTTP (CON-2, CON-3, CON-4, CON-5, CON-12)", () => {
  it("CON-2: nothing is pre-ticked and only an explicit `given` is consent", async () => {
    const p = await newPlayer(t);
    const view = await myConsents(p.headers);
    expect(view.noticeVersion).toBe(version);
    // The only act so far is the ticked policy box at sign-up: it covers policy purposes only (CON-4).
    for (const purpose of view.purposes.filter((x) => x.state !== "not-needed")) {
      if (purpose.consent === "policy") expect(purpose).toMatchObject({ state: "given", via: "policy" });
      else expect(purpose).toMatchObject({ state: "not-asked", allowed: false });
    }
    // No state → refused with a clear message; nothing written.
    const missing = await postConsent(
      t.app,
      p.headers,
      { purposeId: "location-services", noticeVersion: version, language: "en", method: "web" },
      400,
    );
    expect(missing.json().error.code).toBe("validation_failed");
    expect(JSON.stringify(missing.json().error)).toContain("state");
    // A truthy non-`given` is not consent either.
    await postConsent(
      t.app,
      p.headers,
      { purposeId: "location-services", state: "yes", noticeVersion: version, language: "en", method: "web" },
      400,
    );
    expect(purposeIn(await myConsents(p.headers), "location-services")?.state).toBe("not-asked");

    const given = await postConsent(t.app, p.headers, {
      purposeId: "location-services",
      state: "given",
      noticeVersion: version,
      language: "en",
      method: "web",
    });
    expect(purposeIn(given.json() as View, "location-services")).toMatchObject({
      state: "given",
      via: "purpose",
      allowed: true,
      name: expect.any(String),
    });
  });

  it("CON-4: accepting the policy never satisfies a separate-consent purpose", async () => {
    const p = await newPlayer(t);
    const res = await postConsent(t.app, p.headers, {
      policy: true,
      state: "given",
      noticeVersion: version,
      language: "zh-CN",
      method: "banner",
    });
    const view = res.json() as View;
    expect(view.policy.state).toBe("given");
    for (const purpose of t.manifest.manifest.purposes) {
      const row = purposeIn(view, purpose.id);
      if (purpose.consent === "policy")
        expect(row, purpose.id).toMatchObject({ state: "given", via: "policy", allowed: true });
      if (purpose.consent === "separate") {
        expect(row, purpose.id).toMatchObject({ state: "not-asked", allowed: false });
        const d = await decideOne(t.app, { subjectId: p.subjectId, purposeId: purpose.id });
        expect(d, purpose.id).toMatchObject({ allow: false, reason: "consent-missing" });
      }
    }
  });

  it("CON-5: withdrawal is one request, stops processing at once and leaves earlier events valid", async () => {
    const p = await newPlayer(t);
    const body = {
      purposeId: "personalised-ads",
      noticeVersion: version,
      language: "en",
      method: "app",
    } as const;
    await postConsent(t.app, p.headers, { ...body, state: "given" });
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "personalised-ads",
        categories: ["device"],
      }),
    ).toMatchObject({ allow: true, reason: "consent-given", basis: "consent" });

    await postConsent(t.app, p.headers, { ...body, state: "withdrawn" });
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "personalised-ads",
        categories: ["device"],
      }),
    ).toMatchObject({ allow: false, reason: "consent-withdrawn" });

    // Withdrawing also wins over a policy acceptance for policy-covered purposes.
    await postConsent(t.app, p.headers, {
      policy: true,
      state: "given",
      noticeVersion: version,
      language: "en",
      method: "web",
    });
    await postConsent(t.app, p.headers, { ...body, purposeId: "usage-analytics", state: "withdrawn" });
    expect(await decideOne(t.app, { subjectId: p.subjectId, purposeId: "usage-analytics" })).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });

    // The earlier `given` stays in the ledger, intact (tamper-evident chain).
    const ledger = createConsentLedger({ db: t.database.db });
    const events = await ledger.events(p.subjectId);
    expect(events.map((e) => `${e.targetId}:${e.state}`)).toEqual([
      "privacy-policy:given", // at sign-up
      "personalised-ads:given",
      "personalised-ads:withdrawn",
      "privacy-policy:given",
      "usage-analytics:withdrawn",
    ]);
    expect(await ledger.verify(p.subjectId)).toEqual({ ok: true, events: 5 });
  });

  it("CON-3: each event records purpose, notice version, language, time, method and actor", async () => {
    const p = await newPlayer(t);
    await postConsent(t.app, p.headers, {
      purposeId: "affiliated-binding",
      state: "refused",
      noticeVersion: version,
      language: "zh-CN",
      method: "app",
    });
    const event = (await createConsentLedger({ db: t.database.db }).events(p.subjectId)).at(-1);
    expect(event).toMatchObject({
      subjectId: p.subjectId,
      targetKind: "purpose",
      targetId: "affiliated-binding",
      state: "refused",
      noticeVersion: version,
      language: "zh-CN",
      method: "app",
      actor: "self",
      actorId: null,
    });
    expect(event?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(event?.occurredAt).toBeInstanceOf(Date);
  });

  it("CON-3: bad input is refused with a clear 4xx and writes nothing", async () => {
    const p = await newPlayer(t);
    const base = { state: "given", language: "en", method: "web" };
    const stale = await postConsent(
      t.app,
      p.headers,
      { ...base, purposeId: "surveys", noticeVersion: "1999-01-01" },
      409,
    );
    expect(stale.json().error.message).toContain("not the one in force");
    const unknown = await postConsent(
      t.app,
      p.headers,
      { ...base, purposeId: "resale", noticeVersion: version },
      400,
    );
    expect(unknown.json().error.details.validPurposes).toContain("surveys");
    const noConsent = await postConsent(
      t.app,
      p.headers,
      { ...base, purposeId: "order-payment", noticeVersion: version },
      400,
    );
    expect(noConsent.json().error.message).toContain("needs no consent");
    await postConsent(
      t.app,
      p.headers,
      { ...base, policy: true, purposeId: "surveys", noticeVersion: version },
      400,
    );
    // Only the policy acceptance of the sign-up is there.
    expect(
      (await createConsentLedger({ db: t.database.db }).events(p.subjectId)).map((e) => e.targetId),
    ).toEqual(["privacy-policy"]);
    const anonymous = await t.app.inject({ method: "GET", url: "/api/v1/me/consents" });
    expect(anonymous.statusCode).toBe(401);
  });

  it("CON-3: a service records a consent the person gave in the app; a wrong key is refused", async () => {
    const p = await newPlayer(t);
    const payload = {
      subjectId: p.subjectId,
      purposeId: "push-notifications",
      state: "given",
      noticeVersion: version,
      language: "en",
      method: "app",
    };
    const denied = await t.app.inject({
      method: "POST",
      url: "/api/v1/consents",
      headers: { "x-custos-service-key": "not-the-right-key-000000" },
      payload,
    });
    expect(denied.statusCode).toBe(401);
    const ok = await t.app.inject({
      method: "POST",
      url: "/api/v1/consents",
      headers: serviceHeaders,
      payload,
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(purposeIn(await myConsents(p.headers), "push-notifications")?.state).toBe("given");
  });

  it("CON-12: receipts export as ISO/IEC TS 27560-shaped JSON and Kantara CR v1.1 with DPV terms", async () => {
    const p = await newPlayer(t);
    await postConsent(t.app, p.headers, {
      purposeId: "location-services",
      state: "given",
      noticeVersion: version,
      language: "en",
      method: "web",
    });
    const kantara = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/consents/receipts?format=kantara",
      headers: p.headers,
    });
    expect(kantara.statusCode, kantara.body).toBe(200);
    // The last receipt: the first is the policy acceptance of the sign-up.
    const receipt = (kantara.json() as { receipts: Record<string, unknown>[] }).receipts.at(-1);
    expect(receipt).toMatchObject({
      version: "KI-CR-v1.1.0",
      jurisdiction: expect.stringMatching(/^[A-Z]{2}$/),
      consentTimestamp: expect.any(Number),
      collectionMethod: "web",
      consentReceiptID: expect.stringMatching(/^urn:custos:consent-event:[0-9a-f]{64}$/),
      piiPrincipalId: expect.stringMatching(/^urn:custos:principal:[0-9a-f]{32}$/),
      policyUrl: "http://custos.test/center/policy/privacy-policy",
      sensitive: true,
      spiCat: expect.arrayContaining([expect.any(String)]),
    });
    expect(JSON.stringify(receipt)).not.toContain(p.subjectId);
    const services = receipt?.services as { purposes: Record<string, unknown>[] }[];
    expect(services[0]?.purposes[0]).toMatchObject({
      purposeCategory: ["dpv:ServiceProvision"],
      consentType: "EXPLICIT",
      piiCategory: expect.any(Array),
      primaryPurpose: false,
      termination: expect.any(String),
      thirdPartyDisclosure: true,
    });
    expect(receipt?.piiControllers).toHaveLength(1);

    const iso = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/consents/receipts?format=iso27560",
      headers: p.headers,
    });
    expect(iso.statusCode, iso.body).toBe(200);
    const record = (iso.json() as { receipts: Record<string, unknown>[] }).receipts.at(-1);
    expect(record).toMatchObject({
      schema: "ISO/IEC TS 27560:2023",
      notice: { version, language: "en" },
      event: { type: "given", "dpv:hasConsentStatus": "dpv:ConsentGiven", method: "web", actor: "self" },
    });
    expect((record?.processing as Record<string, unknown>[] | undefined)?.[0]).toMatchObject({
      purposeId: "location-services",
      "dpv:hasPurpose": "dpv:ServiceProvision",
      "dpv:hasLegalBasis": "dpv:Consent",
    });
    const bad = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/consents/receipts?format=pdf",
      headers: p.headers,
    });
    expect(bad.statusCode).toBe(400);
  });
});
