import { type LoadedManifest, parseManifest } from "@custos/manifest";
import { createConsentLedger } from "@custos/store";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { createApp } from "../src/app.ts";
import { bearer, register } from "./accounts-helpers.ts";
import { buildConsentApp, decideOne, postConsent } from "./consent-helpers.ts";
import { logCapture, type TestApp } from "./helpers.ts";

/**
 * CON-13 wired to publishing: a server started with a manifest whose purposes changed (same
 * database) invalidates the consents bound to the old definitions, publishes the affected subjects
 * on the change feed and asks again; a change of names only invalidates nothing.
 */

let t: TestApp;
let clock: Awaited<ReturnType<typeof buildConsentApp>>["clock"];
const started: FastifyInstance[] = [];

beforeAll(async () => {
  ({ t, clock } = await buildConsentApp());
});
afterAll(async () => {
  for (const app of started) await app.close().catch(() => undefined);
  await t?.close();
});

/** The default manifest with a new version and some purposes edited (parsed and checked like a file). */
function edited(
  base: LoadedManifest,
  version: string,
  edit: Record<string, { categories?: string[]; name?: { en: string; "zh-CN": string } }>,
): LoadedManifest {
  const doc = YAML.parseDocument(base.source);
  doc.set("version", version);
  const purposes = doc.get("purposes") as YAML.YAMLSeq<YAML.YAMLMap>;
  for (const item of purposes.items) {
    const change = edit[String(item.get("id"))];
    if (change?.categories) item.set("categories", doc.createNode(change.categories));
    if (change?.name) item.set("name", doc.createNode(change.name));
  }
  return parseManifest(doc.toString(), base.file);
}

/** Another server process on the same database, started with `manifest` (the earlier one stopped). */
async function restartWith(previous: FastifyInstance, manifest: LoadedManifest) {
  await previous.close();
  const { lines, logger } = logCapture();
  const app = await createApp({
    config: t.config,
    database: t.database,
    manifest,
    vault: t.vault,
    logger,
    clock,
    webDistDir: "/nonexistent/custos-web-dist",
    startWorker: false,
  });
  started.push(app);
  await app.ready();
  return { app, logs: lines };
}

type View = {
  noticeVersion: string;
  policy: { state: string; askAgain: boolean };
  purposes: { purposeId: string; state: string; askAgain: boolean; allowed: boolean }[];
};

async function myConsents(app: FastifyInstance, token: string): Promise<View> {
  const res = await app.inject({ method: "GET", url: "/api/v1/me/consents?lang=en", headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as View;
}

describe("invalidation when a changed manifest is published (CON-13)", () => {
  it("CON-13: changed categories invalidate dependent consents on start; decisions deny, the center asks again; a name-only change invalidates nothing", async () => {
    const a = t.manifest;
    const p = await register(t.app, a.manifest.version, {
      contact: `inval.p.${Date.now()}@example.com`,
      username: `inval_p_${Date.now() % 1e6}`,
    });
    const q = await register(t.app, a.manifest.version, {
      contact: `inval.q.${Date.now()}@example.com`,
      username: `inval_q_${Date.now() % 1e6}`,
    });
    const give = (app: FastifyInstance, token: string, noticeVersion: string) =>
      postConsent(app, bearer(token), {
        purposeId: "location-services",
        state: "given",
        noticeVersion,
        language: "en",
        method: "web",
      });
    await give(t.app, p.token, a.manifest.version);
    const location = { subjectId: p.subjectId, purposeId: "location-services", categories: ["location"] };
    expect(await decideOne(t.app, location)).toMatchObject({ allow: true, reason: "consent-given" });

    // Manifest B: location-services (separate) and voice-interaction (covered by the policy) use
    // more categories. Published by starting the server with it.
    const b = edited(a, "2099-01-01", {
      "location-services": { categories: ["location", "device", "account-profile"] },
      "voice-interaction": { categories: ["user-content", "device"] },
    });
    const onB = await restartWith(t.app, b);
    const ledger = createConsentLedger({ db: t.database.db });
    const events = await ledger.events(p.subjectId);
    expect(events.map((e) => `${e.targetId}:${e.state}`)).toEqual([
      "privacy-policy:given",
      "location-services:given",
      "location-services:invalidated",
      "privacy-policy:invalidated",
    ]);
    for (const e of events.slice(2))
      expect(e).toMatchObject({ actor: "system", method: "system", noticeVersion: "2099-01-01" });
    expect(await ledger.verify(p.subjectId)).toEqual({ ok: true, events: 4 });
    // q gave only the policy: its acceptance covered voice-interaction, so it is asked again too.
    expect((await ledger.events(q.subjectId)).map((e) => `${e.targetId}:${e.state}`)).toEqual([
      "privacy-policy:given",
      "privacy-policy:invalidated",
    ]);
    // The affected subjects went out on the change feed (connected SDKs drop them).
    expect(new Set(onB.app.custos.consentChanges.since(0)?.subjectIds)).toEqual(
      new Set([p.subjectId, q.subjectId]),
    );
    // The log says what happened, with counts and purposes, never subject ids.
    const logLine = onB.logs.find((l) => l.includes("consents bound to changed purposes"));
    expect(logLine).toBeDefined();
    expect(JSON.parse(logLine ?? "{}")).toMatchObject({
      version: "2099-01-01",
      previousVersion: a.manifest.version,
      invalidated: 3,
      subjects: 2,
      targets: ["location-services", "privacy-policy"],
    });
    expect(onB.logs.join("\n")).not.toContain(p.subjectId);

    expect(await decideOne(onB.app, location)).toMatchObject({ allow: false, reason: "consent-invalidated" });
    expect(
      await decideOne(onB.app, { subjectId: q.subjectId, purposeId: "surveys", categories: ["survey"] }),
    ).toMatchObject({ allow: false, reason: "consent-invalidated" });
    const view = await myConsents(onB.app, p.token);
    expect(view.noticeVersion).toBe("2099-01-01");
    expect(view.policy).toMatchObject({ state: "invalidated", askAgain: true });
    expect(view.purposes.find((x) => x.purposeId === "location-services")).toMatchObject({
      state: "invalidated",
      askAgain: true,
      allowed: false,
    });

    // Asked again, the person gives consent to the new definition.
    await give(onB.app, p.token, "2099-01-01");
    expect(await decideOne(onB.app, location)).toMatchObject({ allow: true, reason: "consent-given" });
    const count = (await ledger.events(p.subjectId)).length;

    // Manifest C: only a name changed. Nothing is invalidated, nothing published.
    const c = edited(b, "2099-02-01", {
      "location-services": { name: { en: "Nearby and regional features", "zh-CN": "附近与地区功能" } },
    });
    const onC = await restartWith(onB.app, c);
    expect((await ledger.events(p.subjectId)).length).toBe(count);
    expect(onC.app.custos.consentChanges.seq).toBe(0);
    expect(onC.logs.some((l) => l.includes("consents bound to changed purposes"))).toBe(false);
    expect(await decideOne(onC.app, location)).toMatchObject({ allow: true, reason: "consent-given" });
    expect(
      (await myConsents(onC.app, p.token)).purposes.find((x) => x.purposeId === "location-services"),
    ).toMatchObject({ state: "given", askAgain: false });

    // Rolling back to B makes B current again: consents given under C's identical definitions stay.
    const back = await restartWith(onC.app, b);
    expect((await ledger.events(p.subjectId)).length).toBe(count);
    expect(back.app.custos.consentChanges.seq).toBe(0);
  });
});
