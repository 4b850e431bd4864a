import { createHash } from "node:crypto";
import type { Language } from "@custos/manifest";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { decideOne, newPlayer, postConsent, serviceHeaders, useConsentApp } from "./consent-helpers.ts";
import type { TestApp } from "./helpers.ts";

let t: TestApp;

useConsentApp((app) => ({ t } = app));

/** SHA-256 of the exact notice text, as the app computes it from the text it showed. */
const noticeHash = (permissionId: string, lang: Language) => {
  const permission = t.manifest.manifest.permissions.find((p) => p.id === permissionId);
  if (!permission) throw new Error(`no permission ${permissionId} in the manifest`);
  return createHash("sha256").update(permission.notice[lang], "utf8").digest("hex");
};

type Report = {
  permission: string;
  state: "granted" | "denied" | "revoked";
  noticeShown?: { language: Language; noticeHash?: string; version?: string };
  platformName?: string;
  language?: Language;
};

const reportMine = (headers: Record<string, string>, body: Report) =>
  t.app.inject({
    method: "POST",
    url: "/api/v1/me/permissions",
    headers,
    payload: { language: "en", ...body },
  });

const reportByService = (subjectId: string, body: Report, headers: Record<string, string> = serviceHeaders) =>
  t.app.inject({
    method: "POST",
    url: "/api/v1/permissions",
    headers,
    payload: { subjectId, language: "en", ...body },
  });

type View = {
  noticeVersion: string;
  permissions: {
    permissionId: string;
    name: string;
    notice: string;
    noticeHash: string;
    state: string;
    purposes: { purposeId: string }[];
  }[];
  history: {
    occurredAt: string;
    permissionId: string;
    state: string;
    platformName: string | null;
    notice: { hash: string | null; language: string | null; version: string | null; current: boolean } | null;
  }[];
};

async function myPermissions(headers: Record<string, string>, lang: Language = "en"): Promise<View> {
  const res = await t.app.inject({ method: "GET", url: `/api/v1/me/permissions?lang=${lang}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as View;
}

const granted = (permission: string, lang: Language = "en"): Report => ({
  permission,
  state: "granted",
  noticeShown: { language: lang, noticeHash: noticeHash(permission, lang) },
});

describe("device permissions reported by the app (CON-10)", () => {
  it("CON-10: a grant needs the purpose notice in force; which notice, its language and the platform name are recorded", async () => {
    const p = await newPlayer(t);
    // No notice named: refused, nothing recorded.
    const noNotice = await reportMine(p.headers, { permission: "camera", state: "granted" });
    expect(noNotice.statusCode, noNotice.body).toBe(400);
    expect(noNotice.json().error.message).toContain("noticeShown");
    // A notice that is not the current text: refused with what to do and the current hash.
    const stale = await reportMine(p.headers, {
      permission: "camera",
      state: "granted",
      noticeShown: { language: "en", noticeHash: createHash("sha256").update("an older text").digest("hex") },
    });
    expect(stale.statusCode, stale.body).toBe(409);
    expect(stale.json().error.message).toMatch(/not the current one.*Show the current notice/);
    expect(stale.json().error.details.currentNoticeHash).toBe(noticeHash("camera", "en"));
    // An older manifest version: refused too.
    const oldVersion = await reportMine(p.headers, {
      permission: "camera",
      state: "granted",
      noticeShown: { language: "en", version: "1999-01-01" },
    });
    expect(oldVersion.statusCode, oldVersion.body).toBe(409);
    // Not a manifest permission: refused, listing the valid ones.
    const unknown = await reportMine(p.headers, { ...granted("camera"), permission: "bluetooth" });
    expect(unknown.statusCode, unknown.body).toBe(400);
    expect(unknown.json().error.details.validPermissions).toEqual(
      t.manifest.manifest.permissions.map((x) => x.id),
    );
    // A platform permission the manifest does not declare for camera: refused.
    const platform = await reportMine(p.headers, {
      ...granted("camera"),
      platformName: "android.permission.READ_CONTACTS",
    });
    expect(platform.statusCode, platform.body).toBe(400);
    expect(platform.json().error.details.validPlatformNames).toEqual(["android.permission.CAMERA"]);
    expect((await myPermissions(p.headers)).history).toEqual([]);

    // The current notice, in Chinese, with the platform name: recorded.
    const ok = await reportMine(p.headers, {
      ...granted("camera", "zh-CN"),
      platformName: "android.permission.CAMERA",
      language: "zh-CN",
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ permissionId: "camera", current: "granted" });
    // By manifest version instead of hash: the server records the hash of that version's text.
    const byVersion = await reportMine(p.headers, {
      permission: "location",
      state: "granted",
      noticeShown: { language: "en", version: t.manifest.manifest.version },
    });
    expect(byVersion.statusCode, byVersion.body).toBe(201);

    const view = await myPermissions(p.headers);
    const camera = view.permissions.find((x) => x.permissionId === "camera");
    expect(camera).toMatchObject({ state: "granted", noticeHash: noticeHash("camera", "en") });
    expect(camera?.purposes.map((x) => x.purposeId)).toContain("publishing");
    expect(view.permissions.find((x) => x.permissionId === "contacts")?.state).toBe("not-asked");
    expect(view.history).toEqual([
      expect.objectContaining({
        permissionId: "location",
        state: "granted",
        notice: {
          hash: noticeHash("location", "en"),
          language: "en",
          version: t.manifest.manifest.version,
          current: true,
        },
      }),
      expect.objectContaining({
        permissionId: "camera",
        state: "granted",
        platformName: "android.permission.CAMERA",
        notice: {
          hash: noticeHash("camera", "zh-CN"),
          language: "zh-CN",
          version: t.manifest.manifest.version,
          current: true,
        },
      }),
    ]);
    // The notice evidence cannot be rewritten afterwards.
    await expect(
      sql`update permission_prompts set notice_current = false where subject_id = ${p.subjectId}`.execute(
        t.database.db,
      ),
    ).rejects.toThrow(/append-only/);
    // The grant is a consent event of the subject's chain (method app), so receipts show it too.
    const receipts = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/consents/receipts?format=iso27560",
      headers: p.headers,
    });
    expect(receipts.statusCode).toBe(200);
    expect(JSON.stringify(receipts.json())).toContain("camera");
  });

  it("CON-10: revoking location denies location-services for [location] (permission-off); customer-service keeps its own categories; revoking camera leaves location alone", async () => {
    const p = await newPlayer(t);
    const version = t.manifest.manifest.version;
    await postConsent(t.app, p.headers, {
      purposeId: "location-services",
      state: "given",
      noticeVersion: version,
      language: "en",
      method: "app",
    });
    for (const permission of ["location", "camera"]) {
      const res = await reportByService(p.subjectId, granted(permission));
      expect(res.statusCode, res.body).toBe(201);
    }
    const location = { subjectId: p.subjectId, purposeId: "location-services", categories: ["location"] };
    expect(await decideOne(t.app, location)).toMatchObject({ allow: true, reason: "consent-given" });

    // Revoking camera: location is unaffected; what needs the camera is off.
    const camera = await reportByService(p.subjectId, { permission: "camera", state: "revoked" });
    expect(camera.statusCode, camera.body).toBe(201);
    expect(camera.json()).toMatchObject({ current: "revoked", recorded: { state: "revoked", notice: null } });
    expect(await decideOne(t.app, location)).toMatchObject({ allow: true, reason: "consent-given" });
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "publishing",
        categories: ["user-content"],
      }),
    ).toMatchObject({ allow: false, reason: "permission-off" });

    // Revoking location: location-services is denied for the location category only.
    const revoked = await reportMine(p.headers, { permission: "location", state: "revoked" });
    expect(revoked.statusCode, revoked.body).toBe(201);
    expect(await decideOne(t.app, location)).toMatchObject({ allow: false, reason: "permission-off" });
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "location-services",
        categories: ["device"],
      }),
    ).toMatchObject({ allow: true, reason: "consent-given" });
    // Customer service (camera among its permissions) still works for its own categories.
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "customer-service",
        categories: ["customer-service", "account-profile"],
      }),
    ).toMatchObject({ allow: true, reason: "basis" });

    const view = await myPermissions(p.headers);
    expect(view.permissions.find((x) => x.permissionId === "location")?.state).toBe("revoked");
    expect(view.history.map((h) => `${h.permissionId}:${h.state}`)).toEqual([
      "location:revoked",
      "camera:revoked",
      "camera:granted",
      "location:granted",
    ]);
    // Granting again after the notice brings it back.
    expect((await reportMine(p.headers, granted("location"))).statusCode).toBe(201);
    expect(await decideOne(t.app, location)).toMatchObject({ allow: true, reason: "consent-given" });
  });

  it("CON-10: a denial is recorded whatever notice the app names (marked not current), and switches off like a revocation", async () => {
    const p = await newPlayer(t);
    const older = createHash("sha256").update("a notice text from an older app build").digest("hex");
    const denied = await reportByService(p.subjectId, {
      permission: "contacts",
      state: "denied",
      noticeShown: { language: "en", noticeHash: older },
      platformName: "android.permission.READ_CONTACTS",
    });
    expect(denied.statusCode, denied.body).toBe(201);
    expect(denied.json().recorded.notice).toEqual({
      hash: older,
      language: "en",
      version: null,
      current: false,
    });
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "contacts-friends",
        categories: ["address-book"],
      }),
    ).toMatchObject({ allow: false, reason: "permission-off" });
    expect(
      (await myPermissions(p.headers, "zh-CN")).permissions.find((x) => x.permissionId === "contacts"),
    ).toMatchObject({ state: "denied", name: "通讯录权限" });
  });

  it("CON-10: the service endpoint needs a service key and the subject endpoints a session", async () => {
    const p = await newPlayer(t);
    const res = await reportByService(p.subjectId, granted("camera"), {
      "x-custos-service-key": "not-a-valid-key-at-all",
    });
    expect(res.statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/api/v1/me/permissions" })).statusCode).toBe(401);
    expect(
      (
        await t.app.inject({
          method: "POST",
          url: "/api/v1/me/permissions",
          payload: { ...granted("camera"), language: "en" },
        })
      ).statusCode,
    ).toBe(401);
  });
});
