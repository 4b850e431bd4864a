import { randomUUID } from "node:crypto";
import { type FixedClock, fixedClock, type StaffRole } from "@custos/core";
import { loadDefaultManifest, parseManifest } from "@custos/manifest";
import { createAuditLedger } from "@custos/store";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { hashServiceKey } from "../src/consent/service-auth.ts";
import { createStaffService } from "../src/staff/staff-service.ts";
import { setTick } from "./accounts-helpers.ts";
import { newPlayer, postConsent, SERVICE_KEY, serviceHeaders } from "./consent-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

type Answer = {
  sdkId: string;
  start: boolean;
  reason: string;
  purposes: { purposeId: string; allowed: boolean; reason: string }[];
};

const CSRF = "sdk-test-csrf-token-0123456789abcdefghijklmno";

let t: TestApp;
let clock: FixedClock;
const cookies = new Map<StaffRole, string>();

/** Creates a staff member of `role` and signs them in (password, TOTP, own password); keeps the cookie. */
async function signInStaff(role: StaffRole): Promise<string> {
  const { db, vault } = t.app.custos;
  const service = createStaffService({ db, vault, clock, ledger: createAuditLedger({ db, clock }) });
  const email = `${role}.sdk.${Date.now()}@staff.example`;
  const { password } = await service.create({ email, displayName: `SDK ${role}`, role, createdBy: null });
  const post = (url: string, payload: object, cookie?: string) =>
    t.app.inject({
      method: "POST",
      url,
      headers: {
        ...(cookie ? { cookie: `${cookie}; custos_csrf=${CSRF}` } : {}),
        "x-csrf-token": CSRF,
        origin: "http://custos.test",
      },
      payload,
    });
  const first = await post("/api/v1/staff/auth/sign-in", { email, password });
  expect(first.statusCode, first.body).toBe(200);
  const { secret } = first.json() as { secret: string };
  const mfa = `custos_staff_session=${first.cookies.find((c) => c.name === "custos_staff_session")?.value}`;
  clock.advance(30_000);
  const code = await generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });
  const second = await post("/api/v1/staff/auth/mfa", { code }, mfa);
  expect(second.statusCode, second.body).toBe(200);
  const cookie = `custos_staff_session=${second.cookies.find((c) => c.name === "custos_staff_session")?.value}`;
  const changed = await post(
    "/api/v1/staff/me/password",
    { current: password, next: `${password}-mine` },
    cookie,
  );
  expect(changed.statusCode, changed.body).toBe(200);
  cookies.set(role, cookie);
  return cookie;
}

const putSwitch = (role: StaffRole, sdkId: string, payload: object) =>
  t.app.inject({
    method: "PUT",
    url: `/api/v1/staff/sdks/${sdkId}`,
    headers: {
      cookie: `${cookies.get(role)}; custos_csrf=${CSRF}`,
      "x-csrf-token": CSRF,
      origin: "http://custos.test",
    },
    payload,
  });

async function mayStart(sdkId: string, subjectId: string): Promise<Answer> {
  const res = await t.app.inject({
    method: "POST",
    url: `/api/v1/sdks/${sdkId}/may-start`,
    headers: serviceHeaders,
    payload: { subjectId },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Answer;
}

beforeAll(async () => {
  // The default manifest with the logistics SDK switched off in the manifest itself.
  const base = await loadDefaultManifest();
  const doc = YAML.parseDocument(base.source);
  for (const item of (doc.get("recipients") as YAML.YAMLSeq<YAML.YAMLMap>).items)
    if (item.get("id") === "sdk-logistics") item.set("enabled", false);
  clock = fixedClock("2025-04-01T08:00:00Z");
  t = await buildTestApp({
    env: {
      CUSTOS_DEV: "1",
      TRUST_PROXY: "true",
      CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]),
    },
    deps: { clock, manifest: parseManifest(doc.toString(), base.file) },
  });
  setTick(() => clock.advance(1000));
  await signInStaff("privacy-officer");
  await signInStaff("admin");
  await signInStaff("support-agent");
});
afterAll(async () => {
  await t?.close();
});

/** The player gives the separate consent sdk-advertising needs (personalised-ads), in the app. */
async function giveAdsConsent(headers: Record<string, string>): Promise<void> {
  await postConsent(t.app, headers, {
    purposeId: "personalised-ads",
    state: "given",
    noticeVersion: t.manifest.manifest.version,
    language: "en",
    method: "app",
  });
}

describe("third-party SDK start checks (CON-16)", () => {
  it("CON-16: sdk-advertising is refused without personalised-ads consent (audited), and allowed once it is given", async () => {
    const p = await newPlayer(t);
    const before = await mayStart("sdk-advertising", p.subjectId);
    expect(before).toEqual({
      sdkId: "sdk-advertising",
      start: false,
      reason: "no-purpose-allowed",
      purposes: [{ purposeId: "personalised-ads", allowed: false, reason: "consent-missing" }],
    });
    const audited = (await t.app.custos.auditLedger.list({ subjectId: p.subjectId, limit: 50 })).events;
    expect(audited).toContainEqual(
      expect.objectContaining({
        actorType: "service",
        actorId: "game-server",
        action: "decide",
        outcome: "denied",
        reason: "sdk-start:no-purpose-allowed",
        details: expect.objectContaining({ sdkId: "sdk-advertising", purposeReasons: ["consent-missing"] }),
      }),
    );

    await giveAdsConsent(p.headers);
    expect(await mayStart("sdk-advertising", p.subjectId)).toEqual({
      sdkId: "sdk-advertising",
      start: true,
      reason: "purposes-allowed",
      purposes: [{ purposeId: "personalised-ads", allowed: true, reason: "consent-given" }],
    });
    // The push SDK serves two purposes: it starts for the one the policy covers, and says which.
    const push = await mayStart("sdk-push", p.subjectId);
    expect(push.start).toBe(true);
    expect(push.purposes).toEqual([
      { purposeId: "push-notifications", allowed: true, reason: "consent-given" },
      { purposeId: "personalised-content", allowed: false, reason: "consent-missing" },
    ]);
  });

  it("CON-16: sdk-security (contract and legal-duty purposes) starts without any consent", async () => {
    const stranger = randomUUID();
    expect(await mayStart("sdk-security", stranger)).toEqual({
      sdkId: "sdk-security",
      start: true,
      reason: "purposes-allowed",
      purposes: [
        { purposeId: "network-security", allowed: true, reason: "basis" },
        { purposeId: "anti-cheat", allowed: true, reason: "basis" },
      ],
    });
  });

  it("CON-16: a switched-off SDK is refused even with consent; only the admin or the privacy officer flips the switch, audited", async () => {
    const p = await newPlayer(t);
    await giveAdsConsent(p.headers);
    expect((await mayStart("sdk-advertising", p.subjectId)).start).toBe(true);

    const agent = await putSwitch("support-agent", "sdk-advertising", {
      enabled: false,
      reason: "INC-7 test",
    });
    expect(agent.statusCode, agent.body).toBe(403);
    const off = await putSwitch("privacy-officer", "sdk-advertising", {
      enabled: false,
      reason: "INC-42 vendor breach",
    });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({
      sdkId: "sdk-advertising",
      manifestEnabled: true,
      enabled: false,
      switch: { enabled: false, reason: "INC-42 vendor breach" },
    });
    expect(await mayStart("sdk-advertising", p.subjectId)).toEqual({
      sdkId: "sdk-advertising",
      start: false,
      reason: "switched-off",
      purposes: [{ purposeId: "personalised-ads", allowed: false, reason: "sdk-switched-off" }],
    });
    const switches = (await t.app.custos.auditLedger.list({ action: "update", limit: 50 })).events.filter(
      (e) => e.details.target === "sdk-switch",
    );
    expect(switches[0]).toMatchObject({
      actorType: "staff",
      outcome: "allowed",
      reason: "INC-42 vendor breach",
      details: { sdkId: "sdk-advertising", enabled: false },
    });
    const refusals = (await t.app.custos.auditLedger.list({ subjectId: p.subjectId, limit: 50 })).events;
    expect(refusals.some((e) => e.reason === "sdk-start:switched-off")).toBe(true);

    // The admin switches it back on: consent still given, so it starts again.
    const on = await putSwitch("admin", "sdk-advertising", { enabled: true, reason: "INC-42 closed" });
    expect(on.statusCode, on.body).toBe(200);
    expect((await mayStart("sdk-advertising", p.subjectId)).start).toBe(true);
  });

  it("CON-16: an SDK disabled in the manifest is refused and cannot be switched on in the console", async () => {
    const answer = await mayStart("sdk-logistics", randomUUID());
    expect(answer).toMatchObject({ start: false, reason: "disabled-in-manifest" });
    const on = await putSwitch("admin", "sdk-logistics", { enabled: true, reason: "try to re-enable" });
    expect(on.statusCode, on.body).toBe(409);
  });

  it("CON-16: the console lists the SDKs with their purposes; unknown SDKs are named; services need their key", async () => {
    const list = await t.app.inject({
      method: "GET",
      url: "/api/v1/staff/sdks?lang=zh-CN",
      headers: { cookie: cookies.get("privacy-officer") ?? "" },
    });
    expect(list.statusCode, list.body).toBe(200);
    const sdks = (
      list.json() as { sdks: { sdkId: string; name: string; purposes: { purposeId: string }[] }[] }
    ).sdks;
    expect(sdks.map((s) => s.sdkId)).toEqual(
      t.manifest.manifest.recipients.filter((r) => r.kind === "sdk").map((r) => r.id),
    );
    expect(sdks.find((s) => s.sdkId === "sdk-advertising")).toMatchObject({
      name: "广告SDK",
      purposes: [{ purposeId: "personalised-ads" }],
    });
    const agentList = await t.app.inject({
      method: "GET",
      url: "/api/v1/staff/sdks",
      headers: { cookie: cookies.get("support-agent") ?? "" },
    });
    expect(agentList.statusCode).toBe(403);

    const unknown = await t.app.inject({
      method: "POST",
      url: "/api/v1/sdks/payment-institution/may-start",
      headers: serviceHeaders,
      payload: { subjectId: randomUUID() },
    });
    expect(unknown.statusCode, unknown.body).toBe(404);
    expect(unknown.json().error.details.validSdks).toContain("sdk-advertising");
    const noKey = await t.app.inject({
      method: "POST",
      url: "/api/v1/sdks/sdk-security/may-start",
      payload: { subjectId: randomUUID() },
    });
    expect(noKey.statusCode).toBe(401);
  });
});
