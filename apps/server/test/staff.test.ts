import { STAFF_ROLES, type StaffRole } from "@custos/core";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStaffTestApp, type StaffTestApp, type StaffUser } from "./staff-helpers.ts";

describe("staff accounts, grants and the masked subject view", () => {
  let t: StaffTestApp;
  const users = {} as Record<StaffRole, StaffUser>;

  beforeAll(async () => {
    t = await buildStaffTestApp();
    for (const role of STAFF_ROLES) users[role] = await t.signIn(await t.createStaff(role));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("ACC-5: first sign-in enrols TOTP (secret once, confirmed by a code); later sign-ins need a code; cookie is HTTP-only and SameSite=Strict", async () => {
    const user = await t.createStaff("support-agent");
    const first = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: user.email,
      password: user.password,
    });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.next).toBe("enrol");
    expect(body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Custos:/);
    expect(body.secret).toMatch(/^[A-Z2-7]{16,}$/);
    const cookie = first.cookies.find((c) => c.name === "custos_staff_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });

    // The password step alone does not sign in.
    const half = await t.call(
      { ...user, cookie: `custos_staff_session=${cookie?.value}` },
      "GET",
      "/api/v1/staff/me",
    );
    expect(half.statusCode).toBe(401);

    // A wrong code is refused.
    const wrong = await t.call(
      { ...user, cookie: `custos_staff_session=${cookie?.value}` },
      "POST",
      "/api/v1/staff/auth/mfa",
      { code: "000000" },
    );
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.message).toMatch(/code/);

    user.secret = body.secret;
    await t.signIn(user); // signs in again: enrolment pending, so a fresh secret comes back
    const me = await t.call(user, "GET", "/api/v1/staff/me");
    expect(me.statusCode).toBe(200);
    expect(me.json().staff).toMatchObject({ role: "support-agent", mfaEnrolled: true });
    expect(me.json().staff.email).not.toBe(user.email);

    const again = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: user.email,
      password: user.password,
    });
    expect(again.json()).toEqual({ next: "code" });
  });

  it("ACC-5: a code is never accepted twice and the account locks after repeated failures", async () => {
    const user = await t.signIn(await t.createStaff("auditor"));
    // replay of the very code just used
    const step = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: user.email,
      password: user.password,
    });
    const mfa = `custos_staff_session=${step.cookies.find((c) => c.name === "custos_staff_session")?.value}`;
    const replay = await generate({
      secret: user.secret ?? "",
      epoch: Math.floor(t.clock.now().getTime() / 1000),
    });
    const replayed = await t.call({ ...user, cookie: mfa }, "POST", "/api/v1/staff/auth/mfa", {
      code: replay,
    });
    expect(replayed.statusCode).toBe(401);

    for (let i = 0; i < 4; i++) {
      const bad = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
        email: user.email,
        password: "wrong password 123",
      });
      expect(bad.statusCode).toBe(401);
    }
    const locked = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: user.email,
      password: user.password,
    });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.message).toMatch(/locked/);
    t.clock.advance(16 * 60_000);
    const after = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: user.email,
      password: user.password,
    });
    expect(after.statusCode).toBe(200);
    // unknown emails answer exactly like a wrong password
    const unknown = await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
      email: "nobody@staff.example",
      password: "whatever password",
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.message).toBe(
      (
        await t.call(undefined, "POST", "/api/v1/staff/auth/sign-in", {
          email: user.email,
          password: "another wrong one",
        })
      ).json().error.message,
    );
  });

  it("SEC-3: requireStaff answers 401 when signed out and 403 naming the operation when the role may not", async () => {
    const anon = await t.call(undefined, "GET", "/api/v1/staff/members");
    expect(anon.statusCode).toBe(401);
    const denied = await t.call(users.auditor, "POST", "/api/v1/staff/members", {
      email: "x@staff.example",
      displayName: "X",
      role: "auditor",
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.details).toMatchObject({ operation: "staff.manage", role: "auditor" });
    expect(denied.json().error.message).toMatch(/staff\.manage/);
  });

  it("SEC-3: an admin creates staff with a one-time password, and cannot read personal information", async () => {
    const created = await t.call(users.admin, "POST", "/api/v1/staff/members", {
      email: "new.agent@staff.example",
      displayName: "New Agent",
      role: "support-agent",
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().oneTimePassword).toHaveLength(20);
    expect(created.json().staff.email).toBe("n***@staff.example");
    const dup = await t.call(users.admin, "POST", "/api/v1/staff/members", {
      email: "New.Agent@staff.example",
      displayName: "Again",
      role: "auditor",
    });
    expect(dup.statusCode).toBe(409);
    const subjectId = await t.createSubject();
    const read = await t.call(users.admin, "GET", `/api/v1/staff/subjects/${subjectId}`);
    expect(read.statusCode).toBe(403);
    expect(read.json().error.details.operation).toBe("subject.read-masked");
    const grant = await t.call(users.admin, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId,
      categories: ["registration"],
      purpose: "customer-service",
      justification: "ticket CS-1",
      durationMinutes: 60,
    });
    expect(grant.statusCode).toBe(403);
  });

  it("SEC-8: no grant before confidentiality and training are recorded; then request, approval by another role, masked read, audit", async () => {
    const agent = await t.signIn(await t.createStaff("support-agent"));
    const subjectId = await t.createSubject();
    const request = {
      scope: "subject-pi",
      subjectId,
      categories: ["registration"],
      purpose: "customer-service",
      justification: "ticket CS-1042",
      durationMinutes: 120,
    };
    const untrained = await t.call(agent, "POST", "/api/v1/staff/grants", request);
    expect(untrained.statusCode).toBe(403);
    expect(untrained.json().error.details.reason).toBe("confidentiality_missing");

    // recorded through the API by the admin
    for (const kind of ["confidentiality", "privacy-training"] as const) {
      const res = await t.call(users.admin, "POST", `/api/v1/staff/members/${agent.id}/training`, {
        kind,
        completedAt: "2025-06-01",
        expiresAt: kind === "privacy-training" ? "2025-07-01" : null,
      });
      expect(res.statusCode).toBe(201);
    }
    const before = await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`);
    expect(before.statusCode).toBe(403);
    expect(before.json().error.message).toMatch(/request one/i);

    const tooLong = await t.call(agent, "POST", "/api/v1/staff/grants", { ...request, durationMinutes: 481 });
    expect(tooLong.statusCode).toBe(400);
    const requested = await t.call(agent, "POST", "/api/v1/staff/grants", request);
    expect(requested.statusCode).toBe(201);
    const grant = requested.json().grant;
    expect(grant).toMatchObject({ status: "pending", expiresAt: null });

    const pending = await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`);
    expect(pending.statusCode).toBe(403);

    // the agent cannot approve (role), the children's officer may not approve a non-children grant
    expect((await t.call(agent, "POST", `/api/v1/staff/grants/${grant.id}/approve`)).statusCode).toBe(403);
    const wrongApprover = await t.call(
      users["children-officer"],
      "POST",
      `/api/v1/staff/grants/${grant.id}/approve`,
    );
    expect(wrongApprover.statusCode).toBe(403);
    const approved = await t.call(
      users["privacy-officer"],
      "POST",
      `/api/v1/staff/grants/${grant.id}/approve`,
    );
    expect(approved.statusCode).toBe(200);
    expect(approved.json().grant.status).toBe("approved");
    expect(new Date(approved.json().grant.expiresAt).getTime() - t.clock.now().getTime()).toBe(120 * 60_000);

    const view = await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`);
    expect(view.statusCode).toBe(200);
    const body = view.json();
    const registration = body.categories.find((c: { category: string }) => c.category === "registration");
    const fields = Object.fromEntries(
      registration.fields.map((f: { field: string; value: string | null }) => [f.field, f.value]),
    );
    expect(fields).toEqual({ phone: "138****1234", email: "l***@example.cn", password: null });
    // grade 2 logs come with any grant; the children's category never without a children's grant
    expect(body.categories.map((c: { category: string }) => c.category).sort()).toEqual([
      "logs",
      "registration",
    ]);
    expect(view.body).not.toContain("13812341234");
    expect(view.body).not.toContain("张三");

    const events = await t.call(
      users.auditor,
      "GET",
      `/api/v1/audit/events?subject=${subjectId}&action=read`,
    );
    expect(events.statusCode).toBe(200);
    const reads = events.json().events as {
      outcome: string;
      actorId: string;
      category: string;
      purpose: string;
      reason: string;
    }[];
    expect(
      reads
        .filter((e) => e.outcome === "allowed")
        .map((e) => [e.actorId, e.category, e.purpose])
        .sort(),
    ).toEqual([
      [agent.id, "logs", "customer-service"],
      [agent.id, "registration", "customer-service"],
    ]);
    expect(reads.filter((e) => e.outcome === "denied").map((e) => e.reason)).toEqual([
      "no_active_grant",
      "no_active_grant",
    ]);

    // the requester revokes the grant: the next read is refused again
    const revoked = await t.call(agent, "POST", `/api/v1/staff/grants/${grant.id}/revoke`);
    expect(revoked.json().grant.status).toBe("revoked");
    expect((await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`)).statusCode).toBe(403);
    // SEC-6: no personal value reached the logs
    const logs = t.logs.join("\n");
    for (const secret of ["13812341234", "li.si@example.cn", agent.email, agent.password])
      expect(logs).not.toContain(secret);
  });

  it("SEC-8: expired training suspends an approved grant at use time", async () => {
    const agent = await t.signIn(await t.createStaff("support-agent"));
    await t.train(agent);
    const subjectId = await t.createSubject();
    const requested = await t.call(agent, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId,
      categories: ["registration"],
      purpose: "customer-service",
      justification: "ticket CS-7",
      durationMinutes: 480,
    });
    await t.call(
      users["privacy-officer"],
      "POST",
      `/api/v1/staff/grants/${requested.json().grant.id}/approve`,
    );
    expect((await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`)).statusCode).toBe(200);
    // A newer privacy training that expires in one hour replaces the 30-day one.
    await t.service.recordTraining({
      staffId: agent.id,
      kind: "privacy-training",
      completedAt: t.clock.now(),
      expiresAt: new Date(t.clock.now().getTime() + 3_600_000),
      recordedBy: users.admin.id,
    });
    expect((await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`)).statusCode).toBe(200);
    t.clock.advance(2 * 3_600_000);
    const suspended = await t.call(agent, "GET", `/api/v1/staff/subjects/${subjectId}`);
    expect(suspended.statusCode).toBe(403);
    expect(suspended.json().error.details.reason).toBe("training_expired");
    const events = await t.call(
      users.auditor,
      "GET",
      `/api/v1/audit/events?subject=${subjectId}&outcome=denied`,
    );
    expect(events.json().events.map((e: { reason: string }) => e.reason)).toEqual(["training_expired"]);
    // and no new grant can be requested until the training is recorded again
    const again = await t.call(agent, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId,
      categories: ["registration"],
      purpose: "customer-service",
      justification: "ticket CS-8",
      durationMinutes: 30,
    });
    expect(again.json().error.details.reason).toBe("training_expired");
  });

  it("SEC-3: nobody approves their own grant", async () => {
    const officer = users["privacy-officer"];
    await t.train(officer);
    const subjectId = await t.createSubject();
    const requested = await t.call(officer, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId,
      categories: ["registration"],
      purpose: "customer-service",
      justification: "ticket CS-9",
      durationMinutes: 30,
    });
    expect(requested.statusCode).toBe(201);
    const own = await t.call(officer, "POST", `/api/v1/staff/grants/${requested.json().grant.id}/approve`);
    expect(own.statusCode).toBe(403);
    expect(own.json().error.details.reason).toBe("own_grant");
  });

  it("CHD-8: children's PI needs a children-pi grant approved only by the children's officer; bulk export of it is refused", async () => {
    const officer = users["children-officer"];
    await t.train(officer);
    const subjectId = await t.createSubject();
    const wrongScope = await t.call(officer, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId,
      categories: ["guardianship-proof"],
      purpose: "guardian-verification",
      justification: "case G-1",
      durationMinutes: 30,
    });
    expect(wrongScope.statusCode).toBe(400);
    const requested = await t.call(officer, "POST", "/api/v1/staff/grants", {
      scope: "children-pi",
      subjectId,
      categories: ["guardianship-proof"],
      purpose: "guardian-verification",
      justification: "case G-1",
      durationMinutes: 30,
    });
    expect(requested.statusCode).toBe(201);
    const id = requested.json().grant.id;
    const byPrivacyOfficer = await t.call(
      users["privacy-officer"],
      "POST",
      `/api/v1/staff/grants/${id}/approve`,
    );
    expect(byPrivacyOfficer.statusCode).toBe(403);
    expect(byPrivacyOfficer.json().error.message).toMatch(/children-officer/);
    // a second children's officer approves
    const second = await t.signIn(await t.createStaff("children-officer"));
    expect((await t.call(second, "POST", `/api/v1/staff/grants/${id}/approve`)).statusCode).toBe(200);
    const view = await t.call(officer, "GET", `/api/v1/staff/subjects/${subjectId}`);
    expect(view.statusCode).toBe(200);
    const proof = view
      .json()
      .categories.find((c: { category: string }) => c.category === "guardianship-proof");
    expect(proof.fields).toEqual([{ field: "name", kind: "name", visibility: "masked", value: "张*" }]);

    const po = users["privacy-officer"];
    await t.train(po);
    const bulk = await t.call(po, "POST", "/api/v1/staff/grants", {
      scope: "bulk-export",
      categories: ["guardianship-proof"],
      purpose: "legal-compliance",
      justification: "regulator request R-1",
      durationMinutes: 30,
    });
    expect(bulk.statusCode).toBe(403);
    expect(bulk.json().error.details.reason).toBe("children_bulk");
    const agentBulk = await t.call(users["support-agent"], "POST", "/api/v1/staff/grants", {
      scope: "bulk-export",
      categories: ["registration"],
      purpose: "legal-compliance",
      justification: "x-1",
      durationMinutes: 30,
    });
    expect(agentBulk.statusCode).toBe(403);
  });

  it("SEC-8: a nonexistent subject answers 404; a malformed grant request 400 naming the field", async () => {
    const agent = users["support-agent"];
    const missing = await t.call(agent, "GET", "/api/v1/staff/subjects/7d9e1c4e-2b7a-4d43-9f51-0c3a2b1d0e9f");
    expect(missing.statusCode).toBe(404);
    await t.train(agent);
    const bad = await t.call(agent, "POST", "/api/v1/staff/grants", {
      scope: "subject-pi",
      subjectId: await t.createSubject(),
      categories: ["no-such-category"],
      purpose: "customer-service",
      justification: "ticket",
      durationMinutes: 30,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe("categories");
  });

  it("SEC-3: unsafe staff requests without the CSRF header are refused", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/staff/members",
      headers: { cookie: users.admin.cookie ?? "" },
      payload: { email: "csrf@staff.example", displayName: "C", role: "auditor" },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.details.reason).toBe("csrf_failed");
  });
});

describe("bulk export gate", () => {
  let t: StaffTestApp;
  beforeAll(async () => {
    t = await buildStaffTestApp();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("SEC-3: a bulk export needs an approved bulk-export grant covering its categories; refusals and uses are audited", async () => {
    const { createGrantService } = await import("../src/staff/grant-service.ts");
    const { createAuditLedger } = await import("@custos/store");
    const ledger = createAuditLedger({ db: t.database.db, clock: t.clock });
    const grants = createGrantService({
      db: t.database.db,
      vault: t.vault,
      clock: t.clock,
      ledger,
      manifest: t.manifest.manifest,
      staffService: t.service,
    });
    const po = await t.createStaff("privacy-officer");
    const other = await t.createStaff("privacy-officer");
    await t.train(po);
    const reader = { staffId: po.id, role: "privacy-officer" as const };
    await expect(grants.authorizeBulkExport(reader, ["registration"], "req-bulk-1")).rejects.toMatchObject({
      statusCode: 403,
      details: { reason: "no_active_grant" },
    });
    const grant = await grants.request(reader, {
      scope: "bulk-export",
      categories: ["registration", "logs"],
      purpose: "legal-compliance",
      justification: "regulator request R-7",
      durationMinutes: 60,
    });
    await expect(grants.authorizeBulkExport(reader, ["registration"], "req-bulk-2")).rejects.toMatchObject({
      statusCode: 403,
    });
    await grants.decide({ staffId: other.id, role: "privacy-officer" }, grant.id, "approve");
    await expect(grants.authorizeBulkExport(reader, ["registration"], "req-bulk-3")).resolves.toEqual({
      grantId: grant.id,
      purpose: "legal-compliance",
    });
    await expect(grants.authorizeBulkExport(reader, ["delivery"], "req-bulk-4")).rejects.toMatchObject({
      statusCode: 403,
    });
    await expect(
      grants.authorizeBulkExport(
        { staffId: other.id, role: "support-agent" },
        ["registration"],
        "req-bulk-5",
      ),
    ).rejects.toMatchObject({ details: { reason: "role" } });
    await expect(
      grants.authorizeBulkExport(reader, ["guardianship-proof"], "req-bulk-6"),
    ).rejects.toMatchObject({
      details: { reason: "children_bulk" },
    });
    const exports = (await ledger.list({ action: "export", limit: 20 })).events;
    expect(exports.map((e) => `${e.requestId}:${e.outcome}`).reverse()).toEqual([
      "req-bulk-1:denied",
      "req-bulk-2:denied",
      "req-bulk-3:allowed",
      "req-bulk-4:denied",
      "req-bulk-5:denied",
      "req-bulk-6:denied",
    ]);
    t.clock.advance(61 * 60_000);
    await expect(grants.authorizeBulkExport(reader, ["registration"], "req-bulk-7")).rejects.toMatchObject({
      details: { reason: "no_active_grant" },
    });
  });
});
