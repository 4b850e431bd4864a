import type { Manifest } from "@custos/manifest";
import { createAuditLedger, createConsentLedger, invalidateChangedConsents } from "@custos/store";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createConsentService } from "../src/consent/consent-service.ts";
import { decideOne, newPlayer, postConsent, serviceHeaders, useConsentApp } from "./consent-helpers.ts";
import type { TestApp } from "./helpers.ts";

let t: TestApp;
let manifest: Manifest;

useConsentApp((app) => {
  t = app.t;
  manifest = t.manifest.manifest;
});

/** The subject's decision audit events, once queued denials are written (within 50 ms anyway). */
async function auditRows(subjectId: string) {
  await t.app.custos.consent.flushDenials();
  return (
    await sql<{
      outcome: string;
      purpose: string;
      reason: string;
      actor_id: string;
      category: string | null;
    }>`
      select outcome, purpose, reason, actor_id, category from audit_events
      where subject_id = ${subjectId} and action = 'decide' order by id`.execute(t.database.db)
  ).rows;
}

describe("decisions (MAN-5, CON-1, CON-6, CON-13, CON-14)", () => {
  it("MAN-5: an undeclared purpose or category is denied, lists the valid ones, and is audited", async () => {
    const p = await newPlayer(t);
    const purpose = await decideOne(t.app, {
      subjectId: p.subjectId,
      purposeId: "data-resale",
      categories: ["device"],
    });
    expect(purpose).toMatchObject({ allow: false, reason: "undeclared-purpose" });
    expect(purpose.validPurposes).toEqual(manifest.purposes.map((x) => x.id));

    const category = await decideOne(t.app, {
      subjectId: p.subjectId,
      purposeId: "order-payment",
      categories: ["dna"],
    });
    expect(category).toMatchObject({ allow: false, reason: "undeclared-category" });
    expect(category.validCategories).toEqual(
      manifest.purposes.find((x) => x.id === "order-payment")?.categories,
    );

    const notInPurpose = await decideOne(t.app, {
      subjectId: p.subjectId,
      purposeId: "order-payment",
      categories: ["location"],
    });
    expect(notInPurpose).toMatchObject({ allow: false, reason: "category-not-in-purpose" });

    expect(await auditRows(p.subjectId)).toEqual([
      expect.objectContaining({
        outcome: "denied",
        purpose: "data-resale",
        reason: "undeclared-purpose",
        actor_id: "game-server",
      }),
      expect.objectContaining({ outcome: "denied", purpose: "order-payment", reason: "undeclared-category" }),
      expect.objectContaining({
        outcome: "denied",
        purpose: "order-payment",
        reason: "category-not-in-purpose",
      }),
    ]);
  });

  it("CON-14: a no-consent legal basis allows without consent, names the basis and is counted", async () => {
    const p = await newPlayer(t);
    for (const purpose of manifest.purposes.filter((x) => x.consent === "none")) {
      const d = await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: purpose.id,
        categories: purpose.categories,
      });
      expect(d, purpose.id).toMatchObject({ allow: true, reason: "basis", basis: purpose.legalBasis });
    }
    // Allowed decisions are counted in memory and written periodically; write them now.
    await t.app.custos.consent.flushDecisionCounts();
    const counts = await sql<{ n: number }>`
      select coalesce(sum(count), 0)::int as n from audit_counts
      where service = 'game-server' and purpose = 'delivery' and category = 'delivery'`.execute(
      t.database.db,
    );
    expect(counts.rows[0]?.n).toBeGreaterThanOrEqual(1);
    // Sensitive categories are audited one by one even when allowed.
    expect(await auditRows(p.subjectId)).toContainEqual(
      expect.objectContaining({ outcome: "allowed", purpose: "real-name-authentication", reason: "basis" }),
    );
  });

  it("CON-1: consent-based processing without a current consent is denied", async () => {
    const p = await newPlayer(t);
    // A separate-consent purpose: the policy accepted at sign-up does not cover it (CON-4).
    expect(
      await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: "location-services",
        categories: ["location"],
      }),
    ).toMatchObject({
      allow: false,
      reason: "consent-missing",
      basis: "consent",
    });
  });

  it("CON-6: refusing every extended purpose never denies a basic-function purpose", async () => {
    const p = await newPlayer(t);
    const version = manifest.version;
    const basic = manifest.purposes.filter((x) => x.function === "basic");
    const before = [];
    // Basic purposes that themselves need consent (children's services) get it; nothing else.
    for (const purpose of basic.filter((x) => x.consent === "separate"))
      await postConsent(t.app, p.headers, {
        purposeId: purpose.id,
        state: "given",
        noticeVersion: version,
        language: "en",
        method: "web",
      });
    for (const purpose of basic)
      before.push(
        await decideOne(t.app, {
          subjectId: p.subjectId,
          purposeId: purpose.id,
          categories: purpose.categories,
        }),
      );
    expect(before.every((d) => d.allow)).toBe(true);

    const extended = manifest.purposes.filter((x) => x.function === "extended");
    expect(extended.length).toBeGreaterThan(5);
    await postConsent(t.app, p.headers, {
      policy: true,
      state: "refused",
      noticeVersion: version,
      language: "en",
      method: "web",
    });
    for (const purpose of extended)
      await postConsent(t.app, p.headers, {
        purposeId: purpose.id,
        state: "refused",
        noticeVersion: version,
        language: "en",
        method: "web",
      });
    for (const [i, purpose] of basic.entries()) {
      const d = await decideOne(t.app, {
        subjectId: p.subjectId,
        purposeId: purpose.id,
        categories: purpose.categories,
      });
      expect(d, purpose.id).toEqual(before[i]);
    }
    for (const purpose of extended)
      expect(
        (await decideOne(t.app, { subjectId: p.subjectId, purposeId: purpose.id })).allow,
        purpose.id,
      ).toBe(false);
  });

  it("CON-1: a batch decides up to 1,000 items; more is refused with a clear message", async () => {
    const p = await newPlayer(t);
    const item = { subjectId: p.subjectId, purposeId: "delivery", categories: ["delivery"] };
    const ok = await t.app.inject({
      method: "POST",
      url: "/api/v1/decisions/batch",
      headers: serviceHeaders,
      payload: { items: Array.from({ length: 1000 }, () => item) },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const decisions = (ok.json() as { decisions: { allow: boolean }[] }).decisions;
    expect(decisions).toHaveLength(1000);
    expect(decisions.every((d) => d.allow)).toBe(true);

    const tooMany = await t.app.inject({
      method: "POST",
      url: "/api/v1/decisions/batch",
      headers: serviceHeaders,
      payload: { items: Array.from({ length: 1001 }, () => item) },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.body).toContain("at most 1000 decisions per batch");

    const noKey = await t.app.inject({ method: "POST", url: "/api/v1/decisions", payload: item });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json().error.message).toContain("x-custos-service-key");
  });

  it("CON-13: a changed purpose invalidates its consents: decisions deny, /me/consents asks again, events appended", async () => {
    const p = await newPlayer(t);
    await postConsent(t.app, p.headers, {
      purposeId: "personalised-content",
      state: "given",
      noticeVersion: manifest.version,
      language: "en",
      method: "web",
    });
    const modified: Manifest = {
      ...manifest,
      version: "2099-01-01",
      purposes: manifest.purposes.map((x) =>
        x.id === "personalised-content" ? { ...x, recipients: [...x.recipients, "sdk-advertising"] } : x,
      ),
    };
    const ledger = createConsentLedger({ db: t.database.db });
    const service = createConsentService({
      db: t.database.db,
      manifest: modified,
      ledger,
      audit: createAuditLedger({ db: t.database.db }),
      clock: { now: () => new Date() },
      publicUrl: "http://custos.test",
    });
    const [decision] = await service.decideMany("game-server", [
      { subjectId: p.subjectId, purposeId: "personalised-content", categories: ["device"] },
    ]);
    expect(decision).toMatchObject({ allow: false, reason: "consent-invalidated" });
    const view = await service.current(p.subjectId, "en");
    expect(view.purposes.find((x) => x.purposeId === "personalised-content")).toMatchObject({
      state: "invalidated",
      askAgain: true,
    });

    await invalidateChangedConsents(t.database.db, modified);
    expect(
      (await ledger.events(p.subjectId))
        .filter((e) => e.targetId === "personalised-content")
        .map((e) => e.state),
    ).toEqual(["given", "invalidated"]);
    // The app still runs the old manifest: for it, the consent is now gone too (asked again).
    const mine = await t.app.inject({ method: "GET", url: "/api/v1/me/consents", headers: p.headers });
    expect(
      (mine.json() as { purposes: { purposeId: string; askAgain: boolean }[] }).purposes.find(
        (x) => x.purposeId === "personalised-content",
      ),
    ).toMatchObject({ askAgain: true });
  });
});
