import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecisionReport } from "../src/consent/decision-report-routes.ts";
import { buildStaffTestApp, type StaffTestApp, type StaffUser } from "./staff-helpers.ts";

/**
 * The console's decision report: what each service asked to use, per purpose and category, and why
 * it was refused, from the audit tables; aggregates only (no subject ids), for staff with
 * `report.read` (MAN-5, CON-1, SEC-3).
 */

let t: StaffTestApp;
let officer: StaffUser;
const subjects = Array.from({ length: 4 }, () => randomUUID());
const [s1, s2, s3, s4] = subjects as [string, string, string, string];

const item = (subjectId: string, purposeId: string, categories: string[] = []) => ({
  subjectId,
  purposeId,
  categories,
});

beforeAll(async () => {
  t = await buildStaffTestApp();
  const { consent } = t.app.custos;
  const version = t.manifest.manifest.version;
  // Wednesday 28 May 2025.
  t.clock.set(new Date("2025-05-28T09:00:00Z"));
  await consent.record(s1, {
    purposeId: "personalised-ads",
    state: "given",
    noticeVersion: version,
    language: "en",
    method: "app",
  });
  await consent.decideMany("game-server", [
    // A contract purpose, three times without a category and once with two.
    item(s1, "account-registration"),
    item(s2, "account-registration"),
    item(s3, "account-registration"),
    item(s1, "account-registration", ["registration", "account-profile"]),
    // A sensitive category on a legal obligation: allowed, audited one by one.
    item(s2, "real-name-authentication", ["real-name"]),
    // Ads: s1 consented; s2 and s3 did not.
    item(s1, "personalised-ads", ["device"]),
    item(s2, "personalised-ads", ["device"]),
    item(s3, "personalised-ads", ["device"]),
    // A purpose the manifest does not declare, and a category the purpose does not.
    item(s4, "sell-contacts"),
    item(s4, "surveys", ["location"]),
  ]);
  await consent.decideMany("feed", [item(s4, "personalised-content", ["device"])]);
  // Sunday 1 June, late, is inside a range to 1 June; Monday 00:01 is not.
  t.clock.set(new Date("2025-06-01T23:59:00Z"));
  await consent.decideMany("feed", [item(s1, "personalised-content", ["device"])]);
  t.clock.set(new Date("2025-06-02T00:01:00Z"));
  await consent.decideMany("feed", [item(s2, "personalised-content", ["device"])]);
  t.clock.set(new Date("2025-06-02T08:00:00Z"));
  officer = await t.signIn(await t.createStaff("privacy-officer"));
});
afterAll(async () => {
  await t?.close();
});

const report = async (user: StaffUser | undefined, query: string) =>
  t.call(user, "GET", `/api/v1/staff/reports/decisions${query}`);

const purposeOf = (r: DecisionReport, service: string, purposeId: string) =>
  r.services.find((s) => s.service === service)?.purposes.find((p) => p.purposeId === purposeId);

describe("decision report (MAN-5, CON-1, SEC-3, GOV-2)", () => {
  it("MAN-5, CON-1: per service and purpose, allowed uses by category, sensitive allows, and denials by reason", async () => {
    const res = await report(officer, "?from=2025-05-27&to=2025-06-01&lang=en");
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json() as DecisionReport;
    expect(r).toMatchObject({ from: "2025-05-27", to: "2025-06-01" });
    expect(r.services.map((s) => s.service)).toEqual(["feed", "game-server"]);
    const game = r.services.find((s) => s.service === "game-server");
    // In the manifest's order, then the undeclared purpose.
    expect(game?.purposes.map((p) => p.purposeId)).toEqual([
      "account-registration",
      "surveys",
      "personalised-ads",
      "real-name-authentication",
      "sell-contacts",
    ]);
    // Counted (not logged one by one): three without a category, one under each of its two.
    expect(purposeOf(r, "game-server", "account-registration")).toEqual({
      purposeId: "account-registration",
      name: expect.any(String),
      declared: true,
      categories: [
        { category: "none", name: "none", count: 3 },
        { category: "account-profile", name: expect.any(String), count: 1 },
        { category: "registration", name: "Registration and login details", count: 1 },
      ],
      allowedUses: 5,
      allowedSensitive: 0,
      denied: 0,
      reasons: [],
    });
    expect(purposeOf(r, "game-server", "real-name-authentication")).toMatchObject({
      allowedUses: 0,
      allowedSensitive: 1,
      denied: 0,
    });
    expect(purposeOf(r, "game-server", "personalised-ads")).toMatchObject({
      name: "Personalised advertising",
      categories: [{ category: "device", name: expect.any(String), count: 1 }],
      allowedUses: 1,
      denied: 2,
      reasons: [{ reason: "consent-missing", count: 2 }],
    });
    expect(purposeOf(r, "game-server", "sell-contacts")).toMatchObject({
      name: "sell-contacts",
      declared: false,
      denied: 1,
      reasons: [{ reason: "undeclared-purpose", count: 1 }],
    });
    expect(purposeOf(r, "game-server", "surveys")?.reasons).toEqual([
      { reason: "category-not-in-purpose", count: 1 },
    ]);
    expect(game).toMatchObject({ allowedUses: 6, allowedSensitive: 1, denied: 4 });
    // 23:59 UTC on the last day is in the range; 00:01 the next day is not.
    expect(purposeOf(r, "feed", "personalised-content")).toMatchObject({
      denied: 2,
      reasons: [{ reason: "consent-missing", count: 2 }],
    });
    // Aggregates only: no subject id anywhere in the answer.
    for (const id of subjects) expect(res.body).not.toContain(id);
  });

  it("CON-1: names follow the language; the default range is the last 30 days, to today", async () => {
    const zh = (await report(officer, "?from=2025-05-28&to=2025-05-28&lang=zh-CN")).json() as DecisionReport;
    expect(purposeOf(zh, "game-server", "personalised-ads")?.name).toBe("个性化广告推荐");
    const byDefault = await report(officer, "");
    expect(byDefault.statusCode, byDefault.body).toBe(200);
    const r = byDefault.json() as DecisionReport;
    expect(r).toMatchObject({ from: "2025-05-04", to: "2025-06-02" });
    // Today's decision (Monday 00:01) is in it.
    expect(purposeOf(r, "feed", "personalised-content")?.denied).toBe(3);
  });

  it("GOV-2: counts decisions made seconds ago: what is still queued in memory is written first", async () => {
    const { consent } = t.app.custos;
    await consent.decideMany("billing", [item(s1, "order-payment", ["orders"]), item(s2, "sell-contacts")]);
    const r = (await report(officer, "?from=2025-06-02&to=2025-06-02")).json() as DecisionReport;
    expect(purposeOf(r, "billing", "order-payment")).toMatchObject({ allowedUses: 1 });
    expect(purposeOf(r, "billing", "sell-contacts")).toMatchObject({ denied: 1 });
  });

  it("SEC-3: only staff with report.read see it; bad ranges are refused with a clear message", async () => {
    expect((await report(undefined, "")).statusCode).toBe(401);
    const agent = await t.signIn(await t.createStaff("support-agent"));
    const forbidden = await report(agent, "");
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.message).toContain("report.read");
    const reversed = await report(officer, "?from=2025-06-01&to=2025-05-01");
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.message).toContain("after it ends");
    const tooLong = await report(officer, "?from=2023-01-01&to=2025-06-01");
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toContain("at most 366");
    expect((await report(officer, "?from=yesterday")).statusCode).toBe(400);
    expect((await report(officer, "?bucket=day")).statusCode).toBe(400);
  });
});
