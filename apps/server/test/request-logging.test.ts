import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogFile } from "../../../test/run-log.ts";
import { createLogger, lazyChildLogger } from "../src/logging.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

function capture(level: "info" | "warn") {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  // Copied to the run's log file too, for the SEC-6 scan of the whole run (test/global-setup.ts).
  return { lines, logger: createLogger({ level, destination: stream, file: runLogFile() }) };
}

describe("per-request logger (SEC-6)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("SEC-6: request lines at info carry the request id, route and status, never the query string", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/healthz?who=someone",
      headers: { "x-request-id": "perf-test-req-0001" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-request-id"]).toBe("perf-test-req-0001");
    const mine = t.logs.map((l) => JSON.parse(l)).filter((l) => l.reqId === "perf-test-req-0001");
    expect(mine.map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
    expect(mine[0].req).toEqual({ method: "GET", url: "/healthz", route: "/healthz" });
    expect(mine[1].res).toEqual({ statusCode: 200 });
  });

  it("SEC-8: helmet's headers, computed once, are on every page, the API gets its own set; a route's own CSP still wins", async () => {
    const expected = {
      "content-security-policy":
        "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "origin-agent-cluster": "?1",
      "referrer-policy": "same-origin",
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "x-content-type-options": "nosniff",
      "x-dns-prefetch-control": "off",
      "x-download-options": "noopen",
      "x-frame-options": "SAMEORIGIN",
      "x-permitted-cross-domain-policies": "none",
      "x-xss-protection": "0",
    };
    for (const url of ["/healthz", "/center/", "/no/such/route"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.headers).toMatchObject(expected);
    }
    // The JSON API gets the smaller set meant for API answers, on answers and errors alike.
    const api = {
      "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
      "cross-origin-resource-policy": "same-origin",
      "referrer-policy": "no-referrer",
      "strict-transport-security": "max-age=31536000; includeSubDomains",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
    };
    for (const url of ["/api/v1/policy/versions", "/api/v1/no/such/route"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.headers).toMatchObject(api);
      for (const name of ["cross-origin-opener-policy", "origin-agent-cluster", "x-dns-prefetch-control"])
        expect(res.headers[name]).toBeUndefined();
    }
    const docs = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(docs.statusCode).toBe(200);
    expect(String(docs.headers["content-security-policy"])).not.toBe(expected["content-security-policy"]);
  });

  it("SEC-6: the request logger is made only when a line is written, and then carries the bindings", () => {
    const { lines, logger } = capture("warn");
    const log = lazyChildLogger(logger, { reqId: "r-1" }, {});
    log.info({ email: "a@example.com" }, "not written at warn");
    log.debug("nor this");
    expect(lines).toEqual([]);
    expect(log.level).toBe("warn");
    expect(log.isLevelEnabled("info")).toBe(false);
    expect(log.isLevelEnabled("error")).toBe(true);
    log.warn({ email: "a@example.com" }, "written");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: "r-1", msg: "written", email: "[redacted]", level: 40 });
    expect(log.bindings()).toMatchObject({ reqId: "r-1" });
    log.child({ part: "x" }).error("nested");
    expect(lines[1]).toMatchObject({ reqId: "r-1", part: "x", msg: "nested", level: 50 });
    // Raising the verbosity of one request's logger affects that logger only.
    log.level = "info";
    log.info("now written");
    expect(lines[2]).toMatchObject({ reqId: "r-1", msg: "now written" });
    expect(logger.level).toBe("warn");
    // Route-level options (a per-route level) make a real child at once.
    const routed = lazyChildLogger(logger, { reqId: "r-2" }, { level: "debug" });
    routed.debug("routed");
    expect(lines[3]).toMatchObject({ reqId: "r-2", msg: "routed" });
  });
});
