import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedPing } from "../src/system/system-routes.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ ready: false });
  t.app.post("/test/change", { schema: { hide: true } }, async () => ({ changed: true }));
  await t.app.ready();
});

afterAll(async () => {
  await t?.close();
});

async function csrfToken(): Promise<string> {
  const res = await t.app.inject({ method: "GET", url: "/api/v1/session/csrf" });
  expect(res.statusCode).toBe(200);
  const cookie = res.cookies.find((c) => c.name === "custos_csrf");
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
  expect(res.json().token).toBe(cookie?.value);
  return res.json().token as string;
}

describe("CSRF for cookie sessions", () => {
  it("SEC-8: an unsafe request with a session cookie and no token is refused with 403", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/change",
      headers: { cookie: "custos_session=s1", origin: "http://custos.test" },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: "forbidden", details: { reason: "csrf_failed" } });
    expect(res.json().error.message).toContain("/api/v1/session/csrf");
  });

  it("SEC-8: a token that does not match the cookie is refused", async () => {
    const token = await csrfToken();
    const res = await t.app.inject({
      method: "DELETE",
      url: "/test/change",
      headers: {
        cookie: `custos_session=s1; custos_csrf=${token}`,
        "x-csrf-token": `${token.slice(1)}x`,
        origin: "http://custos.test",
      },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.details.reason).toBe("csrf_failed");
  });

  it("SEC-8: a matching token from the same origin passes (PUBLIC_URL or the Host)", async () => {
    const token = await csrfToken();
    const viaPublicUrl = await t.app.inject({
      method: "POST",
      url: "/test/change",
      headers: {
        cookie: `custos_session=s1; custos_csrf=${token}`,
        "x-csrf-token": token,
        origin: "http://custos.test",
      },
    });
    expect(viaPublicUrl.statusCode).toBe(200);
    expect(viaPublicUrl.json()).toEqual({ changed: true });
    const viaHost = await t.app.inject({
      method: "POST",
      url: "/test/change",
      headers: {
        host: "127.0.0.1:8787",
        cookie: `custos_session=s1; custos_csrf=${token}`,
        "x-csrf-token": token,
        referer: "http://127.0.0.1:8787/center/settings",
      },
    });
    expect(viaHost.statusCode).toBe(200);
  });

  it("SEC-8: a cross-origin request is refused even with a valid token, and so is one with no origin", async () => {
    const token = await csrfToken();
    const headers = { cookie: `custos_session=s1; custos_csrf=${token}`, "x-csrf-token": token };
    const cross = await t.app.inject({
      method: "POST",
      url: "/test/change",
      headers: { ...headers, origin: "https://evil.example" },
    });
    expect(cross.statusCode).toBe(403);
    expect(cross.json().error.details.reason).toBe("csrf_failed");
    const none = await t.app.inject({ method: "POST", url: "/test/change", headers });
    expect(none.statusCode).toBe(403);
  });

  it("requests without the session cookie, and safe methods, are not subject to CSRF checks", async () => {
    const noSession = await t.app.inject({
      method: "POST",
      url: "/test/change",
      headers: { origin: "https://evil.example" },
    });
    expect(noSession.statusCode).toBe(200);
    const safe = await t.app.inject({
      method: "GET",
      url: "/api/v1/policy/versions",
      headers: { cookie: "custos_session=s1" },
    });
    expect(safe.statusCode).toBe(200);
  });
});

describe("security headers, health and metrics", () => {
  it("SEC-8: responses carry a strict CSP, HSTS, nosniff and a request id", async () => {
    const page = await t.app.inject({ method: "GET", url: "/healthz" });
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const api = await t.app.inject({ method: "GET", url: "/api/v1/policy/versions" });
    // An API answer may run, load or frame nothing, and is never stored by a cache.
    expect(api.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(api.headers["cache-control"]).toBe("no-store");
    for (const res of [page, api]) {
      expect(res.headers["strict-transport-security"]).toMatch(/max-age=31536000; includeSubDomains/);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      // This process's random prefix, then a counter: every exchange has its own id.
      expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
    }
    expect(page.headers["x-request-id"]).not.toBe(api.headers["x-request-id"]);
  });

  it("/healthz reports the database and the manifest version", async () => {
    const res = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: "ok",
      database: "up",
      manifest: { version: t.manifest.manifest.version, hash: t.manifest.hash },
    });
  });

  it("/metrics exposes default metrics and request durations by route and status", async () => {
    await t.app.inject({ method: "GET", url: "/api/v1/policy/versions" });
    const res = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toContain("custos_process_cpu_seconds_total");
    expect(res.body).toMatch(
      /custos_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/policy\/versions",status_code="200"\} \d+/,
    );
  });
});

describe("rate limiting and a database outage", () => {
  it("SEC-8: past the limit a client gets 429 in the error model with retry-after", async () => {
    const limited = await buildTestApp({ env: { RATE_LIMIT_MAX: "3" }, deps: { startWorker: false } });
    try {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof limited.app.inject>> | undefined;
      for (let i = 0; i < 4; i++) {
        last = await limited.app.inject({ method: "GET", url: "/api/v1/policy/versions" });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last?.headers["retry-after"])).toBeGreaterThan(0);
      const { error } = last?.json() ?? {};
      expect(error.code).toBe("rate_limited");
      expect(error.message).toMatch(/Wait \d+ s/);
      expect(error.requestId).toBeTruthy();
      // Health checks are not limited.
      expect((await limited.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("/healthz answers 503 when the database is down", async () => {
    const down = await buildTestApp({ deps: { startWorker: false } });
    await down.database.close();
    try {
      const res = await down.app.inject({ method: "GET", url: "/healthz" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: "unavailable", database: "down" });
    } finally {
      await down.app.close();
    }
  });
});

describe("web app", () => {
  it("serves index.html for the center and console, immutable assets, and redirects / to /center", async () => {
    const dist = await mkdtemp(path.join(tmpdir(), "custos-web-"));
    await mkdir(path.join(dist, "assets"));
    await writeFile(
      path.join(dist, "index.html"),
      '<!doctype html><script type="module" src="/assets/app-1.js"></script>',
    );
    await writeFile(path.join(dist, "assets", "app-1.js"), "console.log(1)");
    const web = await buildTestApp({ deps: { webDistDir: dist, startWorker: false } });
    try {
      for (const url of ["/center", "/center/policy/privacy-policy", "/console", "/console/outbox"]) {
        const res = await web.app.inject({ method: "GET", url });
        expect(res.statusCode, url).toBe(200);
        expect(res.body).toContain("/assets/app-1.js");
      }
      const asset = await web.app.inject({ method: "GET", url: "/assets/app-1.js" });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers["cache-control"]).toContain("immutable");
      const missing = await web.app.inject({ method: "GET", url: "/assets/nope.js" });
      expect(missing.statusCode).toBe(404);
      const root = await web.app.inject({ method: "GET", url: "/" });
      expect(root.statusCode).toBe(302);
      expect(root.headers.location).toBe("/center");
    } finally {
      await web.close();
      await rm(dist, { recursive: true, force: true });
    }
  });

  it("without a build, the web paths explain how to build it", async () => {
    const res = await t.app.inject({ method: "GET", url: "/center" });
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toContain("npm run build:web");
  });
});

describe("health check ping sharing", () => {
  it("concurrent checks share one ping and reuse the answer for the TTL", async () => {
    let pings = 0;
    let t = 0;
    const check = sharedPing(
      async () => {
        pings++;
      },
      1000,
      () => t,
    );
    expect(await Promise.all([check(), check(), check()])).toEqual([true, true, true]);
    expect(pings).toBe(1);
    t = 999;
    await check();
    expect(pings).toBe(1);
    t = 1000;
    await check();
    expect(pings).toBe(2);
  });

  it("a failing ping reports down", async () => {
    const check = sharedPing(async () => Promise.reject(new Error("down")), 1000);
    expect(await check()).toBe(false);
  });
});
