import { createConsentLedger } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, CHROME_LINUX, latestCode, newIp, outbox, register } from "./accounts-helpers.ts";
import { buildConsentApp, decideOne } from "./consent-helpers.ts";
import type { TestApp } from "./helpers.ts";

/**
 * The sign-up's policy acceptance in the consent ledger (CON-1, CON-2, CON-3, CON-4): the ticked box
 * is required, becomes a `policy` consent event with the notice version, language and method shown,
 * and covers only the purposes whose consent is `policy`.
 */

let t: TestApp;
let clock: Awaited<ReturnType<typeof buildConsentApp>>["clock"];
let version: string;
let n = 0;

beforeAll(async () => {
  ({ t, clock } = await buildConsentApp());
  version = t.manifest.manifest.version;
});
afterAll(async () => {
  await t?.close();
});

const unique = () => {
  n += 1;
  return { contact: `signup.${n}.${Date.now()}@example.com`, username: `signup_${n}_${Date.now() % 1e6}` };
};

type View = {
  policy: { state: string; noticeVersion: string | null; askAgain: boolean };
  purposes: { purposeId: string; consent: string; state: string; via: string | null; allowed: boolean }[];
};

describe("policy acceptance at sign-up (CON-1, CON-2, CON-3, CON-4)", () => {
  it("CON-2: a registration without the ticked policy box is refused, naming acceptPolicy; nothing is sent", async () => {
    const before = (await outbox(t.app)).length;
    const { contact, username } = unique();
    const base = { contact, username, password: "Correct-Horse-9", locale: "en", policyVersion: version };
    for (const payload of [base, { ...base, acceptPolicy: false }, { ...base, acceptPolicy: "true" }]) {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/accounts/register",
        headers: { "x-forwarded-for": newIp(), "user-agent": CHROME_LINUX },
        payload,
      });
      expect(res.statusCode, res.body).toBe(400);
      const error = res.json().error as { code: string; message: string; details: { issues: unknown[] } };
      expect(error.code).toBe("validation_failed");
      expect(error.message).toContain("acceptPolicy");
      expect(error.message).toContain("tick the box to accept the privacy policy");
      expect(error.details.issues).toContainEqual(expect.objectContaining({ field: "body.acceptPolicy" }));
    }
    expect((await outbox(t.app)).length).toBe(before);
  });

  it("CON-2, CON-3: completing sign-up records the policy acceptance with the notice version, language and method shown", async () => {
    // The app's API client (bearer token): method app, in Chinese.
    const app = await register(t.app, version, { ...unique(), locale: "zh-CN" });
    const ledger = createConsentLedger({ db: t.database.db });
    const events = await ledger.events(app.subjectId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      targetKind: "policy",
      targetId: "privacy-policy",
      state: "given",
      noticeVersion: version,
      language: "zh-CN",
      method: "app",
      actor: "self",
      actorId: null,
    });
    expect(await ledger.verify(app.subjectId)).toEqual({ ok: true, events: 1 });

    // The web sign-up page (session cookie): method web, in English.
    const ip = newIp();
    const headers = { "x-forwarded-for": ip, "user-agent": CHROME_LINUX };
    // The clock is fixed: move it on so this code is the newest message in the outbox.
    clock.advance(1000);
    const start = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register",
      headers,
      payload: {
        ...unique(),
        password: "Correct-Horse-9",
        locale: "en",
        policyVersion: version,
        acceptPolicy: true,
      },
    });
    expect(start.statusCode, start.body).toBe(202);
    const verify = await t.app.inject({
      method: "POST",
      url: "/api/v1/accounts/register/verify",
      headers,
      payload: { verificationId: start.json().verificationId, code: await latestCode(t.app) },
    });
    expect(verify.statusCode, verify.body).toBe(201);
    const web = await ledger.events(verify.json().subjectId);
    expect(web.map((e) => [e.targetKind, e.state, e.noticeVersion, e.language, e.method])).toEqual([
      ["policy", "given", version, "en", "web"],
    ]);
  });

  it("CON-4: accepting the policy at sign-up covers policy purposes only; location-services is still denied", async () => {
    const p = await register(t.app, version, unique());
    const res = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/consents?lang=en",
      headers: bearer(p.token),
    });
    expect(res.statusCode, res.body).toBe(200);
    const view = res.json() as View;
    expect(view.policy).toMatchObject({ state: "given", noticeVersion: version, askAgain: false });
    const separate = view.purposes.filter((x) => x.consent === "separate");
    expect(separate.map((x) => x.purposeId)).toContain("location-services");
    for (const purpose of view.purposes) {
      if (purpose.consent === "policy")
        expect(purpose, purpose.purposeId).toMatchObject({ state: "given", via: "policy", allowed: true });
      if (purpose.consent === "separate")
        expect(purpose, purpose.purposeId).toMatchObject({ state: "not-asked", via: null, allowed: false });
    }
    // Through the decision API, as a service asks.
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "location-services",
        categories: ["location"],
      }),
    ).toMatchObject({ allow: false, reason: "consent-missing" });
    expect(
      await decideOne(t.app, { subjectId: p.subjectId, purposeId: "surveys", categories: ["survey"] }),
    ).toMatchObject({ allow: true, reason: "consent-given" });
  });
});
