import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DecisionBatch, DecisionItem } from "../src/consent/consent-routes.ts";
import {
  decisionFastPathStats,
  isUuid,
  plainDecisionBatch,
  plainDecisionItem,
} from "../src/consent/decision-fast-path.ts";
import { hashServiceKey, SERVICE_KEY_HEADER } from "../src/consent/service-auth.ts";
import { SERVICE_KEY } from "./consent-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

/**
 * The single-decision fast path answers exactly as the Fastify route does: each request goes once
 * over a real socket (through the fast path) and once through `app.inject` (Fastify only), and the
 * two answers must match: status, body, and every header but the per-exchange ones.
 */

const serviceKeys = JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]);
const json = { "content-type": "application/json", [SERVICE_KEY_HEADER]: SERVICE_KEY };
/** Differ by exchange: the date, the request id (and so an error body's length), the rate-limit count, the connection. */
const PER_EXCHANGE = new Set([
  "content-length",
  "date",
  "x-request-id",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "connection",
  "keep-alive",
]);

type Answer = { status: number; body: unknown; headers: Record<string, string> };

function comparable(status: number, headers: Record<string, string>, text: string): Answer {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: compare the text
  }
  const error = (body as { error?: { requestId?: string } }).error;
  if (error?.requestId) error.requestId = "(request id)";
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!PER_EXCHANGE.has(k)) kept[k] = v;
  return { status, body, headers: kept };
}

describe("decision fast path (issue 4, HTTP decisions)", () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await buildTestApp({ env: { CUSTOS_SERVICE_KEYS: serviceKeys } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function viaSocket(
    headers: Record<string, string>,
    body: string,
    path = "/api/v1/decisions",
  ): Promise<Answer> {
    const res = await fetch(`${base}${path}`, { method: "POST", headers, body });
    return comparable(res.status, Object.fromEntries(res.headers), await res.text());
  }
  async function viaFastify(
    headers: Record<string, string>,
    body: string,
    path = "/api/v1/decisions",
  ): Promise<Answer> {
    const res = await t.app.inject({ method: "POST", url: path, headers, payload: body });
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = String(v);
    return comparable(res.statusCode, h, res.body);
  }

  const subject = randomUUID();
  const item = (purposeId: string, categories: string[] = []) => ({
    subjectId: randomUUID(),
    purposeId,
    categories,
  });
  const cases: {
    name: string;
    headers?: Record<string, string>;
    body: string;
    fast: boolean;
    path?: string;
  }[] = [
    {
      name: "a batch mixing allows, denials, a sensitive allow and undeclared ids",
      path: "/api/v1/decisions/batch",
      body: JSON.stringify({
        items: [
          item("service-operation", ["device"]),
          item("surveys", ["survey"]),
          item("real-name-authentication", ["real-name"]),
          item("data-resale"),
          item("order-payment", ["dna"]),
          { ...item("delivery", ["delivery"]), subjectId: subject },
        ],
      }),
      fast: true,
    },
    {
      name: "a batch of 1,000 (the most)",
      path: "/api/v1/decisions/batch",
      body: JSON.stringify({ items: Array.from({ length: 1000 }, () => item("delivery", ["delivery"])) }),
      fast: true,
    },
    {
      name: "a batch of 1,001 (one too many)",
      path: "/api/v1/decisions/batch",
      body: JSON.stringify({ items: Array.from({ length: 1001 }, () => item("delivery")) }),
      fast: false,
    },
    {
      name: "an empty batch",
      path: "/api/v1/decisions/batch",
      body: JSON.stringify({ items: [] }),
      fast: false,
    },
    {
      name: "a batch with one bad item",
      path: "/api/v1/decisions/batch",
      body: JSON.stringify({ items: [item("delivery"), { subjectId: "x", purposeId: "delivery" }] }),
      fast: false,
    },
    {
      name: "a batch with another field",
      path: "/api/v1/decisions/batch",
      body: JSON.stringify({ items: [item("delivery")], all: true }),
      fast: false,
    },
    {
      name: "an allowed decision (MAN-5)",
      body: JSON.stringify({ subjectId: subject, purposeId: "service-operation", categories: ["device"] }),
      fast: true,
    },
    {
      name: "a denial without consent (CON-1)",
      body: JSON.stringify({ subjectId: subject, purposeId: "surveys", categories: ["survey"] }),
      fast: true,
    },
    {
      name: "a sensitive allow on a legal basis (CON-14)",
      body: JSON.stringify({
        subjectId: subject,
        purposeId: "real-name-authentication",
        categories: ["real-name"],
      }),
      fast: true,
    },
    {
      name: "an undeclared purpose, listing the valid ones (MAN-5)",
      body: JSON.stringify({ subjectId: subject, purposeId: "data-resale" }),
      fast: true,
    },
    {
      name: "an undeclared category (MAN-5)",
      body: JSON.stringify({ subjectId: subject, purposeId: "order-payment", categories: ["dna"] }),
      fast: true,
    },
    {
      name: "a marketing channel",
      body: JSON.stringify({ subjectId: subject, purposeId: "marketing", categories: [], channel: "sms" }),
      fast: true,
    },
    {
      name: "an upper-case subject id and a charset in the content type",
      headers: { ...json, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({
        subjectId: subject.toUpperCase(),
        purposeId: "delivery",
        categories: ["delivery"],
      }),
      fast: true,
    },
    {
      name: "a malformed subject id",
      body: JSON.stringify({ subjectId: "not-a-uuid", purposeId: "delivery" }),
      fast: false,
    },
    {
      name: "an unknown field",
      body: JSON.stringify({ subjectId: subject, purposeId: "delivery", extra: 1 }),
      fast: false,
    },
    {
      name: "a prototype key",
      body: `{"subjectId":"${subject}","purposeId":"delivery","__proto__":{"x":1}}`,
      fast: false,
    },
    {
      name: "too many categories",
      body: JSON.stringify({
        subjectId: subject,
        purposeId: "delivery",
        categories: Array(51).fill("device"),
      }),
      fast: false,
    },
    {
      name: "an unknown channel",
      body: JSON.stringify({ subjectId: subject, purposeId: "delivery", channel: "fax" }),
      fast: false,
    },
    { name: "a body that is not JSON", body: "{subjectId:", fast: false },
    { name: "a JSON array", body: "[]", fast: false },
    {
      name: "no service key",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ subjectId: subject, purposeId: "delivery" }),
      fast: false,
    },
    {
      name: "a wrong service key",
      headers: { ...json, [SERVICE_KEY_HEADER]: "not-the-key-0123456789abcdef" },
      body: JSON.stringify({ subjectId: subject, purposeId: "delivery" }),
      fast: false,
    },
    {
      name: "another content type",
      headers: { ...json, "content-type": "text/plain" },
      body: JSON.stringify({ subjectId: subject, purposeId: "delivery" }),
      fast: false,
    },
  ];

  for (const c of cases)
    it(`answers ${c.name} as the route does${c.fast ? ", on the fast path" : ", through Fastify"}`, async () => {
      const headers = c.headers ?? json;
      const before = decisionFastPathStats(t.app).answered;
      const socket = await viaSocket(headers, c.body, c.path);
      expect(decisionFastPathStats(t.app).answered - before).toBe(c.fast ? 1 : 0);
      const fastify = await viaFastify(headers, c.body, c.path);
      expect(socket).toEqual(fastify);
      // Security headers on either path: a service's set with a valid key, else the full API set.
      expect(socket.headers["cache-control"]).toBe("no-store");
      expect(socket.headers["content-security-policy"] === undefined).toBe(
        headers[SERVICE_KEY_HEADER] === SERVICE_KEY,
      );
    });

  it("SEC-8: a service's answers carry the headers that act on any client; without a valid key, the full API set", async () => {
    const body = JSON.stringify(item("service-operation", ["device"]));
    const answer = await fetch(`${base}/api/v1/decisions`, { method: "POST", headers: json, body });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    expect(answer.headers.get("cache-control")).toBe("no-store");
    // Document and no-cors protections: no such load can carry a service key (ADR 0012).
    for (const name of [
      "content-security-policy",
      "x-frame-options",
      "cross-origin-resource-policy",
      "referrer-policy",
    ])
      expect(answer.headers.get(name)).toBeNull();
    // Anyone else (a browser loading the URL, a wrong key) gets the 401 with every API header.
    for (const headers of [
      { "content-type": "application/json" },
      { ...json, [SERVICE_KEY_HEADER]: "not-the-key-0123456789abcdef" },
    ]) {
      const refused = await fetch(`${base}/api/v1/decisions`, { method: "POST", headers, body });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-security-policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(refused.headers.get("x-frame-options")).toBe("DENY");
      expect(refused.headers.get("cross-origin-resource-policy")).toBe("same-origin");
      expect(refused.headers.get("referrer-policy")).toBe("no-referrer");
      expect(refused.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("SEC-4: a denial answered on the fast path is audited under the request id it answered with", async () => {
    const subjectId = randomUUID();
    const res = await fetch(`${base}/api/v1/decisions`, {
      method: "POST",
      headers: { ...json, "x-request-id": "fast-path-denial-1" },
      body: JSON.stringify({ subjectId, purposeId: "surveys", categories: ["survey"] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("fast-path-denial-1");
    await t.app.custos.consent.flushDenials();
    const rows = await sql<{ request_id: string; outcome: string; actor_id: string }>`
      select request_id, outcome, actor_id from audit_events
      where action = 'decide' and subject_id = ${subjectId}`.execute(t.database.db);
    expect(rows.rows).toEqual([
      { request_id: "fast-path-denial-1", outcome: "denied", actor_id: "game-server" },
    ]);
  });

  it("SEC-4: a flush of denials waits for one already under way (the timer's), so nothing is missing after it", async () => {
    const subjectId = randomUUID();
    const res = await fetch(`${base}/api/v1/decisions`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ subjectId, purposeId: "surveys", categories: ["survey"] }),
    });
    expect(((await res.json()) as { allow: boolean }).allow).toBe(false);
    // The first flush takes the queued denial and writes it; the second finds the queue empty.
    const first = t.app.custos.consent.flushDenials();
    expect(await t.app.custos.consent.flushDenials()).toBe(0);
    const rows = await sql<{ n: number }>`
      select count(*)::int as n from audit_events where action = 'decide' and subject_id = ${subjectId}`.execute(
      t.database.db,
    );
    expect(rows.rows[0]?.n).toBe(1);
    expect(await first).toBe(1);
  });

  it("SEC-4: a sensitive allow answered on the fast path is in the audit log when its answer arrives", async () => {
    const subjectId = randomUUID();
    const send = () =>
      fetch(`${base}/api/v1/decisions`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ subjectId, purposeId: "real-name-authentication", categories: ["real-name"] }),
      });
    // The first asks the database (uncached subject), the second is answered from the cache.
    for (let i = 1; i <= 2; i++) {
      const before = decisionFastPathStats(t.app).answered;
      expect(((await (await send()).json()) as { allow: boolean }).allow).toBe(true);
      expect(decisionFastPathStats(t.app).answered).toBe(before + 1);
      const rows = await sql<{ n: number }>`
        select count(*)::int as n from audit_events
        where action = 'decide' and outcome = 'allowed' and subject_id = ${subjectId}`.execute(t.database.db);
      expect(rows.rows[0]?.n).toBe(i);
    }
  });

  it("/metrics counts the requests of both paths in one histogram series, with their buckets", async () => {
    const series = async () => {
      const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
      const labels = 'method="POST",route="/api/v1/decisions",status_code="200"';
      const read = (name: string, extra = "") => {
        const line = text.split("\n").find((l) => l.startsWith(`${name}{${extra}${labels}}`));
        return line === undefined ? 0 : Number(line.split(" ")[1]);
      };
      return {
        count: read("custos_http_request_duration_seconds_count"),
        inf: read("custos_http_request_duration_seconds_bucket", 'le="+Inf",'),
        slowest: read("custos_http_request_duration_seconds_bucket", 'le="5",'),
        sum: read("custos_http_request_duration_seconds_sum"),
      };
    };
    const before = await series();
    const body = JSON.stringify(item("delivery", ["delivery"]));
    const fast = decisionFastPathStats(t.app).answered;
    for (let i = 0; i < 3; i++) expect((await viaSocket(json, body)).status).toBe(200);
    expect(decisionFastPathStats(t.app).answered - fast).toBe(3);
    expect((await viaFastify(json, body)).status).toBe(200);
    const after = await series();
    expect(after.count - before.count).toBe(4);
    expect(after.inf - before.inf).toBe(4);
    expect(after.slowest - before.slowest).toBe(4);
    expect(after.sum).toBeGreaterThan(before.sum);
    // Read again with nothing new: the pending observations were added once, not twice.
    expect(await series()).toEqual(after);
  });

  it("MAN-5: its subject id check accepts exactly the ids zod's uuid schema accepts", () => {
    const id = randomUUID();
    const ids = [
      id,
      id.toUpperCase(),
      "00000000-0000-0000-0000-000000000000",
      "ffffffff-ffff-ffff-ffff-ffffffffffff",
      "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
      "00000000-0000-0000-0000-000000000001",
      `${id} `,
      id.slice(1),
      id.replace(/-/g, ""),
      `${id.slice(0, 8)}_${id.slice(9)}`,
      `${id.slice(0, 10)}g${id.slice(11)}`,
      `${id.slice(0, 10)}é${id.slice(11)}`,
    ];
    for (const version of "0123456789abcdefABCDEF")
      for (const variant of "0123456789abcdefABCDEF") {
        ids.push(`${id.slice(0, 14)}${version}${id.slice(15, 19)}${variant}${id.slice(20)}`);
      }
    const uuid = z.uuid();
    for (const s of ids) expect(isUuid(s), s).toBe(uuid.safeParse(s).success);
    // The random id and its upper case, nil, max, and versions 1-8 with variants 8, 9, a, b in either case.
    expect(ids.filter(isUuid)).toHaveLength(4 + 8 * 6);
  });

  it("the fast path never accepts a body the route's schema refuses, and reads the same item", () => {
    const id = randomUUID();
    const bodies: unknown[] = [
      { subjectId: id, purposeId: "delivery" },
      { subjectId: id, purposeId: "delivery", categories: [] },
      { subjectId: id, purposeId: "delivery", categories: ["a", "b-c"], channel: "email" },
      { subjectId: id.toUpperCase(), purposeId: "x" },
      { subjectId: "00000000-0000-0000-0000-000000000000", purposeId: "a" },
      { subjectId: id, purposeId: "A" },
      { subjectId: id, purposeId: "-a" },
      { subjectId: id, purposeId: "a".repeat(64) },
      { subjectId: id, purposeId: "a".repeat(65) },
      { subjectId: id, purposeId: "" },
      { subjectId: id, purposeId: "delivery", categories: ["ok", 3] },
      { subjectId: id, purposeId: "delivery", categories: "device" },
      { subjectId: id, purposeId: "delivery", categories: null },
      { subjectId: id, purposeId: "delivery", channel: null },
      { subjectId: id, purposeId: "delivery", channel: "push" },
      { subjectId: `${id} `, purposeId: "delivery" },
      { subjectId: id.replace(/-/g, ""), purposeId: "delivery" },
      { subjectId: id, purposeId: "delivery", categories: Array(50).fill("device") },
      { subjectId: id, purposeId: "delivery", categories: Array(51).fill("device") },
      { purposeId: "delivery" },
      { subjectId: id },
      null,
      "text",
      [],
    ];
    for (const body of bodies) {
      const fast = plainDecisionItem(body);
      const zod = DecisionItem.safeParse(body);
      if (fast) expect(zod.success ? zod.data : zod.error, JSON.stringify(body)).toEqual(fast);
    }
    // And it does take the ordinary cases (the rest are the route's to refuse or correct).
    expect(bodies.filter((b) => plainDecisionItem(b) !== undefined)).toHaveLength(8);
    // Batches: every item as above, 1 to 1,000 of them, nothing else in the body.
    const good = bodies.filter((b) => plainDecisionItem(b) !== undefined);
    const batches: unknown[] = [
      { items: good },
      { items: bodies },
      { items: [] },
      { items: Array(1000).fill(good[0]) },
      { items: Array(1001).fill(good[0]) },
      { items: good, more: 1 },
      { items: good[0] },
      { list: good },
      [good],
      null,
    ];
    for (const body of batches) {
      const fast = plainDecisionBatch(body);
      const zod = DecisionBatch.safeParse(body);
      if (fast) expect(zod.success ? zod.data.items : zod.error).toEqual(fast);
    }
    expect(batches.filter((b) => plainDecisionBatch(b) !== undefined)).toHaveLength(2);
  });
});

describe("decision fast path and the service rate limit (SEC-8)", () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await buildTestApp({
      env: { CUSTOS_SERVICE_KEYS: serviceKeys, CUSTOS_SERVICE_RATE_LIMIT_MAX: "10" },
    });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("SEC-8: both paths count against one limit per service, show the count from 80% of it, and over it the route's 429 answers", async () => {
    const body = JSON.stringify({ subjectId: randomUUID(), purposeId: "delivery", categories: ["delivery"] });
    const fast = () => fetch(`${base}/api/v1/decisions`, { method: "POST", headers: json, body });
    const injected = () =>
      t.app.inject({ method: "POST", url: "/api/v1/decisions", headers: json, payload: body });
    const rate = (headers: { get(name: string): string | null }) =>
      ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"].map((name) => headers.get(name));
    const fromInject = (r: Awaited<ReturnType<typeof injected>>) => ({
      get: (name: string) => (r.headers[name] as string | undefined) ?? null,
    });
    // Requests 1–7 of 10: below 80% of the quota, no rate-limit headers on either path.
    for (let i = 0; i < 3; i++) {
      const res = await fast();
      expect(res.status).toBe(200);
      expect(rate(res.headers)).toEqual([null, null, null]);
    }
    const quiet = await injected();
    expect(quiet.statusCode).toBe(200);
    expect(rate(fromInject(quiet))).toEqual([null, null, null]);
    for (let i = 0; i < 3; i++) expect(rate((await fast()).headers)).toEqual([null, null, null]);
    // From the 8th on, both paths carry them.
    const eighth = await fast();
    expect(eighth.status).toBe(200);
    const [limit, remaining, reset] = rate(eighth.headers);
    expect([limit, remaining]).toEqual(["10", "2"]);
    expect(Number(reset)).toBeGreaterThan(0);
    expect(Number(reset)).toBeLessThanOrEqual(60);
    const ninth = await injected();
    expect(ninth.statusCode).toBe(200);
    expect(rate(fromInject(ninth)).slice(0, 2)).toEqual(["10", "1"]);
    const tenth = await fast();
    expect(tenth.status).toBe(200);
    expect(rate(tenth.headers).slice(0, 2)).toEqual(["10", "0"]);
    const limited = await fast();
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toContain(
      "from this service (limit 10 per minute)",
    );
    expect(rate(limited.headers).slice(0, 2)).toEqual(["10", "0"]);
    expect(limited.headers.get("retry-after")).not.toBeNull();
    expect(decisionFastPathStats(t.app).answered).toBeGreaterThanOrEqual(8);
  });

  it("SEC-8: a request without a valid key is counted per client and always shows the count", async () => {
    const res = await fetch(`${base}/api/v1/decisions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ subjectId: randomUUID(), purposeId: "delivery", categories: ["delivery"] }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-ratelimit-limit")).toBe(String(t.config.rateLimitMax));
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(t.config.rateLimitMax);
  });
});
