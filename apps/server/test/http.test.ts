import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildTestApp, type TestApp } from "./helpers.ts";

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ ready: false, env: { CUSTOS_DEV: "1" } });
  // Test-only routes, registered on the real app before it is ready.
  t.app.get("/test/boom", { schema: { hide: true } }, async () => {
    throw new Error("lookup failed for alice@example.com phone 13812345678 at SELECT * FROM secrets");
  });
  t.app.post(
    "/test/echo",
    {
      schema: {
        hide: true,
        body: z.strictObject({ email: z.email().max(200), age: z.number().int().min(0) }),
      },
    },
    async () => ({ ok: true }),
  );
  await t.app.ready();
});

afterAll(async () => {
  await t?.close();
});

describe("OpenAPI", () => {
  it("serves a valid OpenAPI 3.1 document where every operation has a tag, an operationId and a summary", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const spec = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(spec.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(spec);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);

    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.map((o) => o.path)).toEqual(
      expect.arrayContaining(["/api/v1/policy/versions", "/policy/{version}/{file}", "/healthz", "/metrics"]),
    );
    const ids = new Set<string>();
    for (const { path, method, op } of operations) {
      expect(op.tags, `${method} ${path}`).toEqual(expect.arrayContaining([expect.any(String)]));
      expect(typeof op.operationId, `${method} ${path}`).toBe("string");
      expect(typeof op.summary, `${method} ${path}`).toBe("string");
      ids.add(op.operationId as string);
    }
    expect(ids.size).toBe(operations.length);
    expect(Object.keys(spec.paths).some((p) => p.startsWith("/test/"))).toBe(false);
  });

  it("serves interactive docs at /docs", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
  });
});

describe("error model", () => {
  it("SEC-6: a validation error is a 400 naming the field and the expectation", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      payload: { email: "bob@example.com", age: -1 },
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("validation_failed");
    expect(error.details.issues).toEqual([{ field: "body.age", message: expect.stringMatching(/>=\s*0/) }]);
    expect(error.requestId).toBe(res.headers["x-request-id"]);
    expect(res.body).not.toContain("bob@example.com");
  });

  it("SEC-6: malformed JSON is a 400 that does not echo the body", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { "content-type": "application/json" },
      payload: '{"email": "carol@example.com",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("validation_failed");
    expect(res.body).not.toContain("carol");
  });

  it("an unsupported content type is a 415 and an oversized body a 413, in the error model", async () => {
    const media = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { "content-type": "application/x-custom" },
      payload: "x",
    });
    expect(media.statusCode).toBe(415);
    expect(media.json().error.code).toBe("unsupported_media_type");
    const big = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ email: "a@b.co", pad: "x".repeat(1024 * 1024 + 10) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("payload_too_large");
  });

  it("an unknown route is a 404 in the error model", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/nothing-here" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: "not_found", message: expect.stringContaining("/docs"), requestId: expect.any(String) },
    });
  });

  it("SEC-6: an unexpected fault is a bare 500 with the request id; neither body nor log holds the PI", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/test/boom",
      headers: { "x-request-id": "req-boom-0001" },
    });
    expect(res.statusCode).toBe(500);
    expect(res.headers["x-request-id"]).toBe("req-boom-0001");
    const { error } = res.json();
    expect(error).toEqual({ code: "internal", message: expect.any(String), requestId: "req-boom-0001" });
    for (const leak of ["alice", "13812345678", "SELECT", "secrets", "at ", "Error"])
      expect(res.body).not.toContain(leak);

    const lines = t.logs.filter((l) => l.includes("req-boom-0001"));
    expect(lines.some((l) => l.includes("unexpected error"))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain("alice@example.com");
      expect(line).not.toContain("13812345678");
    }
  });

  it("SEC-6: request logs carry the request id and never the query string, cookies or body", async () => {
    await t.app.inject({
      method: "POST",
      url: "/test/echo?email=dave@example.com",
      headers: {
        cookie: "custos_session=secret-session-value",
        "x-request-id": "req-log-0002",
        authorization: "Bearer tkn-123",
      },
      payload: { email: "dave@example.com", age: 3 },
    });
    const lines = t.logs.filter((l) => l.includes("req-log-0002"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain("dave@example.com");
      expect(line).not.toContain("secret-session-value");
      expect(line).not.toContain("tkn-123");
    }
  });
});
