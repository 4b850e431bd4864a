import { decide, type SubjectConsentState } from "@custos/core";
import { parseManifest } from "@custos/manifest";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type CustosClient, CustosHttpError, CustosStaleError, createCustosClient } from "./client.ts";
import { newSubjectId, startTestServer, TEST_SERVICE_KEY, type TestServer } from "./test-server.ts";

/**
 * The SDK against a real Custos server over HTTP (port 0, real database): propagation, decisions
 * equal to the server's, reconnect and resync, staleness and HTTP fallback, reports, new manifest.
 */

let server: TestServer;
const clients: CustosClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  // Every client of a test stops with it: later tests see only their own streams.
  for (const c of clients.splice(0)) await c.close();
});
afterAll(async () => {
  await server?.close();
});

/** Drops every open connection of the server (streams included), as a proxy or network fault would. */
async function dropConnections() {
  server.app.server.closeAllConnections();
  // Let this process's own HTTP client notice its pooled sockets closed.
  await new Promise((r) => setTimeout(r, 20));
}

/** Waits until `decide` answers (it throws while the SDK resynchronises) and `check` holds. */
const decidesSo = (check: () => boolean) => () => {
  try {
    return check();
  } catch (error) {
    if (error instanceof CustosStaleError) return false;
    throw error;
  }
};

function client(options: Partial<Parameters<typeof createCustosClient>[0]> = {}) {
  const c = createCustosClient({
    baseUrl: server.baseUrl,
    serviceKey: TEST_SERVICE_KEY,
    heartbeatMs: 1000,
    maxStalenessMs: 5000,
    reconnectInitialMs: 50,
    reconnectMaxMs: 200,
    reportIntervalMs: 60_000,
    ...options,
  });
  clients.push(c);
  return c;
}

async function until(check: () => boolean, timeoutMs = 5000, what = "condition"): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - start;
}

/** The server's current stream position: an SDK that reached it has every change so far. */
const serverPosition = () => {
  const feed = server.app.custos.consentChanges;
  return `${feed.epoch}-${feed.seq}`;
};
const caughtUp = (c: CustosClient) =>
  until(() => c.status().lastEventId === serverPosition(), 5000, "catch-up");

const switchOff = (subjectId: string, kind: "setting" | "marketing" | "permission", id: string) =>
  server.app.custos.consent.recordSwitch(subjectId, {
    kind,
    id,
    state: "withdrawn",
    language: "en",
    method: "app",
  });

describe("SDK: in-process decisions fed by the change stream", () => {
  it("CON-5 SDK: a withdrawal reaches a connected SDK in under a second", async () => {
    const subject = newSubjectId();
    await server.consent(subject, { purposeId: "location-services", state: "given" });
    const c = client();
    await c.start();
    expect(c.decide(subject, "location-services", ["location"])).toMatchObject({
      allow: true,
      reason: "consent-given",
    });
    // The subject withdraws through the HTTP API; the clock runs until the SDK denies.
    const started = performance.now();
    await server.consent(subject, { purposeId: "location-services", state: "withdrawn" });
    await until(() => !c.decide(subject, "location-services", ["location"]).allow, 1000, "the withdrawal");
    const propagationMs = performance.now() - started;
    console.info(`CON-5 SDK propagation: ${propagationMs.toFixed(1)} ms (HTTP withdrawal to SDK denial)`);
    expect(c.decide(subject, "location-services", ["location"])).toMatchObject({
      allow: false,
      reason: "consent-withdrawn",
    });
    expect(propagationMs).toBeLessThan(1000);
  });

  it("MAN-5 CON-1 CON-8 CON-9 CON-10: SDK decisions equal core decide() for a matrix of subjects, purposes, categories and channels", async () => {
    const manifest = server.manifest.manifest;
    const policy = (s: string) => server.consent(s, { policy: true, state: "given" });
    const give = (s: string, purposeId: string) => server.consent(s, { purposeId, state: "given" });
    const subjects: string[] = [];
    const setups: ((s: string) => Promise<unknown>)[] = [
      async () => {}, // no consent state at all
      (s) => policy(s),
      async (s) => {
        await policy(s);
        for (const p of [
          "location-services",
          "personalised-content",
          "personalised-ads",
          "children-services",
        ])
          await give(s, p);
      },
      async (s) => {
        await policy(s);
        await give(s, "personalised-ads");
        await give(s, "location-services");
        await switchOff(s, "setting", "personalised-ads");
        await server.consent(s, { purposeId: "location-services", state: "withdrawn" });
      },
      async (s) => {
        await policy(s);
        await give(s, "location-services");
        await switchOff(s, "permission", "microphone");
        await switchOff(s, "permission", "location");
        await switchOff(s, "permission", "storage");
      },
      async (s) => {
        await policy(s);
        await switchOff(s, "marketing", "email");
        await switchOff(s, "marketing", "sms");
      },
      async (s) => {
        await server.consent(s, { policy: true, state: "refused" });
        await server.consent(s, { purposeId: "surveys", state: "refused" });
      },
      async (s) => {
        await policy(s);
        await give(s, "personalised-content");
        await switchOff(s, "setting", "personalised-content");
        await switchOff(s, "permission", "phone");
        await server.consent(s, { purposeId: "voice-interaction", state: "withdrawn" });
      },
    ];
    // Half the subjects exist before the SDK starts (snapshot), half arrive through the stream.
    const before = setups.slice(0, 4);
    const after = setups.slice(4);
    for (const setup of before) {
      const s = newSubjectId();
      subjects.push(s);
      await setup(s);
    }
    const c = client();
    await c.start();
    for (const setup of after) {
      const s = newSubjectId();
      subjects.push(s);
      await setup(s);
    }
    await caughtUp(c);

    const states = await server.app.custos.consent.statesOf(subjects);
    const declared = manifest.categories.map((x) => x.id);
    let compared = 0;
    const check = (s: string, purposeId: string, categories: string[], channel?: string) => {
      const expected = decide(manifest, states.get(s) as SubjectConsentState, {
        purposeId,
        categories,
        channel,
      });
      const options = channel === undefined ? undefined : { channel };
      const actual = c.decide(s, purposeId, categories, options);
      expect(actual, `${s} ${purposeId} [${categories}] ${channel ?? ""}`).toEqual(expected);
      // The handles answer with the very same shared decision.
      expect(c.purpose(purposeId).decide(s, categories, options)).toBe(actual);
      expect(c.purpose(purposeId).categories(categories).decide(s, options)).toBe(actual);
      compared++;
    };
    for (const s of subjects) {
      check(s, "data-resale", []);
      for (const p of manifest.purposes) {
        const outside = declared.find((x) => !p.categories.includes(x)) as string;
        const sets = [
          [],
          ...p.categories.map((x) => [x]),
          [...p.categories],
          [outside],
          ["dna"],
          [p.categories[0] as string, "dna"],
        ];
        for (const categories of sets) check(s, p.id, categories);
        for (const channel of [...manifest.marketingChannels.map((x) => x.id), "fax"])
          check(s, p.id, [...p.categories], channel);
      }
      // Subject ids in upper case find the same entry (PostgreSQL uuids are case-insensitive).
      const upper = s.toUpperCase();
      expect(c.decide(upper, "location-services", ["location"])).toEqual(
        decide(manifest, states.get(s), { purposeId: "location-services", categories: ["location"] }),
      );
    }
    expect(compared).toBeGreaterThan(subjects.length * manifest.purposes.length * 5);
    // The matrix exercised every reason the SDK can give.
    const reasons = new Set<string>();
    for (const s of subjects)
      for (const p of manifest.purposes)
        for (const channel of [undefined, "email", "sms"])
          reasons.add(c.decide(s, p.id, [...p.categories], channel ? { channel } : undefined).reason);
    expect([...reasons].sort()).toEqual(
      expect.arrayContaining([
        "basis",
        "consent-given",
        "consent-missing",
        "consent-withdrawn",
        "setting-off",
        "permission-off",
        "unsubscribed",
      ]),
    );
  });

  it("reconnects after the server drops the stream and replays the missed change from Last-Event-ID", async () => {
    const subject = newSubjectId();
    await server.consent(subject, { purposeId: "surveys", state: "given" });
    const c = client({ reconnectInitialMs: 400, reconnectMaxMs: 400 });
    await c.start();
    expect(c.decide(subject, "surveys", ["survey"]).allow).toBe(true);
    const before = c.status();
    await dropConnections();
    await server.consent(subject, { purposeId: "surveys", state: "withdrawn" });
    await until(
      decidesSo(() => c.decide(subject, "surveys", ["survey"]).reason === "consent-withdrawn"),
      3000,
      "replay",
    );
    const after = c.status();
    expect(after.connects).toBeGreaterThan(before.connects);
    expect(after.reloads).toBe(before.reloads); // replayed, not reloaded
    expect(after.lastEventId).toBe(serverPosition());
  });

  it("reloads the snapshot when the server answers reset (its replay ring no longer reaches back)", async () => {
    const subject = newSubjectId();
    const c = client({ reconnectInitialMs: 400, reconnectMaxMs: 400 });
    await c.start();
    const before = c.status();
    await dropConnections();
    // More changes than the ring keeps, before the SDK is back.
    const feed = server.app.custos.consentChanges;
    for (let i = 0; i <= 20_000; i++) feed.publish([newSubjectId()]);
    await server.consent(subject, { purposeId: "share-codes", state: "given" });
    await until(() => c.status().reloads > before.reloads && !c.isStale, 5000, "a reload");
    expect(c.decide(subject, "share-codes", []).reason).toBe("consent-given");
    await caughtUp(c);
  });

  it("resyncs after a server restart (new epoch) and keeps receiving changes", async () => {
    const subject = newSubjectId();
    const c = client();
    await c.start();
    const before = c.status();
    await server.restart();
    await server.consent(subject, { purposeId: "push-notifications", state: "given" });
    await until(
      decidesSo(() => c.decide(subject, "push-notifications", []).allow),
      5000,
      "the change after restart",
    );
    expect(c.status().reloads).toBeGreaterThan(before.reloads);
    await server.consent(subject, { purposeId: "push-notifications", state: "withdrawn" });
    await until(() => !c.decide(subject, "push-notifications", []).allow, 1000, "a live change");
  });

  it("says how old its data is; when stale, decide throws and decideAsync asks the server over HTTP", async () => {
    let partitioned = false;
    // A network fault between SDK and server: the stream cannot connect, plain requests can.
    const faulty: typeof fetch = (input, init) =>
      partitioned && String(input).includes("/decisions/stream")
        ? Promise.reject(new TypeError("simulated network partition"))
        : fetch(input, init);
    const subject = newSubjectId();
    await server.consent(subject, { purposeId: "surveys", state: "given" });
    const strict = client({ fetch: faulty, heartbeatMs: 250, maxStalenessMs: 600 });
    const lenient = client({
      fetch: faulty,
      heartbeatMs: 250,
      maxStalenessMs: 600,
      whenStale: "serve-stale",
    });
    // Handles made before start() work once started.
    const strictSurveys = strict.purpose("surveys");
    const strictSurveysSurvey = strictSurveys.categories(["survey"]);
    const lenientSurveys = lenient.purpose("surveys");
    const lenientSurveysSurvey = lenientSurveys.categories(["survey"]);
    await strict.start();
    await lenient.start();
    expect(strictSurveys.decide(subject, ["survey"])).toBe(strict.decide(subject, "surveys", ["survey"]));
    expect(strictSurveysSurvey.decide(subject).allow).toBe(true);
    expect(strict.isStale).toBe(false);
    expect(strict.ageMs).toBeLessThan(600);
    await new Promise((r) => setTimeout(r, 400));
    expect(strict.ageMs).toBeLessThan(400); // heartbeats keep it fresh

    partitioned = true;
    await dropConnections();
    await until(() => strict.isStale && lenient.isStale, 3000, "staleness");
    expect(strict.ageMs).toBeGreaterThan(600);
    // decide() reads a staleness flag kept by a timer (no clock read per call): it follows shortly.
    const throwsStale = () => {
      try {
        strict.decide(subject, "surveys", ["survey"]);
        return false;
      } catch (error) {
        return error instanceof CustosStaleError;
      }
    };
    await until(throwsStale, 1000, "decide to throw");
    expect(() => strict.decide(subject, "surveys", ["survey"])).toThrow(CustosStaleError);
    expect(lenient.decide(subject, "surveys", ["survey"]).allow).toBe(true); // answered from stale data
    // The handles check staleness exactly as decide does.
    expect(() => strictSurveys.decide(subject, ["survey"])).toThrow(CustosStaleError);
    expect(() => strictSurveysSurvey.decide(subject)).toThrow(CustosStaleError);
    expect(() => strict.purpose("not-declared").decide(subject)).toThrow(CustosStaleError);
    expect(lenientSurveys.decide(subject, ["survey"])).toBe(lenient.decide(subject, "surveys", ["survey"]));
    expect(lenientSurveysSurvey.decide(subject).allow).toBe(true);

    await server.consent(subject, { purposeId: "surveys", state: "withdrawn" });
    expect(await strict.decideAsync(subject, "surveys", ["survey"])).toEqual({
      allow: false,
      reason: "consent-withdrawn",
      basis: "consent",
      sensitive: false,
    });
    partitioned = false;
    await until(() => !strict.isStale, 5000, "fresh again");
    expect(strict.decide(subject, "surveys", ["survey"]).reason).toBe("consent-withdrawn");
    await until(
      decidesSo(() => strictSurveysSurvey.decide(subject).reason === "consent-withdrawn"),
      1000,
      "the handles to answer again",
    );
    expect(strictSurveys.decide(subject, ["survey"])).toBe(strict.decide(subject, "surveys", ["survey"]));
    expect((await strict.decideAsync(subject, "surveys", ["survey"])).reason).toBe("consent-withdrawn");
  });

  it("MAN-5: reports its decisions: denials and sensitive ones one by one, other allows as counts", async () => {
    const subject = newSubjectId();
    await server.consent(subject, { policy: true, state: "given" });
    const c = client();
    await c.start();
    await caughtUp(c);
    const delivery = c.purpose("delivery");
    for (let i = 0; i < 3; i++) c.decide(subject, "delivery", ["delivery"]);
    delivery.decide(subject, ["delivery"]); // counted alike through a handle
    delivery.categories(["delivery"]).decide(subject);
    c.decide(subject, "location-services", ["location"]); // denied, sensitive
    c.purpose("real-name-authentication").decide(subject, ["real-name"]); // allowed, sensitive
    c.purpose("data-resale").categories(["device"]).decide(subject); // undeclared
    await c.flushReports();
    const rows = (
      await sql<{ outcome: string; purpose: string; reason: string; actor_id: string; via: string | null }>`
        select outcome, purpose, reason, actor_id, details->>'via' as via from audit_events
        where subject_id = ${subject} and action = 'decide' order by id`.execute(server.database.db)
    ).rows;
    expect(rows).toEqual([
      {
        outcome: "denied",
        purpose: "location-services",
        reason: "consent-missing",
        actor_id: "sdk-test",
        via: "sdk",
      },
      {
        outcome: "allowed",
        purpose: "real-name-authentication",
        reason: "basis",
        actor_id: "sdk-test",
        via: "sdk",
      },
      {
        outcome: "denied",
        purpose: "data-resale",
        reason: "undeclared-purpose",
        actor_id: "sdk-test",
        via: "sdk",
      },
    ]);
    const counts = await sql<{ n: number }>`
      select coalesce(sum(count), 0)::int as n from audit_counts
      where service = 'sdk-test' and purpose = 'delivery' and category = 'delivery'`.execute(
      server.database.db,
    );
    expect(counts.rows[0]?.n).toBeGreaterThanOrEqual(5);
    // close() sends what is left.
    expect(c.decide(subject, "children-services", []).allow).toBe(false);
    await c.close();
    const last = await sql<{ n: number }>`
      select count(*)::int as n from audit_events
      where subject_id = ${subject} and purpose = 'children-services' and action = 'decide'`.execute(
      server.database.db,
    );
    expect(last.rows[0]?.n).toBe(1);
  });

  it("start() fails with the server's reason on a wrong service key", async () => {
    const c = createCustosClient({
      baseUrl: server.baseUrl,
      serviceKey: "not-the-right-key-0123456789",
      startTimeoutMs: 5000,
    });
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CustosHttpError);
    expect((error as CustosHttpError).status).toBe(401);
    expect(() => c.decide(newSubjectId(), "surveys")).toThrow(/start\(\)/);
    expect(() => c.purpose("surveys").decide(newSubjectId())).toThrow(/start\(\)/);
    expect(() => c.purpose("surveys").categories(["survey"]).decide(newSubjectId())).toThrow(/start\(\)/);
  });

  it("CON-13: a new manifest (schema hash) reloads schema and snapshot; consents to a changed purpose count as invalidated", async () => {
    const subject = newSubjectId();
    await server.consent(subject, { purposeId: "surveys", state: "given" });
    const c = client();
    await c.start();
    const oldHash = c.status().schemaHash;
    expect(c.decide(subject, "surveys", ["survey"]).allow).toBe(true);
    // Handles made on the old schema, used on both.
    const surveys = c.purpose("surveys");
    const surveysWithDevice = surveys.categories(["survey", "device"]);
    expect(surveys.decide(subject, ["survey", "device"]).reason).toBe("category-not-in-purpose");
    expect(surveysWithDevice.decide(subject).reason).toBe("category-not-in-purpose");

    const raw = parse(server.manifest.source);
    raw.version = "2099-01-01";
    raw.purposes.find((p: { id: string }) => p.id === "surveys").categories.push("device");
    const next = parseManifest(stringify(raw), "changed.yaml");
    await server.restart({ manifest: next });
    await until(() => c.status().schemaHash !== oldHash && !c.isStale, 5000, "the new schema");
    expect(c.status().manifestVersion).toBe("2099-01-01");
    const state = (await server.app.custos.consent.statesOf([subject])).get(subject);
    const expected = decide(next.manifest, state, { purposeId: "surveys", categories: ["survey", "device"] });
    expect(expected).toMatchObject({ allow: false, reason: "consent-invalidated" });
    expect(c.decide(subject, "surveys", ["survey", "device"])).toEqual(expected);
    // The handles follow the new table.
    expect(surveys.decide(subject, ["survey", "device"])).toBe(
      c.decide(subject, "surveys", ["survey", "device"]),
    );
    expect(surveysWithDevice.decide(subject)).toEqual(expected);
  });
});
