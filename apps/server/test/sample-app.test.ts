import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { favouriteGenres, GENERIC_ITEM_IDS, GENRE_TAGS } from "../src/sample-app/sample-app-catalogue.ts";
import { bearer, register } from "./accounts-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

/**
 * The sample app's game backend (issue 4, section 8) on a listening server: its SDK connects over
 * HTTP to this same server, as a separate service would, and decides from its snapshot.
 */

type Decision = { purposeId: string; allow: boolean; reason: string; source: string; ageMs: number | null };
type Feed = {
  personalised: boolean;
  label: string;
  decision: Decision;
  why: {
    purposeId: string;
    reason: string;
    tags: { id: string; label: string }[];
    setting: { on: boolean };
  } | null;
  items: { id: string; personalised: boolean; label: string; because: string | null }[];
};
type Ad = {
  personalised: boolean;
  label: string;
  decision: Decision;
  why: Feed["why"];
  ad: { id: string; title: string };
};
type Nearby = { decision: Decision; players: { handle: string; distanceKm: number; game: string }[] };
type Refusal = {
  error: { code: string; details: { needs: string; purposeId: string; permissionId: string } };
};

let t: TestApp;
let version: string;
let n = 0;

beforeAll(async () => {
  t = await buildTestApp({ env: { CUSTOS_DEV: "1", TRUST_PROXY: "true", RATE_LIMIT_MAX: "100000" } });
  version = t.manifest.manifest.version;
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  expect((t.app.server.address() as AddressInfo).port).toBeGreaterThan(0);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

async function newPlayer() {
  n += 1;
  const r = await register(t.app, version, {
    contact: `sample.player${n}.${Date.now()}@example.com`,
    username: `sample_p${n}_${Math.floor(Math.random() * 1e6)}`,
  });
  return { subjectId: r.subjectId, headers: bearer(r.token) };
}

async function get<T>(url: string, headers: Record<string, string>, expected = 200): Promise<T> {
  const res = await t.app.inject({ method: "GET", url, headers });
  expect(res.statusCode, res.body).toBe(expected);
  return res.json() as T;
}

async function send(method: "POST" | "PUT", url: string, headers: Record<string, string>, payload: object) {
  const res = await t.app.inject({ method, url, headers, payload });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

const consent = (
  headers: Record<string, string>,
  purposeId: string,
  state: "given" | "refused" | "withdrawn",
) =>
  send("POST", "/api/v1/me/consents", headers, {
    purposeId,
    state,
    noticeVersion: version,
    language: "en",
    method: "app",
  });

const setting = (headers: Record<string, string>, id: string, on: boolean) =>
  send("PUT", `/api/v1/me/settings/${id}`, headers, { on, language: "en" });

const permission = (headers: Record<string, string>, state: "granted" | "denied" | "revoked") =>
  send("POST", "/api/v1/me/permissions", headers, {
    permission: "location",
    state,
    language: "en",
    ...(state === "granted" ? { noticeShown: { language: "en", version } } : {}),
  });

/** Polls `fetch` until `done` holds (every 10 ms, at most `ms`); returns the value and the time it took. */
async function until<T>(fetchOnce: () => Promise<T>, done: (v: T) => boolean, ms = 2000) {
  const started = Date.now();
  for (;;) {
    const value = await fetchOnce();
    if (done(value)) return { value, ms: Date.now() - started };
    if (Date.now() - started > ms) throw new Error(`not reached within ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("sample app backend (issue 4, section 8)", () => {
  it("CON-4, CON-8, CON-15: the feed is generic until the separate consent, then personalised, labelled and explained; switching it off reaches the SDK over its stream in under a second", async () => {
    const p = await newPlayer();
    const feed = () => get<Feed>("/api/v1/sample-app/feed?lang=en", p.headers);

    // Accepting the policy at sign-up does not cover a separate-consent purpose (CON-4).
    const before = await feed();
    expect(before.personalised).toBe(false);
    expect(before.label).toBe("Not personalised");
    expect(before.decision).toMatchObject({
      purposeId: "personalised-content",
      allow: false,
      source: "snapshot",
    });
    expect(before.decision.reason).toMatch(/^consent-/);
    expect(before.items.map((i) => i.id)).toEqual([...GENERIC_ITEM_IDS]);
    expect(before.why).toBeNull();
    // The SDK reports its denial to the audit log (MAN-5), under the sample app's service name.
    const audited = async () =>
      (
        await sql<{ actor_id: string; outcome: string; reason: string; details: { via?: string } }>`
          select actor_id, outcome, reason, details from audit_events
          where subject_id = ${p.subjectId} and action = 'decide' and purpose = 'personalised-content'`.execute(
          t.database.db,
        )
      ).rows;
    const reported = (await until(audited, (rows) => rows.length > 0)).value;
    expect(reported[0]).toMatchObject({ actor_id: "sample-app", outcome: "denied", details: { via: "sdk" } });
    // Nothing was inferred about the player while personalisation was not allowed.
    const none = await get<{ tags: unknown[] }>("/api/v1/me/interest-tags?lang=en", p.headers);
    expect(none.tags).toEqual([]);

    await consent(p.headers, "personalised-content", "given");
    const on = (await until(feed, (f) => f.personalised)).value;
    expect(on.label).toBe("Personalised for you");
    expect(on.decision).toMatchObject({ allow: true, reason: "consent-given", source: "snapshot" });
    const genres = favouriteGenres(p.subjectId);
    const tagIds = genres.map((g) => GENRE_TAGS[g].id);
    expect(on.why?.tags.map((x) => x.id).sort()).toEqual([...tagIds].sort());
    expect(on.why?.setting.on).toBe(true);
    expect(on.items.length).toBeGreaterThan(0);
    for (const item of on.items) {
      expect(item).toMatchObject({ personalised: true, label: "Personalised for you" });
      expect(genres.map((g) => GENRE_TAGS[g].label.en)).toContain(item.because);
    }
    // The backend's inferred tags are the player's to see (and delete) in the privacy center.
    const tags = await get<{ tags: { tagId: string }[] }>("/api/v1/me/interest-tags?lang=en", p.headers);
    expect(tags.tags.map((x) => x.tagId).sort()).toEqual([...tagIds].sort());

    // The same feed in Simplified Chinese.
    const zh = await get<Feed>("/api/v1/sample-app/feed?lang=zh-CN", p.headers);
    expect(zh.label).toBe("为您个性化推荐");
    expect(zh.why?.tags.map((x) => x.label)).toContain(GENRE_TAGS[genres[0]].label["zh-CN"]);

    // Off: the SDK hears it on its change stream and decides from its snapshot, in under a second.
    await setting(p.headers, "personalised-content", false);
    const off = await until(feed, (f) => f.decision.reason === "setting-off", 1000);
    expect(off.ms).toBeLessThan(1000);
    expect(off.value.decision).toMatchObject({ allow: false, reason: "setting-off", source: "snapshot" });
    expect(off.value.items.map((i) => i.id)).toEqual([...GENERIC_ITEM_IDS]);
    expect(off.value.label).toBe("Not personalised");
    // Switching off deleted the tags inferred for content (CON-8).
    expect((await get<{ tags: unknown[] }>("/api/v1/me/interest-tags", p.headers)).tags).toEqual([]);

    // On again: personalised again, with the tags inferred anew.
    await setting(p.headers, "personalised-content", true);
    const again = (await until(feed, (f) => f.personalised)).value;
    expect(again.why?.tags.length).toBe(2);
  }, 30_000);

  it("CON-8: the ad slot always shows an advert; personalised only with the separate consent and the switch on", async () => {
    const p = await newPlayer();
    const ad = () => get<Ad>("/api/v1/sample-app/ad?lang=en", p.headers);

    const plain = await ad();
    expect(plain).toMatchObject({ personalised: false, label: "Ad", why: null });
    expect(plain.ad.id).toBe("ad-gamepad");
    expect(plain.decision).toMatchObject({ purposeId: "personalised-ads", allow: false, source: "snapshot" });

    await consent(p.headers, "personalised-ads", "given");
    const personal = (await until(ad, (a) => a.personalised)).value;
    expect(personal.label).toBe("Ad · Personalised for you");
    const [genre] = favouriteGenres(p.subjectId);
    expect(personal.why?.tags.map((x) => x.id)).toEqual([GENRE_TAGS[genre].id]);
    expect(personal.ad.id).not.toBe("ad-gamepad");

    await setting(p.headers, "personalised-ads", false);
    const off = (await until(ad, (a) => a.decision.reason === "setting-off", 1000)).value;
    expect(off).toMatchObject({ personalised: false, label: "Ad", why: null });
    expect(off.ad.id).toBe("ad-gamepad");
    expect(off.ad.title.length).toBeGreaterThan(0);
    expect(off.decision.reason).toBe("setting-off");
  }, 30_000);

  it("CON-4, CON-6, CON-10: players nearby needs the separate location consent and the location permission; refusing them keeps the rest working", async () => {
    const p = await newPlayer();
    const nearby = (expected: number) =>
      get<Nearby & Refusal>("/api/v1/sample-app/nearby?lang=en", p.headers, expected);

    const first = await nearby(403);
    expect(first.error.code).toBe("forbidden");
    expect(first.error.details).toMatchObject({
      needs: "consent",
      purposeId: "location-services",
      permissionId: "location",
    });

    // Refused: only the location feature is affected (CON-6).
    await consent(p.headers, "location-services", "refused");
    expect((await nearby(403)).error.details.needs).toBe("consent");
    expect((await get<Feed>("/api/v1/sample-app/feed", p.headers)).items.length).toBe(4);
    expect((await get<Ad>("/api/v1/sample-app/ad", p.headers)).ad.id).toBe("ad-gamepad");

    // Given: nearby works; revoking the permission stops it; granting it (notice shown) restores it.
    await consent(p.headers, "location-services", "given");
    const ok = async () => {
      const res = await t.app.inject({
        method: "GET",
        url: "/api/v1/sample-app/nearby?lang=zh-CN",
        headers: p.headers,
      });
      return { status: res.statusCode, body: res.json() as Nearby & Refusal };
    };
    const allowed = (await until(ok, (r) => r.status === 200)).value.body;
    expect(allowed.decision).toMatchObject({ allow: true, reason: "consent-given", source: "snapshot" });
    expect(allowed.players.length).toBeGreaterThan(0);
    expect(allowed.players[0]?.game).toMatch(/游戏/);

    await permission(p.headers, "revoked");
    const revoked = (await until(ok, (r) => r.status === 403)).value.body;
    expect(revoked.error.details.needs).toBe("permission");
    await permission(p.headers, "granted");
    await until(ok, (r) => r.status === 200);
    await permission(p.headers, "denied");
    expect((await until(ok, (r) => r.status === 403)).value.body.error.details.needs).toBe("permission");
    // The personalised feed does not need location (CON-10: a permission denies only what needs it).
    expect((await get<Feed>("/api/v1/sample-app/feed", p.headers)).decision.reason).not.toBe(
      "permission-off",
    );
  }, 30_000);

  it("asks for a signed-in player, and serves the page's analytics tag as a script", async () => {
    for (const path of ["feed", "ad", "nearby"]) {
      const res = await t.app.inject({ method: "GET", url: `/api/v1/sample-app/${path}` });
      expect(res.statusCode, path).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
    const bad = await t.app.inject({ method: "GET", url: "/api/v1/sample-app/feed?lang=fr" });
    expect(bad.statusCode).toBe(400);
    const tag = await t.app.inject({ method: "GET", url: "/api/v1/sample-app/analytics.js" });
    expect(tag.statusCode).toBe(200);
    expect(tag.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(tag.body).toContain("sample-app:analytics");
  });

  it("documents its routes under the sample-app tag", async () => {
    const spec = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
      tags: { name: string }[];
      paths: Record<string, Record<string, { tags?: string[]; operationId?: string }>>;
    };
    expect(spec.tags.map((x) => x.name)).toContain("sample-app");
    for (const path of ["feed", "ad", "nearby", "analytics.js"]) {
      const op = spec.paths[`/api/v1/sample-app/${path}`]?.get;
      expect(op?.tags, path).toEqual(["sample-app"]);
      expect(typeof op?.operationId).toBe("string");
    }
  });
});

describe("sample app configuration", () => {
  it("CUSTOS_SAMPLE_APP: on by default in development mode, off otherwise, and validated", () => {
    expect(loadConfig({ CUSTOS_DEV: "1" }).sampleApp).toBe(true);
    expect(loadConfig({}).sampleApp).toBe(false);
    expect(loadConfig({ CUSTOS_DEV: "1", CUSTOS_SAMPLE_APP: "off" }).sampleApp).toBe(false);
    expect(loadConfig({ CUSTOS_SAMPLE_APP: "on" }).sampleApp).toBe(true);
    expect(() => loadConfig({ CUSTOS_SAMPLE_APP: "sometimes" })).toThrow(ConfigError);
  });

  it("off: no sample-app routes", async () => {
    const off = await buildTestApp({ env: { CUSTOS_DEV: "1", CUSTOS_SAMPLE_APP: "0" } });
    try {
      const res = await off.app.inject({ method: "GET", url: "/api/v1/sample-app/feed" });
      expect(res.statusCode).toBe(404);
      const spec = (await off.app.inject({ method: "GET", url: "/openapi.json" })).json() as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(spec.paths).some((path) => path.startsWith("/api/v1/sample-app/"))).toBe(false);
    } finally {
      await off.close();
    }
  }, 60_000);
});
