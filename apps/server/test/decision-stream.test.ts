import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { decide } from "@custos/core";
import type { Manifest } from "@custos/manifest";
import { type SseEvent, SseParser, type WireEntry } from "@custos/sdk";
import { createTestDatabase, openDatabase } from "@custos/store";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { maskHex } from "../src/consent/decision-stream-routes.ts";
import { hashServiceKey } from "../src/consent/service-auth.ts";
import { SERVICE_KEY, serviceHeaders } from "./consent-helpers.ts";
import { buildTestApp, logCapture, type TestApp } from "./helpers.ts";

let t: TestApp;
let manifest: Manifest;
let baseUrl: string;

beforeAll(async () => {
  t = await buildTestApp({
    env: {
      CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]),
      RATE_LIMIT_MAX: "100000",
    },
  });
  manifest = t.manifest.manifest;
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
});

/** Records consent through the service (which publishes the change), as the routes do. */
async function consent(
  subjectId: string,
  purposeId: string | "policy",
  state: "given" | "withdrawn" | "refused",
) {
  await t.app.custos.consent.record(subjectId, {
    ...(purposeId === "policy" ? { policy: true } : { purposeId }),
    state,
    noticeVersion: manifest.version,
    language: "en",
    method: "app",
  });
}

async function get<T>(url: string, headers: Record<string, string> = serviceHeaders) {
  const res = await t.app.inject({ method: "GET", url, headers });
  return { status: res.statusCode, body: res.json() as T };
}

type SchemaBody = {
  schemaHash: string;
  manifestVersion: string;
  purposes: { id: string; categories: string[]; setting: string | null }[];
  categories: { id: string; sensitivity: string }[];
  permissions: { id: string; categories: string[] }[];
  marketingChannels: string[];
};
type SnapshotBody = {
  schemaHash: string;
  at: string;
  defaultEntry: WireEntry;
  entries: WireEntry[];
  nextCursor: string | null;
};

const bit = (hex: string | undefined, i: number) =>
  hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(i)) & 1n) === 1n;

/** What the entry says about purpose i with no categories, in decide()'s terms. */
function entryDecision(entry: WireEntry, i: number): { allow: boolean; reason?: string } {
  if (bit(entry.a, i)) return { allow: true };
  for (const [reason, mask] of Object.entries(entry.d ?? {}))
    if (bit(mask, i)) return { allow: false, reason };
  return { allow: false, reason: "consent-missing" };
}

/** An open event stream read with the SDK's parser. */
async function openStream(options: { lastEventId?: string; heartbeatMs?: number; url?: string } = {}) {
  const abort = new AbortController();
  const headers: Record<string, string> = { ...serviceHeaders };
  if (options.lastEventId) headers["last-event-id"] = options.lastEventId;
  const res = await fetch(
    `${options.url ?? baseUrl}/api/v1/decisions/stream?heartbeatMs=${options.heartbeatMs ?? 15000}`,
    {
      headers,
      signal: abort.signal,
    },
  );
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  const parser = new SseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) });
  const reading = (async () => {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  const waitFor = async (check: () => boolean, what: string, ms = 5000) => {
    const start = Date.now();
    while (!check()) {
      if (Date.now() - start > ms)
        throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    res,
    events,
    comments,
    get ended() {
      return ended;
    },
    waitFor,
    async close() {
      abort.abort();
      await reading;
    },
  };
}

describe("decision schema and snapshot (SDK server side)", () => {
  it("MAN-5: the schema lists purposes in manifest order with categories, permissions and channels, for services only", async () => {
    expect((await get("/api/v1/decisions/schema", {})).status).toBe(401);
    const { status, body } = await get<SchemaBody>("/api/v1/decisions/schema");
    expect(status).toBe(200);
    expect(body.manifestVersion).toBe(manifest.version);
    expect(body.schemaHash).toMatch(/^[0-9a-f]{64}$/);
    expect(body.purposes.map((p) => p.id)).toEqual(manifest.purposes.map((p) => p.id));
    expect(body.purposes.find((p) => p.id === "personalised-ads")?.setting).toBe("personalised-ads");
    expect(body.categories.filter((c) => c.sensitivity === "sensitive").map((c) => c.id)).toEqual(
      manifest.categories.filter((c) => c.sensitivity === "sensitive").map((c) => c.id),
    );
    expect(body.permissions.map((p) => p.id)).toEqual(manifest.permissions.map((p) => p.id));
    expect(body.marketingChannels).toEqual(manifest.marketingChannels.map((c) => c.id));
    // Stable: the same manifest gives the same hash.
    expect((await get<SchemaBody>("/api/v1/decisions/schema")).body.schemaHash).toBe(body.schemaHash);
  });

  it("CON-8 CON-9 CON-10: snapshot entries carry decide()'s purpose-level answers, switched-off permissions and unsubscribed channels, paged", async () => {
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const [policyOnly, withdrawn, settingOff, permissionOff, unsubscribed] = ids as [
      string,
      string,
      string,
      string,
      string,
    ];
    for (const id of ids) await consent(id, "policy", "given");
    await consent(withdrawn, "location-services", "given");
    await consent(withdrawn, "location-services", "withdrawn");
    await consent(settingOff, "personalised-ads", "given");
    const svc = t.app.custos.consent;
    await svc.recordSwitch(settingOff, {
      kind: "setting",
      id: "personalised-ads",
      state: "withdrawn",
      language: "en",
      method: "app",
    });
    await svc.recordSwitch(permissionOff, {
      kind: "permission",
      id: "microphone",
      state: "withdrawn",
      language: "en",
      method: "app",
    });
    await svc.recordSwitch(unsubscribed, {
      kind: "marketing",
      id: "email",
      state: "withdrawn",
      language: "en",
      method: "email",
    });

    const entries = new Map<string, WireEntry>();
    let cursor: string | null = null;
    let pages = 0;
    let defaultEntry: WireEntry | undefined;
    do {
      const page: { status: number; body: SnapshotBody } = await get<SnapshotBody>(
        `/api/v1/decisions/snapshot?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.at).toMatch(/^[0-9a-f]+-\d+$/);
      defaultEntry = page.body.defaultEntry;
      for (const e of page.body.entries) entries.set(e.s as string, e);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    const states = await svc.statesOf(ids);
    for (const id of ids) {
      const entry = entries.get(id) as WireEntry;
      expect(entry, id).toBeDefined();
      manifest.purposes.forEach((p, i) => {
        const d = decide(manifest, states.get(id), { purposeId: p.id, categories: [] });
        expect(entryDecision(entry, i), `${id} ${p.id}`).toEqual(
          d.allow ? { allow: true } : { allow: false, reason: d.reason },
        );
      });
    }
    expect(entries.get(withdrawn)?.d?.["consent-withdrawn"]).toBe(
      maskHex([manifest.purposes.findIndex((p) => p.id === "location-services")]),
    );
    expect(entries.get(settingOff)?.d?.["setting-off"]).toBe(
      maskHex([manifest.purposes.findIndex((p) => p.id === "personalised-ads")]),
    );
    expect(entries.get(permissionOff)?.p).toBe(
      maskHex([manifest.permissions.findIndex((p) => p.id === "microphone")]),
    );
    expect(entries.get(unsubscribed)?.m).toBe(
      maskHex([manifest.marketingChannels.findIndex((c) => c.id === "email")]),
    );
    expect(entries.get(policyOnly)?.p).toBeUndefined();
    // The default entry: what decide() says with no state (no-consent bases only).
    const expected = manifest.purposes.flatMap((p, i) =>
      decide(manifest, undefined, { purposeId: p.id, categories: [] }).allow ? [i] : [],
    );
    expect(defaultEntry?.a).toBe(maskHex(expected));
    expect((await get("/api/v1/decisions/snapshot?limit=20000")).status).toBe(400);
  });

  it("masks are hexadecimal bit sets beyond 32 bits", () => {
    expect(maskHex([])).toBe("0");
    expect(maskHex([0, 4])).toBe("11");
    expect(maskHex([31])).toBe("80000000");
    expect(maskHex([32, 0])).toBe("100000001");
    expect(BigInt(`0x${maskHex([3, 40, 63])}`)).toBe((1n << 3n) | (1n << 40n) | (1n << 63n));
  });
});

describe("decision stream (server-sent events)", () => {
  it("CON-5: a committed change is pushed as an event with its entry; heartbeats keep the stream alive", async () => {
    const s = await openStream({ heartbeatMs: 250 });
    try {
      expect(s.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(s.res.headers.get("cache-control")).toMatch(/no-cache/);
      await s.waitFor(() => s.events.some((e) => e.event === "hello"), "hello");
      const hello = JSON.parse(s.events[0]?.data ?? "{}") as {
        epoch: string;
        seq: number;
        schemaHash: string;
      };
      expect(hello.epoch).toBe(t.app.custos.consentChanges.epoch);
      const subject = randomUUID();
      await consent(subject, "location-services", "given");
      await s.waitFor(() => s.events.some((e) => e.event === "change"), "change");
      const change = s.events.find((e) => e.event === "change") as SseEvent;
      expect(change.id).toBe(`${hello.epoch}-${t.app.custos.consentChanges.seq}`);
      const [entry] = (JSON.parse(change.data) as { entries: WireEntry[] }).entries;
      expect(entry?.s).toBe(subject);
      expect(
        entryDecision(
          entry as WireEntry,
          manifest.purposes.findIndex((p) => p.id === "location-services"),
        ),
      ).toEqual({ allow: true });
      await s.waitFor(() => s.comments.length >= 2, "two heartbeats", 3000);
    } finally {
      await s.close();
    }
  });

  it("replays the subjects missed since a Last-Event-ID, and answers reset to an unknown one", async () => {
    const feed = t.app.custos.consentChanges;
    const from = `${feed.epoch}-${feed.seq}`;
    const a = randomUUID();
    const b = randomUUID();
    await consent(a, "surveys", "given");
    await consent(b, "surveys", "refused");
    await consent(a, "surveys", "withdrawn");
    const s = await openStream({ lastEventId: from });
    try {
      await s.waitFor(() => s.events.some((e) => e.event === "change"), "replay");
      const replay = s.events.find((e) => e.event === "change") as SseEvent;
      expect(replay.id).toBe(`${feed.epoch}-${feed.seq}`);
      const entries = (JSON.parse(replay.data) as { entries: WireEntry[] }).entries;
      expect(entries.map((e) => e.s).sort()).toEqual([a, b].sort());
      const surveys = manifest.purposes.findIndex((p) => p.id === "surveys");
      expect(entryDecision(entries.find((e) => e.s === a) as WireEntry, surveys)).toEqual({
        allow: false,
        reason: "consent-withdrawn",
      });
    } finally {
      await s.close();
    }

    for (const unknown of ["0badc0de-1", `${feed.epoch}-${feed.seq + 5}`, "garbage"]) {
      const r = await openStream({ lastEventId: unknown });
      await r.waitFor(() => r.ended, "the stream to end after reset");
      expect(r.events.map((e) => e.event)).toEqual(["hello", "reset"]);
      expect(JSON.parse(r.events[1]?.data ?? "{}")).toMatchObject({ reason: "unknown-event-id" });
    }
  });

  it("a replay point pushed out of the ring (or behind a gap) is answered with reset", async () => {
    const feed = t.app.custos.consentChanges;
    const from = `${feed.epoch}-${feed.seq}`;
    // Fill the replay ring past its bound with changes (no stream is connected, so none is computed).
    for (let i = 0; i <= 20_000; i++) feed.publish([randomUUID()]);
    const r = await openStream({ lastEventId: from });
    await r.waitFor(() => r.ended, "reset");
    expect(r.events.map((e) => e.event)).toEqual(["hello", "reset"]);
    expect(JSON.parse(r.events[1]?.data ?? "{}")).toMatchObject({ reason: "too-far-behind" });

    const recent = `${feed.epoch}-${feed.seq}`;
    const live = await openStream({ lastEventId: recent });
    await live.waitFor(() => live.events.length >= 1, "hello");
    feed.markGap();
    await live.waitFor(() => live.ended, "reset after a gap");
    expect(live.events.map((e) => e.event)).toEqual(["hello", "reset"]);
    expect(JSON.parse(live.events[1]?.data ?? "{}")).toMatchObject({ reason: "gap" });
  });

  it("answers 401 without a service key", async () => {
    const res = await fetch(`${baseUrl}/api/v1/decisions/stream`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });
});

describe("SDK decision reports", () => {
  it("MAN-5: reported denials and sensitive decisions are audited one by one, allows as per-minute counts", async () => {
    const subject = randomUUID();
    const now = new Date().toISOString();
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/decisions/report",
      headers: serviceHeaders,
      payload: {
        counts: [
          { purposeId: "delivery", category: "delivery", minute: now, count: 41 },
          { purposeId: "delivery", category: "delivery", minute: now, count: 1 },
        ],
        decisions: [
          {
            subjectId: subject,
            purposeId: "surveys",
            categories: ["contact"],
            allow: false,
            reason: "consent-missing",
            basis: "consent",
            sensitive: false,
            at: now,
          },
          {
            subjectId: subject,
            purposeId: "real-name-authentication",
            categories: ["real-name"],
            allow: true,
            reason: "basis",
            basis: "legal-obligation",
            sensitive: true,
            at: now,
          },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ recorded: 2, counted: 42 });
    const rows = (
      await sql<{
        outcome: string;
        purpose: string;
        reason: string;
        actor_id: string;
        details: { via?: string };
      }>`
        select outcome, purpose, reason, actor_id, details from audit_events
        where subject_id = ${subject} and action = 'decide' order by id`.execute(t.database.db)
    ).rows;
    expect(rows).toEqual([
      expect.objectContaining({
        outcome: "denied",
        purpose: "surveys",
        reason: "consent-missing",
        actor_id: "game-server",
      }),
      expect.objectContaining({ outcome: "allowed", purpose: "real-name-authentication", reason: "basis" }),
    ]);
    expect(rows[0]?.details.via).toBe("sdk");
    const counts = await sql<{ n: number }>`
      select coalesce(sum(count), 0)::int as n from audit_counts
      where service = 'game-server' and purpose = 'delivery' and category = 'delivery'`.execute(
      t.database.db,
    );
    expect(counts.rows[0]?.n).toBeGreaterThanOrEqual(42);

    const old = new Date(Date.now() - 3 * 24 * 3600_000).toISOString();
    const stale = await t.app.inject({
      method: "POST",
      url: "/api/v1/decisions/report",
      headers: serviceHeaders,
      payload: {
        decisions: [
          {
            subjectId: subject,
            purposeId: "surveys",
            categories: [],
            allow: false,
            reason: "consent-missing",
            basis: "consent",
            sensitive: false,
            at: old,
          },
        ],
      },
    });
    expect(stale.statusCode).toBe(400);
    const unauthenticated = await t.app.inject({
      method: "POST",
      url: "/api/v1/decisions/report",
      payload: {},
    });
    expect(unauthenticated.statusCode).toBe(401);
  });
});

describe("closing and several instances", () => {
  it("app.close() ends open streams instead of waiting for them", async () => {
    const other = await buildTestApp({
      env: {
        CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]),
      },
    });
    await other.app.listen({ port: 0, host: "127.0.0.1" });
    const url = `http://127.0.0.1:${(other.app.server.address() as AddressInfo).port}`;
    const s = await openStream({ url });
    await s.waitFor(() => s.events.length >= 1, "hello");
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await s.waitFor(() => s.ended, "the stream to end");
  });

  it.skipIf(!process.env.DATABASE_URL)(
    "CON-5: on PostgreSQL a change made through one server instance reaches the streams of another (LISTEN/NOTIFY)",
    async () => {
      const database = await createTestDatabase();
      const apps: FastifyInstance[] = [];
      const pools = [database];
      try {
        for (let i = 0; i < 2; i++) {
          const config = loadConfig({
            CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
            PUBLIC_URL: "http://custos.test",
            DATABASE_URL: database.url as string,
            CUSTOS_SERVICE_KEYS: JSON.stringify([
              { name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) },
            ]),
          });
          // Each instance has its own connection pool, as separate processes would.
          const own = i === 0 ? database : await openDatabase({ url: database.url as string, poolSize: 3 });
          if (i > 0) pools.push(own as typeof database);
          const app = await createApp({
            config,
            database: own,
            manifest: t.manifest,
            logger: logCapture().logger,
            webDistDir: "/nonexistent/custos-web-dist",
            startWorker: false,
          });
          await app.listen({ port: 0, host: "127.0.0.1" });
          apps.push(app);
        }
        const [a, b] = apps as [FastifyInstance, FastifyInstance];
        const urlB = `http://127.0.0.1:${(b.server.address() as AddressInfo).port}`;
        const s = await openStream({ url: urlB });
        await s.waitFor(() => s.events.length >= 1, "hello");
        const subject = randomUUID();
        const started = Date.now();
        await a.custos.consent.record(subject, {
          purposeId: "location-services",
          state: "given",
          noticeVersion: manifest.version,
          language: "en",
          method: "app",
        });
        await s.waitFor(
          () => s.events.some((e) => e.event === "change" && e.data.includes(subject)),
          "the change from instance A",
          3000,
        );
        expect(Date.now() - started).toBeLessThan(1000);
        const change = s.events.find((e) => e.event === "change") as SseEvent;
        const [entry] = (JSON.parse(change.data) as { entries: WireEntry[] }).entries;
        const index = manifest.purposes.findIndex((p) => p.id === "location-services");
        expect(entryDecision(entry as WireEntry, index)).toEqual({ allow: true });
        await s.close();
      } finally {
        for (const app of apps) await app.close();
        for (const pool of pools.reverse()) await pool.close();
      }
    },
  );
});
