import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { BANNER_GZIP_BUDGET, buildBanner } from "@custos/banner";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helpers.ts";

const CONSENT_ID = "6f1d2c3b-4a59-4e68-9f7a-8b9c0d1e2f30";
const UA = "CanaryBrowser/9.9 (visitor-ua-canary)";
const IP = "203.0.113.77";

const choice = (over: Record<string, unknown> = {}) => ({
  consentId: CONSENT_ID,
  choices: { analytics: true, advertising: false },
  gpc: false,
  language: "en",
  noticeVersion: "2024-03-26",
  action: "save",
  ...over,
});

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { TRUST_PROXY: "true" } });
});
afterAll(async () => {
  await t?.close();
});

const rows = async () =>
  (await sql<Record<string, unknown>>`select * from banner_choices order by id`.execute(t.database.db)).rows;

describe("consent banner: script, config, choices, GPC", () => {
  it("CON-11: the script is served with long caching, and the manifest gives its integrity and size under 8 KB gzipped", async () => {
    const m = await t.app.inject({ method: "GET", url: "/banner/v1/manifest.json" });
    expect(m.statusCode).toBe(200);
    const manifest = m.json() as { src: string; integrity: string; bytes: number; gzipBytes: number };
    expect(manifest.src).toMatch(/^\/banner\/v1\/custos-banner\.js\?v=[0-9a-f]{16}$/);
    expect(manifest.gzipBytes).toBeLessThanOrEqual(BANNER_GZIP_BUDGET);

    const js = await t.app.inject({
      method: "GET",
      url: manifest.src,
      headers: { "accept-encoding": "identity" },
    });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(js.headers["cache-control"]).toContain("max-age=31536000");
    expect(js.headers["access-control-allow-origin"]).toBe("*");
    const body = js.rawPayload;
    expect(body.length).toBe(manifest.bytes);
    expect(`sha384-${createHash("sha384").update(body).digest("base64")}`).toBe(manifest.integrity);
    expect(body.toString()).toContain("custos-consent-banner");
  });

  it("CON-11: the bundle is one ES2020 script with no import and gzips under the 8 KB budget", async () => {
    const built = await buildBanner();
    expect(built.code).not.toMatch(/^\s*import\s/m);
    expect(built.gzipBytes).toBeLessThanOrEqual(BANNER_GZIP_BUDGET);
    expect(built.gzipBytes).toBeGreaterThan(500);
    expect(built.gzipBytes).toBe(gzipSync(Buffer.from(built.code), { level: 9 }).length);
  });

  it("CON-11: config lists identity (necessary), analytics and advertising in English and Chinese", async () => {
    const en = (await t.app.inject({ method: "GET", url: "/api/v1/banner/config?lang=en" })).json();
    expect(en.gpc).toBe(false);
    expect(en.noticeVersion).toBe(t.manifest.manifest.version);
    expect(en.categories.map((c: { id: string; necessary: boolean }) => [c.id, c.necessary])).toEqual([
      ["identity", true],
      ["analytics", false],
      ["advertising", false],
    ]);
    expect(en.categories[1].name).toBe("Analysing use");
    expect(en.text.acceptAll).toBe("Accept all");
    const zh = (await t.app.inject({ method: "GET", url: "/api/v1/banner/config?lang=zh-CN" })).json();
    expect(zh.categories[1].name).toBe("分析使用情况");
    expect(zh.text.rejectAll).toBe("全部拒绝");
    const bad = await t.app.inject({ method: "GET", url: "/api/v1/banner/config?lang=fr" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("validation_failed");
  });

  it("CON-11: config honours Sec-GPC: 1 (gpc: true)", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/api/v1/banner/config",
      headers: { "sec-gpc": "1" },
    });
    expect(res.json().gpc).toBe(true);
    expect(res.headers.vary).toContain("Sec-GPC");
  });

  it("CON-11: /.well-known/gpc.json says GPC is supported", async () => {
    const res = await t.app.inject({ method: "GET", url: "/.well-known/gpc.json" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const body = res.json();
    expect(body.gpc).toBe(true);
    expect(body.lastUpdate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("CON-2: a choice is stored append-only with the consent id and no IP address or user agent", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/banner/choices",
      headers: { "content-type": "application/json", "user-agent": UA, "x-forwarded-for": IP },
      payload: choice(),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      recorded: true,
      choices: { analytics: true, advertising: false },
      gpc: false,
    });
    const stored = await rows();
    expect(stored).toHaveLength(1);
    expect(Object.keys(stored[0] ?? {}).sort()).toEqual(
      [
        "action",
        "advertising",
        "analytics",
        "consent_id",
        "gpc",
        "id",
        "language",
        "notice_version",
        "recorded_at",
      ].sort(),
    );
    expect(stored[0]).toMatchObject({
      consent_id: CONSENT_ID,
      analytics: true,
      advertising: false,
      gpc: false,
    });
    const everything = JSON.stringify(stored) + t.logs.join("\n");
    expect(everything).not.toContain("visitor-ua-canary");
    expect(everything).not.toContain(IP);
    expect(everything).not.toContain("127.0.0.1");
    await expect(sql`update banner_choices set analytics = false`.execute(t.database.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from banner_choices`.execute(t.database.db)).rejects.toThrow(/append-only/);
  });

  it("CON-11: Sec-GPC: 1 on the choice endpoint records analytics and advertising as off", async () => {
    const before = (await rows()).length;
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/banner/choices",
      headers: { "content-type": "application/json", "sec-gpc": "1" },
      payload: choice({ choices: { analytics: true, advertising: true }, action: "accept-all" }),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      recorded: true,
      choices: { analytics: false, advertising: false },
      gpc: true,
    });
    const last = (await rows())[before];
    expect(last).toMatchObject({ analytics: false, advertising: false, gpc: true, action: "gpc" });
    // gpc: true in the body has the same effect.
    const body = await t.app.inject({
      method: "POST",
      url: "/api/v1/banner/choices",
      headers: { "content-type": "application/json" },
      payload: choice({ choices: { analytics: true, advertising: true }, gpc: true }),
    });
    expect(body.json().choices).toEqual({ analytics: false, advertising: false });
  });

  it("CON-11: the choice endpoint is not blocked by CSRF (no session cookie) and answers CORS preflight", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/banner/choices",
      headers: { "content-type": "application/json", origin: "https://shop.example" },
      payload: choice({ choices: { analytics: false, advertising: false }, action: "reject-all" }),
    });
    expect(res.statusCode).toBe(201);
    const pre = await t.app.inject({
      method: "OPTIONS",
      url: "/api/v1/banner/choices",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers["access-control-allow-methods"]).toBe("POST");
  });

  it("CON-2: the choice endpoint takes only bounded JSON and writes nothing on bad input", async () => {
    const before = (await rows()).length;
    const form = await t.app.inject({
      method: "POST",
      url: "/api/v1/banner/choices",
      headers: { "content-type": "text/plain" },
      payload: JSON.stringify(choice()),
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe("unsupported_media_type");
    for (const bad of [
      choice({ consentId: "not-a-uuid" }),
      choice({ choices: { analytics: true, advertising: false, identity: false } }),
      choice({ noticeVersion: "x".repeat(41) }),
      choice({ language: "fr" }),
      choice({ ip: "203.0.113.1" }),
    ]) {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/banner/choices",
        headers: { "content-type": "application/json" },
        payload: bad,
      });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().error.code).toBe("validation_failed");
    }
    const huge = await t.app.inject({
      method: "POST",
      url: "/api/v1/banner/choices",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ ...choice(), pad: "x".repeat(4000) }),
    });
    expect(huge.statusCode).toBe(413);
    expect((await rows()).length).toBe(before);
  });

  it("CON-11: the demo page is served only in development", async () => {
    const res = await t.app.inject({ method: "GET", url: "/banner/demo" });
    expect(res.statusCode).toBe(404);
  });
});
