import { createHmac, hkdfSync } from "node:crypto";
import { createConsentLedger } from "@custos/store";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { DEV_PSEUDONYM_SECRET } from "../src/config.ts";
import { decideOne, newPlayer, postConsent, serviceHeaders, useConsentApp } from "./consent-helpers.ts";
import type { TestApp } from "./helpers.ts";

/** Personal settings and personalisation over HTTP (CON-8, CON-15). */

let t: TestApp;
let version: string;

useConsentApp((app) => ({ t, version } = app));

type SettingsView = {
  noticeVersion: string;
  manageUrl: string;
  settings: {
    id: string;
    name: string;
    on: boolean;
    offMeans: string;
    purposes: { id: string; name: string; consent: string; personalised: boolean }[];
  }[];
};

type Player = Awaited<ReturnType<typeof newPlayer>>;

const consentTo = (p: Player, purposeId: string) =>
  postConsent(t.app, p.headers, {
    purposeId,
    state: "given",
    noticeVersion: version,
    language: "en",
    method: "web",
  });

async function mySettings(p: Player, lang = "en"): Promise<SettingsView> {
  const res = await t.app.inject({
    method: "GET",
    url: `/api/v1/me/settings?lang=${lang}`,
    headers: p.headers,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as SettingsView;
}

async function setSwitch(p: Player, setting: string, on: boolean, expected = 200) {
  const res = await t.app.inject({
    method: "PUT",
    url: `/api/v1/me/settings/${setting}`,
    headers: p.headers,
    payload: { on, language: "en" },
  });
  expect(res.statusCode, res.body).toBe(expected);
  return res;
}

const service = (url: string, payload: unknown) =>
  t.app.inject({ method: "POST", url, headers: serviceHeaders, payload: payload as object });

async function postTags(
  p: Player,
  purposeId: string,
  tags: { id: string; label: Record<string, string> }[],
  expected = 201,
) {
  const res = await service("/api/v1/interest-tags", { subjectId: p.subjectId, purposeId, tags });
  expect(res.statusCode, res.body).toBe(expected);
  return res;
}

type TagView = { id: string; tagId: string; label: string; purposeId: string; category: string };
async function myTags(p: Player, lang = "en"): Promise<TagView[]> {
  const res = await t.app.inject({
    method: "GET",
    url: `/api/v1/me/interest-tags?lang=${lang}`,
    headers: p.headers,
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { tags: TagView[] }).tags;
}

const rowsOf = async (subjectId: string) =>
  (
    await sql<{ purpose_id: string; ciphertext: Buffer; tag_hash: Buffer }>`
      select purpose_id, ciphertext, tag_hash from interest_tags where subject_id = ${subjectId}`.execute(
      t.database.db,
    )
  ).rows;

const auditOf = async (subjectId: string) =>
  (await t.app.custos.auditLedger.list({ subjectId, limit: 500 })).events;

describe("personalisation switches (CON-8)", () => {
  it("CON-8: the view lists each switch of the manifest, on until switched off, with its purposes and what off means", async () => {
    const p = await newPlayer(t);
    const view = await mySettings(p);
    expect(view.noticeVersion).toBe(version);
    expect(view.manageUrl).toBe("http://custos.test/center/settings");
    const fromManifest = [
      ...new Set(t.manifest.manifest.purposes.flatMap((x) => (x.setting ? [x.setting] : []))),
    ];
    expect(view.settings.map((s) => s.id)).toEqual(fromManifest);
    for (const s of view.settings) {
      expect(s.on, s.id).toBe(true);
      expect(s.purposes.map((x) => x.id)).toEqual(
        t.manifest.manifest.purposes.filter((x) => x.setting === s.id).map((x) => x.id),
      );
      // Not personalised until the separate consent is given, whatever the switch says.
      for (const purpose of s.purposes)
        expect(purpose).toMatchObject({ consent: "not-asked", personalised: false });
    }
    const ads = view.settings.find((s) => s.id === "personalised-ads");
    expect(ads?.offMeans).toMatch(/still see adverts/);
    expect(view.settings.find((s) => s.id === "personalised-content")?.offMeans).toMatch(
      /general recommendations/,
    );
    const zh = await mySettings(p, "zh-CN");
    expect(zh.settings.find((s) => s.id === "personalised-ads")?.offMeans).toMatch(/仍会看到/);
  });

  it("CON-8: with the switch off, decisions for personalised ads and content deny (setting-off) although consent is given; back on, they allow", async () => {
    const p = await newPlayer(t);
    for (const purposeId of ["personalised-ads", "personalised-content"]) {
      await consentTo(p, purposeId);
      const allowed = await decideOne(t.app, { subjectId: p.subjectId, purposeId, categories: ["device"] });
      expect(allowed, purposeId).toMatchObject({ allow: true, reason: "consent-given" });

      const off = await setSwitch(p, purposeId, false);
      const setting = (off.json() as SettingsView).settings.find((s) => s.id === purposeId);
      expect(setting).toMatchObject({ on: false });
      expect(setting?.purposes[0]).toMatchObject({ consent: "given", personalised: false });
      expect(
        await decideOne(t.app, { subjectId: p.subjectId, purposeId, categories: ["device"] }),
      ).toMatchObject({
        allow: false,
        reason: "setting-off",
      });
      // The other switch is untouched by this one.
      const other = purposeId === "personalised-ads" ? "personalised-content" : "personalised-ads";
      expect((await mySettings(p)).settings.find((s) => s.id === other)?.on).toBe(true);

      await setSwitch(p, purposeId, true);
      expect(
        await decideOne(t.app, { subjectId: p.subjectId, purposeId, categories: ["device"] }),
      ).toMatchObject({
        allow: true,
        reason: "consent-given",
      });
    }
    // Each flip is a consent event in the subject's chain: on = given, off = withdrawn, method web.
    const ledger = createConsentLedger({ db: t.database.db });
    const events = (await ledger.events(p.subjectId)).filter((e) => e.targetKind === "setting");
    expect(events.map((e) => [e.targetId, e.state, e.method])).toEqual([
      ["personalised-ads", "withdrawn", "web"],
      ["personalised-ads", "given", "web"],
      ["personalised-content", "withdrawn", "web"],
      ["personalised-content", "given", "web"],
    ]);
    expect((await ledger.verify(p.subjectId)).ok).toBe(true);
  });

  it("CON-8: a service records a switch flipped in the app (method app); unknown settings and callers are refused", async () => {
    const p = await newPlayer(t);
    await consentTo(p, "personalised-ads");
    const res = await service("/api/v1/settings", {
      subjectId: p.subjectId,
      setting: "personalised-ads",
      on: false,
      language: "zh-CN",
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as SettingsView).settings.find((s) => s.id === "personalised-ads")?.name).toBe(
      "个性化广告",
    );
    expect(
      await decideOne(t.app, { subjectId: p.subjectId, purposeId: "personalised-ads", categories: [] }),
    ).toMatchObject({ allow: false, reason: "setting-off" });
    const events = await createConsentLedger({ db: t.database.db }).events(p.subjectId);
    expect(events.at(-1)).toMatchObject({
      targetKind: "setting",
      targetId: "personalised-ads",
      method: "app",
      state: "withdrawn",
    });

    const noKey = await t.app.inject({
      method: "POST",
      url: "/api/v1/settings",
      payload: { subjectId: p.subjectId, setting: "personalised-ads", on: true, language: "en" },
    });
    expect(noKey.statusCode).toBe(401);
    const unknown = await setSwitch(p, "personalised-music", false, 400);
    expect(unknown.json().error.details.valid).toEqual(["personalised-content", "personalised-ads"]);
    const signedOut = await t.app.inject({ method: "GET", url: "/api/v1/me/settings" });
    expect(signedOut.statusCode).toBe(401);
  });
});

describe("recommendation and advertising on pseudonymous data (CON-15)", () => {
  it("CON-15: personalised ads asking for real-name data is denied, with the categories it may use", async () => {
    const p = await newPlayer(t);
    await consentTo(p, "personalised-ads");
    const d = await decideOne(t.app, {
      subjectId: p.subjectId,
      purposeId: "personalised-ads",
      categories: ["advertising-profile", "real-name"],
    });
    expect(d).toMatchObject({ allow: false, reason: "category-not-in-purpose" });
    expect(d.validCategories).not.toContain("real-name");
    expect(d.validCategories).toEqual(
      t.manifest.manifest.purposes.find((x) => x.id === "personalised-ads")?.categories,
    );
  });

  it("CON-15: a pseudonym per purpose is a keyed HMAC: stable, different per purpose and subject, with no way back", async () => {
    const a = await newPlayer(t);
    const b = await newPlayer(t);
    const pseudonym = async (subjectId: string, purposeId: string) => {
      const res = await service("/api/v1/pseudonyms", { subjectId, purposeId });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { pseudonym: string }).pseudonym;
    };
    const adsA = await pseudonym(a.subjectId, "personalised-ads");
    expect(await pseudonym(a.subjectId, "personalised-ads")).toBe(adsA);
    expect(await pseudonym(a.subjectId, "personalised-content")).not.toBe(adsA);
    expect(await pseudonym(b.subjectId, "personalised-ads")).not.toBe(adsA);
    expect(adsA).not.toContain(a.subjectId);
    expect(adsA.replaceAll("-", "")).not.toContain(a.subjectId.replaceAll("-", ""));
    // HMAC-SHA256(HKDF(secret, salt, purpose), subjectId), as docs/configuration.md describes.
    const key = Buffer.from(
      hkdfSync(
        "sha256",
        Buffer.from(DEV_PSEUDONYM_SECRET),
        Buffer.from("custos:pseudonym:v1"),
        "personalised-ads",
        32,
      ),
    );
    expect(adsA).toBe(`ps1_${createHmac("sha256", key).update(a.subjectId).digest("base64url")}`);

    // Only for purposes with a personalisation setting; only for services.
    const basic = await service("/api/v1/pseudonyms", {
      subjectId: a.subjectId,
      purposeId: "account-registration",
    });
    expect(basic.statusCode).toBe(400);
    expect(basic.json().error.details.validPurposes).toEqual(["personalised-content", "personalised-ads"]);
    const noKey = await t.app.inject({
      method: "POST",
      url: "/api/v1/pseudonyms",
      payload: { subjectId: a.subjectId, purposeId: "personalised-ads" },
    });
    expect(noKey.statusCode).toBe(401);
    // No reverse lookup is offered: the API has exactly one pseudonym operation, and it takes a subject.
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const pseudonymPaths = Object.keys(doc.paths).filter((path) => /pseudonym/i.test(path));
    expect(pseudonymPaths).toEqual(["/api/v1/pseudonyms"]);
    expect(Object.keys(doc.paths["/api/v1/pseudonyms"] ?? {})).toEqual(["post"]);
    const reverse = await t.app.inject({
      method: "GET",
      url: `/api/v1/pseudonyms/${adsA}`,
      headers: serviceHeaders,
    });
    expect(reverse.statusCode).toBe(404);
  });
});

describe("interest tags (CON-15)", () => {
  const racing = { id: "racing-games", label: { en: "Racing games", "zh-CN": "赛车游戏" } };
  const puzzles = { id: "puzzle-games", label: { en: "Puzzle games" } };

  it("CON-15: inferring tags is refused with the reason while consent is missing or the switch is off", async () => {
    const p = await newPlayer(t);
    const missing = await postTags(p, "personalised-content", [racing], 403);
    expect(missing.json().error).toMatchObject({ code: "forbidden", details: { reason: "consent-missing" } });
    await consentTo(p, "personalised-content");
    await setSwitch(p, "personalised-content", false);
    const off = await postTags(p, "personalised-content", [racing], 403);
    expect(off.json().error).toMatchObject({ code: "forbidden", details: { reason: "setting-off" } });
    expect(await rowsOf(p.subjectId)).toEqual([]);
    // Refusals are audited one by one, like any denied decision (written within 50 ms; now here).
    await t.app.custos.consent.flushDenials();
    const denials = (await auditOf(p.subjectId)).filter(
      (e) => e.action === "decide" && e.outcome === "denied",
    );
    expect(denials.map((e) => e.reason)).toEqual(["setting-off", "consent-missing"]);
    // Only personalisation purposes keep tags.
    const other = await service("/api/v1/interest-tags", {
      subjectId: p.subjectId,
      purposeId: "usage-analytics",
      tags: [racing],
    });
    expect(other.statusCode).toBe(400);
  });

  it("CON-15: tags are stored encrypted, listed to the subject in their language, and deleted for real (one, then all)", async () => {
    const p = await newPlayer(t);
    await consentTo(p, "personalised-content");
    await consentTo(p, "personalised-ads");
    const stored = await postTags(p, "personalised-content", [racing, puzzles]);
    expect(stored.json()).toEqual({
      purposeId: "personalised-content",
      category: "recommendation-profile",
      stored: 2,
      total: 2,
    });
    await postTags(p, "personalised-ads", [
      { id: "sports-shoes", label: { en: "Sports shoes", "zh-CN": "运动鞋" } },
    ]);
    // Posting a tag again replaces it rather than adding a row.
    await postTags(p, "personalised-content", [{ ...racing, label: { en: "Racing", "zh-CN": "赛车" } }]);

    const rows = await rowsOf(p.subjectId);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const raw = row.ciphertext.toString("latin1");
      for (const clear of ["racing", "Racing", "puzzle", "Puzzle", "sports", "Sports"])
        expect(raw).not.toContain(clear);
    }

    const en = await myTags(p);
    expect(en.map((x) => [x.purposeId, x.tagId, x.label]).sort()).toEqual([
      ["personalised-ads", "sports-shoes", "Sports shoes"],
      ["personalised-content", "puzzle-games", "Puzzle games"],
      ["personalised-content", "racing-games", "Racing"],
    ]);
    const zh = await myTags(p, "zh-CN");
    expect(zh.find((x) => x.tagId === "racing-games")?.label).toBe("赛车");
    // A label given only in English is shown in English.
    expect(zh.find((x) => x.tagId === "puzzle-games")?.label).toBe("Puzzle games");

    // Nobody else can delete (or see) them.
    const stranger = await newPlayer(t);
    expect(await myTags(stranger)).toEqual([]);
    const target = en.find((x) => x.tagId === "racing-games") as TagView;
    const notMine = await t.app.inject({
      method: "DELETE",
      url: `/api/v1/me/interest-tags/${target.id}`,
      headers: stranger.headers,
    });
    expect(notMine.statusCode).toBe(404);

    const one = await t.app.inject({
      method: "DELETE",
      url: `/api/v1/me/interest-tags/${target.id}`,
      headers: p.headers,
    });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toEqual({ deleted: 1 });
    expect(await rowsOf(p.subjectId)).toHaveLength(2);
    expect((await myTags(p)).map((x) => x.tagId).sort()).toEqual(["puzzle-games", "sports-shoes"]);

    const all = await t.app.inject({ method: "DELETE", url: "/api/v1/me/interest-tags", headers: p.headers });
    expect(all.json()).toEqual({ deleted: 2 });
    expect(await rowsOf(p.subjectId)).toEqual([]);

    // Audited as deletions by the subject, with counts and never the tags.
    const deletions = (await auditOf(p.subjectId)).filter((e) => e.action === "delete");
    expect(deletions.map((e) => [e.actorType, e.purpose, e.details.interestTags]).sort()).toEqual([
      ["subject", "personalised-ads", 1],
      ["subject", "personalised-content", 1],
      ["subject", "personalised-content", 1],
    ]);
    const audit = JSON.stringify(await auditOf(p.subjectId));
    for (const clear of ["racing", "Racing", "puzzle", "Puzzle", "sports", "Sports", "赛车"])
      expect(audit).not.toContain(clear);
  });

  it("CON-15: switching personalisation off deletes the tags inferred for it, and only those", async () => {
    const p = await newPlayer(t);
    await consentTo(p, "personalised-content");
    await consentTo(p, "personalised-ads");
    await postTags(p, "personalised-content", [racing]);
    await postTags(p, "personalised-ads", [{ id: "sports-shoes", label: { en: "Sports shoes" } }]);
    await setSwitch(p, "personalised-ads", false);
    expect((await myTags(p)).map((x) => x.tagId)).toEqual(["racing-games"]);
    expect((await rowsOf(p.subjectId)).map((r) => r.purpose_id)).toEqual(["personalised-content"]);
  });

  it("CON-15: destroying the subject's profile key erases the tags (crypto-shredding)", async () => {
    const p = await newPlayer(t);
    await consentTo(p, "personalised-content");
    await postTags(p, "personalised-content", [racing]);
    expect((await myTags(p)).map((x) => x.tagId)).toEqual(["racing-games"]);
    expect(await t.app.custos.vault.shred(p.subjectId, ["profile"])).toBe(1);
    expect(await myTags(p)).toEqual([]);
  });

  it("CON-15: tag input is bounded", async () => {
    const p = await newPlayer(t);
    await consentTo(p, "personalised-content");
    const long = await postTags(p, "personalised-content", [{ id: "x", label: { en: "a".repeat(61) } }], 400);
    expect(long.json().error.code).toBe("validation_failed");
    await postTags(p, "personalised-content", [{ id: "x", label: {} }], 400);
    await postTags(p, "personalised-content", [{ id: "Not An Id", label: { en: "x" } }], 400);
    await postTags(p, "personalised-content", [{ id: "x", label: { en: "two\nlines" } }], 400);
    const many = Array.from({ length: 51 }, (_, i) => ({ id: `tag-${i}`, label: { en: `Tag ${i}` } }));
    await postTags(p, "personalised-content", many, 400);
  });
});

describe("labels and why am I seeing this (CON-15)", () => {
  type Label = {
    itemId?: string;
    personalised: boolean;
    label: { en: string; "zh-CN": string };
    why: {
      purposes: string[];
      reason: string;
      tags: string[];
      setting: { id: string; on: boolean };
      manageUrl: string;
    };
  };
  const label = async (subjectId: string, purposeId: string, itemId?: string) => {
    const res = await service("/api/v1/personalisation/label", {
      subjectId,
      purposeId,
      ...(itemId ? { itemId } : {}),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Label;
  };

  it("CON-15: a personalised item is labelled with why (tag ids only); switched off it is generic, and ads still show", async () => {
    const p = await newPlayer(t);
    expect(await label(p.subjectId, "personalised-content")).toMatchObject({
      personalised: false,
      label: { en: "Not personalised" },
      why: { reason: "consent-missing", tags: [] },
    });
    await consentTo(p, "personalised-content");
    await consentTo(p, "personalised-ads");
    await postTags(p, "personalised-ads", [{ id: "sports-shoes", label: { en: "Sports shoes" } }]);
    const on = await label(p.subjectId, "personalised-ads", "ad-42");
    expect(on).toEqual({
      itemId: "ad-42",
      personalised: true,
      label: { en: "Ad · Personalised for you", "zh-CN": "广告 · 为您个性化推荐" },
      why: {
        purposes: ["personalised-ads"],
        reason: "consent-given",
        tags: ["sports-shoes"],
        setting: { id: "personalised-ads", on: true },
        manageUrl: "http://custos.test/center/settings",
      },
    });
    expect(JSON.stringify(on)).not.toContain("Sports shoes");
    expect((await label(p.subjectId, "personalised-content")).label.en).toBe("Personalised for you");

    await setSwitch(p, "personalised-ads", false);
    const off = await label(p.subjectId, "personalised-ads", "ad-42");
    expect(off).toMatchObject({
      personalised: false,
      label: { en: "Ad", "zh-CN": "广告" },
      why: { reason: "setting-off", tags: [], setting: { on: false } },
    });

    const why = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/personalisation/why?purpose=personalised-content&lang=en",
      headers: p.headers,
    });
    expect(why.statusCode, why.body).toBe(200);
    expect(why.json()).toMatchObject({
      purposeId: "personalised-content",
      personalised: true,
      reason: "consent-given",
      consent: "given",
      setting: { id: "personalised-content", on: true },
      label: "Personalised for you",
      manageUrl: "http://custos.test/center/settings",
    });
    const whyAds = await t.app.inject({
      method: "GET",
      url: "/api/v1/me/personalisation/why?purpose=personalised-ads&lang=zh-CN",
      headers: p.headers,
    });
    expect(whyAds.json()).toMatchObject({
      personalised: false,
      reason: "setting-off",
      label: "广告",
      setting: { on: false },
    });
    const bad = await service("/api/v1/personalisation/label", {
      subjectId: p.subjectId,
      purposeId: "order-payment",
    });
    expect(bad.statusCode).toBe(400);
  });
});
