import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConsentReportPoint } from "../src/consent/consent-report-routes.ts";
import { buildStaffTestApp, type StaffTestApp, type StaffUser } from "./staff-helpers.ts";

/**
 * The console's consent report: rates per purpose over time, computed from the consent ledger,
 * aggregates only (no subject ids), for staff with `report.read` (CON-1, CON-5, SEC-3).
 */

type Point = ConsentReportPoint;
type Report = {
  from: string;
  to: string;
  bucket: string;
  buckets: string[];
  purposes: { purposeId: string; name: string; consent: string | null; series: Point[] }[];
};

let t: StaffTestApp;
let officer: StaffUser;
const subjects = Array.from({ length: 5 }, () => randomUUID());
const [s1, s2, s3, s4, s5] = subjects as [string, string, string, string, string];

beforeAll(async () => {
  t = await buildStaffTestApp();
  const { consent } = t.app.custos;
  const version = t.manifest.manifest.version;
  const at = async (iso: string, subjectId: string, purposeId: string | null, state: string) => {
    t.clock.set(new Date(iso));
    await consent.record(subjectId, {
      ...(purposeId ? { purposeId } : { policy: true }),
      state: state as "given" | "refused" | "withdrawn",
      noticeVersion: version,
      language: "en",
      method: "app",
    });
  };
  // Wednesday 28 May 2025: three people asked for location; one refused, then changed their mind.
  await at("2025-05-28T09:00:00Z", s1, "location-services", "given");
  await at("2025-05-28T10:00:00Z", s2, "location-services", "refused");
  await at("2025-05-28T11:00:00Z", s3, "location-services", "refused");
  await at("2025-05-28T12:00:00Z", s3, "location-services", "given");
  await at("2025-05-28T13:00:00Z", s4, null, "given"); // the policy is not a purpose of the report
  // Thursday: a withdrawal (one step, CON-5) and a survey consent.
  await at("2025-05-29T08:00:00Z", s1, "location-services", "withdrawn");
  await at("2025-05-29T09:00:00Z", s4, "surveys", "given");
  // Sunday 1 June: a refusal; Monday 2 June starts a new week.
  await at("2025-06-01T23:59:00Z", s5, "personalised-ads", "refused");
  await at("2025-06-02T00:01:00Z", s5, "personalised-ads", "given");
  t.clock.set(new Date("2025-06-02T08:00:00Z"));
  officer = await t.signIn(await t.createStaff("privacy-officer"));
});
afterAll(async () => {
  await t?.close();
});

const report = async (user: StaffUser | undefined, query: string) =>
  t.call(user, "GET", `/api/v1/staff/reports/consent${query}`);

const point = (r: Report, purposeId: string, bucket: string) =>
  r.purposes.find((p) => p.purposeId === purposeId)?.series.find((x) => x.bucket === bucket);

describe("consent report (CON-1, CON-5, SEC-3)", () => {
  it("CON-1, CON-5: counts given, refused and withdrawn per purpose and day, and the given-rate among those asked", async () => {
    const res = await report(officer, "?from=2025-05-27&to=2025-06-01&bucket=day&lang=en");
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json() as Report;
    expect(r).toMatchObject({ from: "2025-05-27", to: "2025-06-01", bucket: "day" });
    expect(r.buckets).toEqual([
      "2025-05-27",
      "2025-05-28",
      "2025-05-29",
      "2025-05-30",
      "2025-05-31",
      "2025-06-01",
    ]);
    // Every consent-based purpose of the manifest, and nothing else (no policy, no no-consent basis).
    const consentBased = t.manifest.manifest.purposes.filter((p) => p.consent !== "none");
    expect(r.purposes.map((p) => p.purposeId)).toEqual(consentBased.map((p) => p.id));
    expect(r.purposes.every((p) => p.series.length === r.buckets.length)).toBe(true);
    expect(r.purposes.find((p) => p.purposeId === "location-services")).toMatchObject({
      name: "Location-based services",
      consent: "separate",
    });

    expect(point(r, "location-services", "2025-05-28")).toEqual({
      bucket: "2025-05-28",
      given: 2,
      refused: 2,
      withdrawn: 0,
      asked: 3,
      gave: 2,
      givenRate: 0.6667,
    });
    expect(point(r, "location-services", "2025-05-29")).toMatchObject({
      withdrawn: 1,
      asked: 0,
      givenRate: null,
    });
    expect(point(r, "location-services", "2025-05-27")).toMatchObject({ given: 0, givenRate: null });
    expect(point(r, "surveys", "2025-05-29")).toMatchObject({ given: 1, asked: 1, givenRate: 1 });
    // 23:59 UTC on the last day is inside the range; 00:01 the next day is not.
    expect(point(r, "personalised-ads", "2025-06-01")).toMatchObject({ refused: 1, given: 0, givenRate: 0 });
    const total = r.purposes
      .flatMap((p) => p.series)
      .reduce((n, x) => n + x.given + x.refused + x.withdrawn, 0);
    expect(total).toBe(7);
    // Aggregates only: no subject id anywhere in the answer.
    for (const id of subjects) expect(res.body).not.toContain(id);
  });

  it("CON-1: weekly buckets start on Monday (ISO weeks) and names follow the language", async () => {
    const res = await report(officer, "?from=2025-05-28&to=2025-06-02&bucket=week&lang=zh-CN");
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json() as Report;
    expect(r.buckets).toEqual(["2025-05-26", "2025-06-02"]);
    expect(r.purposes.find((p) => p.purposeId === "location-services")?.name).toBe("基于位置的服务");
    expect(point(r, "location-services", "2025-05-26")).toEqual({
      bucket: "2025-05-26",
      given: 2,
      refused: 2,
      withdrawn: 1,
      asked: 3,
      gave: 2,
      givenRate: 0.6667,
    });
    // s5 refused on Sunday and gave on Monday: one answer in each week.
    expect(point(r, "personalised-ads", "2025-05-26")).toMatchObject({ asked: 1, gave: 0, givenRate: 0 });
    expect(point(r, "personalised-ads", "2025-06-02")).toMatchObject({ asked: 1, gave: 1, givenRate: 1 });
  });

  it("SEC-3: only staff with report.read see it; bad ranges are refused with a clear message", async () => {
    expect((await report(undefined, "")).statusCode).toBe(401);
    const agent = await t.signIn(await t.createStaff("support-agent"));
    const forbidden = await report(agent, "");
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.message).toContain("report.read");
    const admin = await t.signIn(await t.createStaff("admin"));
    const byDefault = await report(admin, "");
    expect(byDefault.statusCode, byDefault.body).toBe(200);
    expect((byDefault.json() as Report).buckets).toHaveLength(30);
    expect((byDefault.json() as Report).to).toBe("2025-06-02");

    const reversed = await report(officer, "?from=2025-06-01&to=2025-05-01");
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.message).toContain("after it ends");
    const tooLong = await report(officer, "?from=2023-01-01&to=2025-06-01&bucket=day");
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toContain("group by week");
    const badBucket = await report(officer, "?bucket=month");
    expect(badBucket.statusCode).toBe(400);
    const badDate = await report(officer, "?from=yesterday");
    expect(badDate.statusCode).toBe(400);
  });
});
