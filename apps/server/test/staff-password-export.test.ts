import { randomUUID } from "node:crypto";
import { createAuditLedger, createSubjectFieldRepo, createSubjectRepo } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStaffTestApp, type StaffTestApp } from "./staff-helpers.ts";

describe("one-time staff passwords", () => {
  let t: StaffTestApp;
  beforeAll(async () => {
    t = await buildStaffTestApp();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("ACC-5: signing in with a one-time password forces a password change before any other staff route", async () => {
    const admin = await t.createStaff("admin");
    const oneTime = admin.password;
    await t.signIn(admin, { keepOneTimePassword: true });
    const me = await t.call(admin, "GET", "/api/v1/staff/me");
    expect(me.statusCode).toBe(200);
    expect(me.json().staff.mustChangePassword).toBe(true);
    for (const [method, url] of [
      ["GET", "/api/v1/staff/members"],
      ["GET", "/api/v1/staff/grants"],
      ["GET", "/api/v1/audit/events"],
    ] as const) {
      const res = await t.call(admin, method, url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.details.reason).toBe("password_change_required");
    }
    const wrong = await t.call(admin, "POST", "/api/v1/staff/me/password", {
      current: "not-the-password",
      next: "a long own passphrase",
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.details.field).toBe("current");
    const short = await t.call(admin, "POST", "/api/v1/staff/me/password", {
      current: oneTime,
      next: "short",
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.details.field).toBe("next");
    const same = await t.call(admin, "POST", "/api/v1/staff/me/password", {
      current: oneTime,
      next: oneTime,
    });
    expect(same.statusCode).toBe(400);
    const ok = await t.call(admin, "POST", "/api/v1/staff/me/password", {
      current: oneTime,
      next: "correct horse battery staple",
    });
    expect(ok.statusCode).toBe(200);
    expect((await t.call(admin, "GET", "/api/v1/staff/me")).json().staff.mustChangePassword).toBe(false);
    expect((await t.call(admin, "GET", "/api/v1/staff/members")).statusCode).toBe(200);
    // the one-time password no longer signs in; the new one does
    const old = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: admin.email,
      password: oneTime,
    });
    expect(old.statusCode).toBe(401);
    const fresh = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: admin.email,
      password: "correct horse battery staple",
    });
    expect(fresh.statusCode).toBe(200);
  });

  it("ACC-5: a member created by an admin gets a one-time password too; a password the CLI read from stdin is not one-time", async () => {
    const admin = await t.signIn(await t.createStaff("admin"));
    const created = await t.call(admin, "POST", "/api/v1/staff/members", {
      email: `auditor.${randomUUID()}@staff.example`,
      displayName: "Ann Auditor",
      role: "auditor",
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().staff.mustChangePassword).toBe(true);
    const chosen = await t.service.createAdmin({
      email: `chosen.${randomUUID()}@staff.example`,
      displayName: "Chosen",
      password: "a password read from stdin",
      force: true,
    });
    expect(chosen.staff.mustChangePassword).toBe(false);
  });

  it("ACC-5: an admin suspends and reactivates a member; a suspended member cannot sign in", async () => {
    const admin = await t.signIn(await t.createStaff("admin"));
    const agent = await t.signIn(await t.createStaff("support-agent"));
    const suspend = await t.call(admin, "POST", `/api/v1/staff/members/${agent.id}/status`, {
      status: "suspended",
    });
    expect(suspend.json().staff.status).toBe("suspended");
    expect((await t.call(agent, "GET", "/api/v1/staff/grants")).statusCode).toBe(401);
    const refused = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: agent.email,
      password: agent.password,
    });
    expect(refused.statusCode).toBe(403);
    const back = await t.call(admin, "POST", `/api/v1/staff/members/${agent.id}/status`, {
      status: "active",
    });
    expect(back.json().staff.status).toBe("active");
    expect(
      (
        await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
          email: agent.email,
          password: agent.password,
        })
      ).statusCode,
    ).toBe(200);
  });
});

describe("bulk export", () => {
  let t: StaffTestApp;
  beforeAll(async () => {
    t = await buildStaffTestApp();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const subjectWith = async (values: [string, string, string][]) => {
    const subject = await createSubjectRepo(t.database.db).create({ region: "cn" });
    const fields = createSubjectFieldRepo(t.database.db, t.vault);
    for (const [category, field, value] of values)
      await fields.put({ subjectId: subject.subjectId, category, field, keyGroup: "account", value });
    return subject.subjectId;
  };

  it("SEC-3, CHD-8, SEC-2: the privacy officer exports masked data under an approved bulk-export grant; children are never exported; every subject is audited", async () => {
    const po = await t.signIn(await t.createStaff("privacy-officer"));
    const approver = await t.signIn(await t.createStaff("privacy-officer"));
    const agent = await t.signIn(await t.createStaff("support-agent"));
    await t.train(po);
    const adult = await subjectWith([
      ["registration", "phone", "13812341234"],
      ["registration", "email", "wang.wu@example.cn"],
      ["registration", "password", "$argon2id$v=19$secret"],
      ["logs", "ip", "203.0.113.77"],
    ]);
    const other = await subjectWith([["logs", "ip", "198.51.100.23"]]);
    const child = await subjectWith([
      ["registration", "phone", "13900001111"],
      ["guardianship-proof", "name", "张三"],
    ]);
    const missing = randomUUID();
    const body = (grantId: string, categories = ["registration", "logs"]) => ({
      grantId,
      subjectIds: [adult, other, child, missing],
      categories,
    });

    // no grant yet
    const none = await t.call(po, "POST", "/api/v1/staff/exports", body(randomUUID()));
    expect(none.statusCode).toBe(403);
    expect(none.json().error.details.reason).toBe("grant_mismatch");

    const requested = await t.call(po, "POST", "/api/v1/staff/grants", {
      scope: "bulk-export",
      categories: ["registration", "logs"],
      purpose: "legal-compliance",
      justification: "regulator request R-9",
      durationMinutes: 60,
    });
    expect(requested.statusCode).toBe(201);
    const grantId = requested.json().grant.id as string;
    // pending: refused
    expect((await t.call(po, "POST", "/api/v1/staff/exports", body(grantId))).statusCode).toBe(403);
    expect((await t.call(approver, "POST", `/api/v1/staff/grants/${grantId}/approve`)).statusCode).toBe(200);

    // the wrong role, children's categories, too many subjects, unknown categories
    const byAgent = await t.call(agent, "POST", "/api/v1/staff/exports", body(grantId));
    expect(byAgent.statusCode).toBe(403);
    const kids = await t.call(po, "POST", "/api/v1/staff/exports", body(grantId, ["guardianship-proof"]));
    expect(kids.statusCode).toBe(403);
    expect(kids.json().error.details.reason).toBe("children_bulk");
    const tooMany = await t.call(po, "POST", "/api/v1/staff/exports", {
      grantId,
      subjectIds: Array.from({ length: 1001 }, () => randomUUID()),
      categories: ["logs"],
    });
    expect(tooMany.statusCode).toBe(400);
    const unknown = await t.call(po, "POST", "/api/v1/staff/exports", body(grantId, ["no-such-category"]));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details.field).toBe("categories");
    const notCovered = await t.call(po, "POST", "/api/v1/staff/exports", body(grantId, ["device"]));
    expect(notCovered.statusCode).toBe(403);

    const res = await t.call(po, "POST", "/api/v1/staff/exports", body(grantId));
    expect(res.statusCode).toBe(200);
    const out = res.json();
    expect(out.grantId).toBe(grantId);
    expect(out.subjects.map((s: { subjectId: string }) => s.subjectId).sort()).toEqual([adult, other].sort());
    expect(out.skipped).toEqual(
      expect.arrayContaining([
        { subjectId: child, reason: "children" },
        { subjectId: missing, reason: "not_found" },
      ]),
    );
    const adultOut = out.subjects.find((s: { subjectId: string }) => s.subjectId === adult).categories;
    expect(Object.keys(adultOut.registration).sort()).toEqual(["email", "phone"]);
    expect(adultOut.registration.phone).not.toBe("13812341234");
    expect(adultOut.registration.phone).toMatch(/\*/);
    expect(adultOut.logs.ip).not.toBe("203.0.113.77");
    for (const secret of [
      "13812341234",
      "wang.wu@example.cn",
      "argon2id",
      "203.0.113.77",
      "13900001111",
      "张三",
    ])
      expect(res.body).not.toContain(secret);

    const ledger = createAuditLedger({ db: t.database.db, clock: t.clock });
    const events = (await ledger.list({ action: "export", actorId: po.id, limit: 50 })).events;
    const exported = events.filter((e) => e.outcome === "allowed" && e.subjectId);
    expect(exported.map((e) => e.subjectId).sort()).toEqual([adult, other].sort());
    expect(events.some((e) => e.subjectId === child)).toBe(false);
    expect(events.filter((e) => e.outcome === "denied").length).toBeGreaterThanOrEqual(4);

    // after the grant expires
    t.clock.advance(61 * 60_000);
    expect((await t.call(po, "POST", "/api/v1/staff/exports", body(grantId))).statusCode).toBe(403);
  });
});
