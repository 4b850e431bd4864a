import { STAFF_ROLES } from "@custos/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEMO_STAFF,
  type DemoSummary,
  formatDemoStaff,
  formatDemoSummary,
  seedDemo,
  seedDemoStaff,
} from "../src/demo/demo-data.ts";
import { buildStaffTestApp, type StaffTestApp } from "./staff-helpers.ts";

/**
 * The demo (`custos start --demo`): players, and one staff member per role, trained and enrolled in
 * TOTP, whose generated sign-in details are returned once for the terminal and never logged.
 */
describe("demo data", () => {
  let t: StaffTestApp;
  let summary: DemoSummary;

  beforeAll(async () => {
    t = await buildStaffTestApp();
    summary = await seedDemo({ ...t.app.custos, db: t.database.db, manifest: t.manifest.manifest });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("ACC-5, SEC-8: creates one staff member per role with a generated password, a TOTP secret and training on record", async () => {
    expect(summary.staff.map((s) => s.role).sort()).toEqual([...STAFF_ROLES].sort());
    expect(new Set(summary.staff.map((s) => s.password)).size).toBe(DEMO_STAFF.length);
    for (const s of summary.staff) {
      expect(s.password.length).toBeGreaterThanOrEqual(20);
      expect(s.totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    }
    const members = (await t.call(undefined, "GET", "/api/v1/staff/members")).statusCode;
    expect(members).toBe(401);

    // Each signs in with the printed password and a code from the printed secret: already enrolled
    // (no secret is offered again), no forced password change, and eligible for grants.
    for (const s of summary.staff) {
      const first = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
        email: s.email,
        password: s.password,
      });
      expect(first.statusCode, s.role).toBe(200);
      expect(first.json()).toEqual({ next: "code" });
      const user = await t.signIn({
        id: "",
        email: s.email,
        role: s.role,
        password: s.password,
        secret: s.totpSecret,
      });
      const me = (await t.call(user, "GET", "/api/v1/staff/me")).json();
      expect(me.staff).toMatchObject({
        role: s.role,
        displayName: s.displayName,
        mfaEnrolled: true,
        mustChangePassword: false,
        status: "active",
      });
      expect(me.staff.training).toMatchObject({ eligible: true, reason: "ok" });
    }
  });

  it("ACC-5: a support agent from the demo can request access at once (training recorded), and the privacy officer approve it", async () => {
    const agent = summary.staff.find((s) => s.role === "support-agent");
    const officer = summary.staff.find((s) => s.role === "privacy-officer");
    if (!agent || !officer) throw new Error("demo staff missing");
    const a = await t.signIn({
      id: "",
      email: agent.email,
      role: agent.role,
      password: agent.password,
      secret: agent.totpSecret,
    });
    const o = await t.signIn({
      id: "",
      email: officer.email,
      role: officer.role,
      password: officer.password,
      secret: officer.totpSecret,
    });
    const subjectId = summary.subjects[0]?.subjectId;
    const requested = await t.call(a, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId,
      categories: ["registration"],
      purpose: "customer-service",
      justification: "demo ticket",
      durationMinutes: 60,
    });
    expect(requested.statusCode).toBe(201);
    const approved = await t.call(o, "POST", `/api/v1/staff/grants/${requested.json().grant.id}/approve`);
    expect(approved.statusCode).toBe(200);
  });

  it("SEC-6: the sign-in details are printed for the terminal, labelled demo only, and never logged", () => {
    const text = formatDemoStaff(summary.staff, "http://127.0.0.1:8787/console/sign-in");
    expect(text).toMatch(/^DEMO STAFF ACCOUNTS \(demo only; shown once, not logged;/);
    expect(text).toContain("http://127.0.0.1:8787/console/sign-in");
    for (const s of summary.staff) {
      const row = text.split("\n").find((l) => l.includes(s.email));
      expect(row, s.role).toBeDefined();
      expect(row).toContain(s.role);
      expect(row).toContain(s.password);
      expect(row).toContain(s.totpSecret);
    }
    expect(formatDemoSummary(summary)).not.toContain(summary.staff[0]?.password);
    const logs = t.logs.join("\n");
    for (const s of summary.staff) {
      expect(logs).not.toContain(s.password);
      expect(logs).not.toContain(s.totpSecret);
      expect(logs).not.toContain(s.email);
    }
    expect(formatDemoStaff([])).toBe("");
  });

  it("ACC-5: creating the demo staff again keeps the existing accounts and returns no new details", async () => {
    expect(await seedDemoStaff({ ...t.app.custos, db: t.database.db }, t.clock)).toEqual([]);
    const members = await t.service.list();
    expect(members.filter((m) => DEMO_STAFF.some((d) => d.displayName === m.displayName))).toHaveLength(
      DEMO_STAFF.length,
    );
  });
});
