import { createHash } from "node:crypto";
import { type FixedClock, fixedClock } from "@custos/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { hashServiceKey } from "../src/consent/service-auth.ts";
import { buildConsentApp, newPlayer, postConsent, SERVICE_KEY, serviceHeaders } from "./consent-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

type ShouldShow = { show: boolean; reason: string; nextAt: string | null; cooldownHours: number };

const HOUR = 3_600_000;

async function shouldShowMine(t: TestApp, headers: Record<string, string>, kind: string, id: string) {
  const res = await t.app.inject({
    method: "GET",
    url: `/api/v1/me/prompts/${kind}/${id}/should-show`,
    headers,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as ShouldShow;
}

async function shouldShowFor(t: TestApp, subjectId: string, kind: string, id: string) {
  const res = await t.app.inject({
    method: "GET",
    url: `/api/v1/prompts/${kind}/${id}/should-show?subjectId=${subjectId}`,
    headers: serviceHeaders,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as ShouldShow;
}

async function outcomeMine(
  t: TestApp,
  headers: Record<string, string>,
  kind: string,
  id: string,
  outcome: string,
) {
  const res = await t.app.inject({
    method: "POST",
    url: `/api/v1/me/prompts/${kind}/${id}`,
    headers,
    payload: { outcome, language: "en" },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { recorded: { outcome: string; occurredAt: string }; next: ShouldShow };
}

async function outcomeFor(t: TestApp, subjectId: string, kind: string, id: string, outcome: string) {
  const res = await t.app.inject({
    method: "POST",
    url: `/api/v1/prompts/${kind}/${id}`,
    headers: serviceHeaders,
    payload: { subjectId, outcome, language: "en" },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { recorded: { outcome: string; occurredAt: string }; next: ShouldShow };
}

describe("prompt cool-down with the default 48 hours (CON-7)", () => {
  let t: TestApp;
  let clock: FixedClock;
  let version: string;
  beforeAll(async () => {
    ({ t, clock } = await buildConsentApp());
    version = t.manifest.manifest.version;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("CON-7: a refused separate-consent prompt is not shown again before the cool-down, then it is", async () => {
    const p = await newPlayer(t);
    expect(await shouldShowMine(t, p.headers, "purpose", "location-services")).toEqual({
      show: true,
      reason: "not-asked",
      nextAt: null,
      cooldownHours: 48,
    });
    // Showing it is logged but starts nothing.
    expect((await outcomeMine(t, p.headers, "purpose", "location-services", "shown")).next.show).toBe(true);
    const refusedAt = clock.now();
    const refused = await outcomeMine(t, p.headers, "purpose", "location-services", "refused");
    const nextAt = new Date(refusedAt.getTime() + 48 * HOUR).toISOString();
    expect(refused.next).toEqual({ show: false, reason: "cool-down", nextAt, cooldownHours: 48 });

    // Sessions do not last two days: after the clock moves, the app's backend asks (service API).
    clock.advance(47 * HOUR);
    expect(await shouldShowFor(t, p.subjectId, "purpose", "location-services")).toMatchObject({
      show: false,
      reason: "cool-down",
      nextAt,
    });
    // Other prompts are not held back by this one.
    expect((await shouldShowFor(t, p.subjectId, "purpose", "personalised-ads")).show).toBe(true);
    clock.advance(HOUR);
    expect(await shouldShowFor(t, p.subjectId, "purpose", "location-services")).toEqual({
      show: true,
      reason: "cool-down-over",
      nextAt: null,
      cooldownHours: 48,
    });
    // Dismissing (closing without an answer) counts as a refusal too.
    await outcomeFor(t, p.subjectId, "purpose", "location-services", "dismissed");
    expect((await shouldShowFor(t, p.subjectId, "purpose", "location-services")).reason).toBe("cool-down");
  });

  it("CON-7: a refusal or withdrawal in the consent ledger starts the cool-down; a given consent needs no prompt", async () => {
    const p = await newPlayer(t);
    const consent = (state: string) =>
      postConsent(t.app, p.headers, {
        purposeId: "personalised-ads",
        state,
        noticeVersion: version,
        language: "en",
        method: "app",
      });
    await consent("refused");
    expect(await shouldShowMine(t, p.headers, "purpose", "personalised-ads")).toMatchObject({
      show: false,
      reason: "cool-down",
      nextAt: new Date(clock.now().getTime() + 48 * HOUR).toISOString(),
    });
    await consent("given");
    expect(await shouldShowMine(t, p.headers, "purpose", "personalised-ads")).toMatchObject({
      show: false,
      reason: "consent-given",
    });
    // Even a refused prompt logged afterwards does not ask for what is already given.
    await outcomeMine(t, p.headers, "purpose", "personalised-ads", "refused");
    expect((await shouldShowMine(t, p.headers, "purpose", "personalised-ads")).reason).toBe("consent-given");
    clock.advance(60_000);
    await consent("withdrawn");
    expect((await shouldShowMine(t, p.headers, "purpose", "personalised-ads")).reason).toBe("cool-down");
    clock.advance(48 * HOUR);
    expect((await shouldShowFor(t, p.subjectId, "purpose", "personalised-ads")).reason).toBe(
      "cool-down-over",
    );
  });

  it("CON-7: a device permission denied on its prompt waits for the cool-down; a grant needs no prompt (service API)", async () => {
    const p = await newPlayer(t);
    expect(await shouldShowFor(t, p.subjectId, "permission", "camera")).toMatchObject({ show: true });
    const report = (state: string, extra: object = {}) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/permissions",
        headers: serviceHeaders,
        payload: { subjectId: p.subjectId, permission: "camera", state, language: "en", ...extra },
      });
    expect((await report("denied")).statusCode).toBe(201);
    expect(await shouldShowFor(t, p.subjectId, "permission", "camera")).toMatchObject({
      show: false,
      reason: "cool-down",
    });
    const notice = t.manifest.manifest.permissions.find((x) => x.id === "camera")?.notice.en ?? "";
    const hash = createHash("sha256").update(notice).digest("hex");
    expect((await report("granted", { noticeShown: { language: "en", noticeHash: hash } })).statusCode).toBe(
      201,
    );
    expect(await shouldShowFor(t, p.subjectId, "permission", "camera")).toMatchObject({
      show: false,
      reason: "granted",
    });
    // The service logs a prompt outcome for a subject too.
    const logged = await t.app.inject({
      method: "POST",
      url: "/api/v1/prompts/permission/microphone",
      headers: serviceHeaders,
      payload: { subjectId: p.subjectId, outcome: "refused", language: "zh-CN" },
    });
    expect(logged.statusCode, logged.body).toBe(201);
    expect(logged.json().next).toMatchObject({ show: false, reason: "cool-down" });
  });

  it("CON-7: a dismissed notice waits for the cool-down; an acknowledged notice is not shown again", async () => {
    const p = await newPlayer(t);
    await outcomeMine(t, p.headers, "notice", "location-popup", "dismissed");
    expect((await shouldShowMine(t, p.headers, "notice", "location-popup")).reason).toBe("cool-down");
    clock.advance(49 * HOUR);
    expect((await shouldShowFor(t, p.subjectId, "notice", "location-popup")).show).toBe(true);
    const accepted = await outcomeFor(t, p.subjectId, "notice", "location-popup", "accepted");
    expect(accepted.next).toMatchObject({ show: false, reason: "acknowledged" });
  });

  it("CON-7: unknown prompts are refused with the valid ids; the service API needs its key", async () => {
    const p = await newPlayer(t);
    const bad = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/prompts/purpose/service-operation/should-show",
      headers: p.headers,
    });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json().error.details.valid).toContain("location-services");
    expect(bad.json().error.details.valid).not.toContain("service-operation");
    const badNotice = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/prompts/notice/no-such-notice/should-show",
      headers: p.headers,
    });
    expect(badNotice.json().error.details.valid).toContain("location-popup");
    const noKey = await t.app.inject({
      method: "GET",
      url: `/api/v1/prompts/purpose/location-services/should-show?subjectId=${p.subjectId}`,
    });
    expect(noKey.statusCode).toBe(401);
  });
});

describe("prompt cool-down configured (CON-7)", () => {
  it("CON-7: CUSTOS_PROMPT_COOLDOWN_HOURS sets the cool-down; a bad value stops the start with a clear message", async () => {
    expect(loadConfig({}).promptCooldownHours).toBe(48);
    expect(loadConfig({ CUSTOS_PROMPT_COOLDOWN_HOURS: "72" }).promptCooldownHours).toBe(72);
    for (const bad of ["0", "1.5", "two", "9000"])
      expect(() => loadConfig({ CUSTOS_PROMPT_COOLDOWN_HOURS: bad })).toThrow(ConfigError);
    expect(() => loadConfig({ CUSTOS_PROMPT_COOLDOWN_HOURS: "0" })).toThrow(
      /CUSTOS_PROMPT_COOLDOWN_HOURS.*1 to 8760/,
    );

    const clock = fixedClock("2025-05-01T08:00:00Z");
    const t = await buildTestApp({
      env: {
        CUSTOS_PROMPT_COOLDOWN_HOURS: "6",
        CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]),
      },
      deps: { clock },
    });
    try {
      const subjectId = "6f1d4c1e-2b7a-4e55-9a51-0c1d2e3f4a5b";
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/prompts/notice/first-purchase",
        headers: serviceHeaders,
        payload: { subjectId, outcome: "refused", language: "en" },
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().next).toEqual({
        show: false,
        reason: "cool-down",
        nextAt: "2025-05-01T14:00:00.000Z",
        cooldownHours: 6,
      });
      clock.advance(6 * HOUR);
      expect(await shouldShowFor(t, subjectId, "notice", "first-purchase")).toMatchObject({
        show: true,
        reason: "cool-down-over",
      });
    } finally {
      await t.close();
    }
  });
});
