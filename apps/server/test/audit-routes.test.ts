import { randomUUID } from "node:crypto";
import { can, STAFF_ROLES, type StaffOperation, type StaffRole } from "@custos/core";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildStaffTestApp, type StaffTestApp, type StaffUser } from "./staff-helpers.ts";

/** Every staff and audit route with the operations that open it (any one of them). */
const ROUTES: { method: "GET" | "POST"; url: string; ops: StaffOperation[]; body?: unknown }[] = [
  { method: "GET", url: "/api/v1/staff/members", ops: ["staff.read", "staff.manage"] },
  {
    method: "POST",
    url: "/api/v1/staff/members",
    ops: ["staff.manage"],
    body: { email: "bad", displayName: "X", role: "auditor" },
  },
  {
    method: "POST",
    url: `/api/v1/staff/members/${randomUUID()}/status`,
    ops: ["staff.manage"],
    body: { status: "active" },
  },
  {
    method: "GET",
    url: `/api/v1/staff/members/${randomUUID()}/training`,
    ops: ["training.record", "staff.read"],
  },
  {
    method: "POST",
    url: `/api/v1/staff/members/${randomUUID()}/training`,
    ops: ["training.record"],
    body: { kind: "confidentiality", completedAt: "2025-01-01" },
  },
  { method: "GET", url: "/api/v1/staff/grants", ops: ["grant.read", "grant.request"] },
  {
    method: "POST",
    url: "/api/v1/staff/grants",
    ops: ["grant.request"],
    body: {
      scope: "subject-pi",
      subjectId: randomUUID(),
      categories: ["registration"],
      purpose: "customer-service",
      justification: "ticket",
      durationMinutes: 10,
    },
  },
  {
    method: "POST",
    url: `/api/v1/staff/grants/${randomUUID()}/approve`,
    ops: ["grant.approve", "grant.approve-children"],
  },
  {
    method: "POST",
    url: `/api/v1/staff/grants/${randomUUID()}/reject`,
    ops: ["grant.approve", "grant.approve-children"],
  },
  {
    method: "POST",
    url: `/api/v1/staff/grants/${randomUUID()}/revoke`,
    ops: ["grant.request", "grant.approve", "grant.approve-children"],
  },
  {
    method: "GET",
    url: `/api/v1/staff/subjects/${randomUUID()}`,
    ops: ["subject.read-masked", "subject.read-children"],
  },
  { method: "GET", url: "/api/v1/audit/events", ops: ["audit.read"] },
  { method: "POST", url: "/api/v1/audit/verify", ops: ["audit.verify"] },
];

describe("audit routes and the HTTP permission matrix", () => {
  let t: StaffTestApp;
  const users = {} as Record<StaffRole, StaffUser>;

  beforeAll(async () => {
    t = await buildStaffTestApp();
    for (const role of STAFF_ROLES) users[role] = await t.signIn(await t.createStaff(role));
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const cases = ROUTES.flatMap((route) => STAFF_ROLES.map((role) => ({ ...route, role })));

  it.each(cases)("SEC-3: $method $url as $role", async ({ method, url, ops, body, role }) => {
    const res = await t.call(users[role], method, url, body);
    const allowed = ops.some((op) => can(role, op));
    if (allowed) {
      expect(res.statusCode).not.toBe(401);
      if (res.statusCode === 403) expect(res.json().error.details.reason).not.toBe("role");
    } else {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.details).toMatchObject({ reason: "role", operation: ops[0] });
    }
    // signed out: always 401
    expect((await t.call(undefined, method, url, body)).statusCode).toBe(401);
  });

  it("SEC-4: the auditor lists events with filters and a cursor; the security analyst may too; an agent may not", async () => {
    const subject = (await t.createSubject()).toLowerCase();
    const agent = users["support-agent"];
    await t.call(agent, "GET", `/api/v1/staff/subjects/${subject}`); // denied read, audited
    await t.call(agent, "GET", `/api/v1/staff/subjects/${subject}`);
    const page = await t.call(users.auditor, "GET", `/api/v1/audit/events?subject=${subject}&limit=1`);
    expect(page.statusCode).toBe(200);
    expect(page.json().events).toHaveLength(1);
    expect(page.json().events[0]).toMatchObject({
      actorId: agent.id,
      action: "read",
      outcome: "denied",
      reason: "no_active_grant",
    });
    const next = await t.call(
      users["security-analyst"],
      "GET",
      `/api/v1/audit/events?subject=${subject}&limit=1&cursor=${page.json().nextCursor}`,
    );
    expect(next.json().events).toHaveLength(1);
    const byActor = await t.call(
      users.auditor,
      "GET",
      `/api/v1/audit/events?actor=${agent.id}&outcome=denied&action=read&from=2025-01-01&to=2030-01-01`,
    );
    expect(byActor.json().events.length).toBeGreaterThanOrEqual(2);
    const badFilter = await t.call(users.auditor, "GET", "/api/v1/audit/events?action=teleport");
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json().error.message).toMatch(/action/);
    expect((await t.call(agent, "GET", "/api/v1/audit/events")).statusCode).toBe(403);
  });

  it("SEC-4: verify returns ok with counts, and names the first broken link after tampering", async () => {
    const ok = await t.call(users.auditor, "POST", "/api/v1/audit/verify");
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true });
    const { createAuditLedger } = await import("@custos/store");
    await createAuditLedger({ db: t.database.db, clock: t.clock }).seal();
    const sealed = await t.call(users.auditor, "POST", "/api/v1/audit/verify");
    expect(sealed.json()).toMatchObject({ ok: true, unsealed: 0 });
    expect(sealed.json().events).toBeGreaterThan(10);
    // Tamper as a database superuser would: disable the append-only trigger and edit an event.
    await sql`alter table audit_events disable trigger audit_events_append_only`.execute(t.database.db);
    await sql`update audit_events set outcome = 'allowed' where id = (select min(id) from audit_events where outcome = 'denied')`.execute(
      t.database.db,
    );
    await sql`alter table audit_events enable trigger audit_events_append_only`.execute(t.database.db);
    const broken = await t.call(users["security-analyst"], "POST", "/api/v1/audit/verify");
    expect(broken.statusCode).toBe(200);
    expect(broken.json()).toMatchObject({ ok: false, brokenAt: expect.anything() });
  });
});
