import { readFile } from "node:fs/promises";
import { createStaffService } from "@custos/server";
import { auditRepo, createAuditLedger, createSubjectFieldRepo, createSubjectRepo } from "@custos/store";
import { generate } from "otplib";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAccessible, type Harness, hasChromium, startHarness, textOf } from "./harness.ts";

/**
 * The staff console journey (ACC-5, SEC-2, SEC-3, SEC-4, SEC-8): an admin created through the
 * service signs in with a TOTP code computed here, creates staff and records training; an agent
 * asks for access, the privacy officer approves, the agent views a masked subject, and the auditor
 * finds those reads in the audit log and verifies the chain. axe runs on every page.
 */
describe.runIf(hasChromium)("staff console journey in Chromium", () => {
  let h: Harness;
  let subjectId: string;
  let service: ReturnType<typeof createStaffService>;
  const admin = { id: "", email: "admin@staff.example", password: "" };

  beforeAll(async () => {
    h = await startHarness();
    const { db, vault, clock } = h.app.custos;
    service = createStaffService({ db, vault, clock, ledger: createAuditLedger({ db, clock }) });
    const created = await service.createAdmin({ email: admin.email, displayName: "Ada Admin" });
    admin.password = created.password;
    admin.id = created.staff.id;
    const subject = await createSubjectRepo(db).create({ region: "cn" });
    subjectId = subject.subjectId;
    const fields = createSubjectFieldRepo(db, vault);
    await fields.put({
      subjectId,
      category: "registration",
      field: "phone",
      keyGroup: "account",
      value: "13812341234",
    });
    await fields.put({
      subjectId,
      category: "registration",
      field: "email",
      keyGroup: "account",
      value: "li.si@example.cn",
    });
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  /** Signs in through the page: password, then the TOTP enrolment (secret read from the page). */
  const signIn = async (page: Page, email: string, password: string, checkA11y = false) => {
    await page.goto("/console/sign-in");
    await page.getByRole("heading", { level: 1 }).waitFor();
    if (checkA11y) await expectAccessible(page, "sign-in");
    await page.getByLabel("Work email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Continue" }).click();
    const secret = (await textOf(page.getByTestId("totp-secret"))).trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    if (checkA11y) await expectAccessible(page, "sign-in (enrol)");
    await page.getByLabel("Authenticator code").fill(await generate({ secret }));
    await page.getByRole("button", { name: "Verify and sign in" }).click();
    await page.getByTestId("staff-whoami").waitFor();
    // The one-time password must be replaced before anything else (ACC-5).
    await page.getByRole("heading", { level: 1, name: "Your password" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Staff sections" }).getByRole("link").count()).toBe(0);
    if (checkA11y) await expectAccessible(page, "forced password change");
    await page.getByLabel("Current password").fill(password);
    await page.getByLabel("New password", { exact: true }).fill(`${password} mine`);
    await page.getByLabel("New password again").fill(`${password} mine`);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("heading", { level: 1, name: "Your password" }).waitFor({ state: "detached" });
  };

  const createStaff = async (page: Page, email: string, name: string, role: string) => {
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Display name").fill(name);
    await page.getByLabel("Role", { exact: true }).selectOption({ label: role });
    await page.getByRole("button", { name: "Create staff member" }).click();
    await page.getByText(`${name} was created`).waitFor();
    return (await textOf(page.getByTestId("one-time-password"))).trim();
  };

  const recordTraining = async (
    page: Page,
    member: string,
    kind: string,
    completed: string,
    expires = "",
  ) => {
    await page.getByLabel("Staff member", { exact: true }).selectOption({ label: member });
    await page.getByLabel("Record", { exact: true }).selectOption({ label: kind });
    await page.getByLabel("Completed or signed on").fill(completed);
    await page.getByLabel("Expires on").fill(expires);
    await page.getByRole("button", { name: "Record", exact: true }).click();
    await page.getByText(`${kind} recorded.`).waitFor();
  };

  it("ACC-5, SEC-3, SEC-4, SEC-8: admin → staff and training → grant request → approval → masked view → audit and verify", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
    const adminCtx = await h.newPage("en-US");
    const { page } = adminCtx;
    let agentPassword = "";
    let officerPassword = "";
    let auditorPassword = "";
    try {
      await signIn(page, admin.email, admin.password, true);
      await page.waitForURL(/\/console\/staff$/);
      await page.getByRole("heading", { level: 1, name: "Staff" }).waitFor();
      auditorPassword = await createStaff(page, "audrey@staff.example", "Audrey Auditor", "Auditor");
      agentPassword = await createStaff(page, "sam@staff.example", "Sam Support", "Support agent");
      officerPassword = await createStaff(page, "pat@staff.example", "Pat Privacy", "Privacy officer");
      expect(new Set([auditorPassword, agentPassword, officerPassword]).size).toBe(3);
      await recordTraining(page, "Sam Support (Support agent)", "Confidentiality agreement", today);
      await recordTraining(page, "Sam Support (Support agent)", "Privacy training", today, nextYear);
      // Suspend and reactivate a member from the list (ACC-5).
      await page.getByRole("button", { name: "Suspend Audrey Auditor" }).click();
      await page.getByText("Audrey Auditor was suspended and signed out.").waitFor();
      await page.getByRole("button", { name: "Reactivate Audrey Auditor" }).click();
      await page.getByText("Audrey Auditor was reactivated.").waitFor();
      await page.getByRole("button", { name: "Suspend Audrey Auditor" }).waitFor();
      const staffTable = await textOf(page.getByRole("table", { name: "Staff members" }));
      expect(staffTable).toContain("s***@staff.example");
      expect(staffTable).not.toContain("sam@staff.example");
      await expectAccessible(page, "staff");
      // the admin has no subject lookup in the navigation (SEC-3)
      const nav = page.getByRole("navigation", { name: "Staff sections" });
      expect(await nav.getByRole("link").allInnerTexts()).toEqual(["Staff"]);
      expect(adminCtx.problems).toEqual([]);
    } finally {
      await adminCtx.context.close();
    }

    // The agent signs in (enrolling), finds no access, and requests a grant.
    const agentCtx = await h.newPage("en-US");
    const officerCtx = await h.newPage("en-US");
    const auditorCtx = await h.newPage("zh-CN");
    try {
      const agent = agentCtx.page;
      await signIn(agent, "sam@staff.example", agentPassword);
      await agent.goto("/console/subjects");
      await agent.getByLabel("Subject id").fill(subjectId);
      await agent.getByRole("button", { name: "Look up" }).click();
      await agent.getByRole("alert").waitFor();
      expect(await textOf(agent.getByRole("alert"))).toMatch(/no active access grant/);
      await agent.goto("/console/grants");
      await agent.getByLabel("Subject id").fill(subjectId);
      await agent.getByLabel("Justification").fill("ticket CS-1042");
      await agent.getByRole("button", { name: "Request access" }).click();
      await agent.getByText("Your request was sent").waitFor();
      expect(await textOf(agent.getByRole("table", { name: "Access grants" }))).toContain("Pending");
      await expectAccessible(agent, "grants (agent)");

      // The privacy officer approves.
      const officer = officerCtx.page;
      await signIn(officer, "pat@staff.example", officerPassword);
      await officer.waitForURL(/\/console\/grants$/);
      await officer.getByRole("button", { name: /^Approve/ }).click();
      await officer.getByText("The grant was approved.").waitFor();
      expect(await textOf(officer.getByRole("table", { name: "Access grants" }))).toContain("Approved");
      await expectAccessible(officer, "grants (officer)");

      // The agent now sees the subject, masked (SEC-2).
      await agent.goto("/console/subjects");
      await agent.getByLabel("Subject id").fill(subjectId);
      await agent.getByRole("button", { name: "Look up" }).click();
      const fields = agent.getByRole("table", { name: "Fields of this subject" });
      await fields.waitFor();
      const shown = await textOf(fields);
      expect(shown).toContain("138****1234");
      expect(shown).toContain("l***@example.cn");
      expect(shown).not.toContain("13812341234");
      expect(await textOf(agent.getByTestId("subject-grant"))).toContain("customer-service");
      await expectAccessible(agent, "subject lookup");

      // The auditor (in Chinese) finds the reads and verifies the chain (SEC-4).
      const auditor = auditorCtx.page;
      await auditor.goto("/console/sign-in");
      await auditor.getByLabel(/^(Language|语言)$/).selectOption("en");
      await signIn(auditor, "audrey@staff.example", auditorPassword);
      await auditor.waitForURL(/\/console\/audit$/);
      await auditor.getByLabel("Subject id").fill(subjectId);
      await auditor.getByLabel("Action").selectOption("read");
      await auditor.getByRole("button", { name: "Apply filters" }).click();
      const log = auditor.getByRole("table", { name: "Audit events, newest first" });
      await log.getByText("customer-service").first().waitFor();
      const rows = await log.locator("tbody tr").allInnerTexts();
      expect(rows.filter((r) => r.includes("registration") && r.includes("Allowed"))).toHaveLength(1);
      expect(rows.filter((r) => r.includes("Denied") && r.includes("no_active_grant"))).toHaveLength(1);
      await expectAccessible(auditor, "audit log");
      await auditor.getByRole("button", { name: "Verify the audit chain" }).click();
      await auditor.getByTestId("verify-result").waitFor();
      expect(await textOf(auditor.getByTestId("verify-result"))).toContain("The audit chain is intact");
      await auditor.getByLabel("Language").selectOption("zh-CN");
      await auditor.getByRole("heading", { level: 1, name: "审计日志" }).waitFor();
      await expectAccessible(auditor, "audit log (zh-CN)");
      for (const c of [agentCtx, officerCtx, auditorCtx]) expect(c.problems).toEqual([]);
    } finally {
      for (const c of [agentCtx, officerCtx, auditorCtx]) await c.context.close();
    }
  }, 240_000);
  it("SEC-3, SEC-2, SEC-4: the privacy officer downloads a bulk export from the grants page: masked, children and unknown ids skipped, audited", async () => {
    // Two privacy officers: one asks for a bulk-export grant, the other approves it.
    const exporter = await service.create({
      email: "olive@staff.example",
      displayName: "Olive Officer",
      role: "privacy-officer",
      createdBy: admin.id,
    });
    const approver = await service.create({
      email: "quinn@staff.example",
      displayName: "Quinn Officer",
      role: "privacy-officer",
      createdBy: admin.id,
    });
    const now = Date.now();
    for (const kind of ["confidentiality", "privacy-training"] as const)
      await service.recordTraining({
        staffId: exporter.staff.id,
        kind,
        completedAt: new Date(now - 86_400_000),
        expiresAt: kind === "privacy-training" ? new Date(now + 30 * 86_400_000) : null,
        recordedBy: admin.id,
      });
    const missing = "0b8c6f3e-5d7a-4c1b-9e2f-3a4b5c6d7e8f";

    const exporterCtx = await h.newPage("en-US");
    const approverCtx = await h.newPage("en-US");
    try {
      const page = exporterCtx.page;
      await signIn(page, "olive@staff.example", exporter.password);
      await page.waitForURL(/\/console\/grants$/);
      // No approved bulk-export grant yet: no download offered.
      await page
        .getByRole("table", { name: "Access grants" })
        .or(page.getByText("No access grants yet."))
        .waitFor();
      expect(await page.getByRole("heading", { name: "Download a bulk export" }).count()).toBe(0);
      await page.getByLabel("Scope").selectOption({ label: "Bulk export" });
      expect(await page.getByLabel("Subject id").count()).toBe(0);
      await page.getByLabel("Purpose", { exact: true }).fill("legal-compliance");
      await page.getByLabel("Justification").fill("regulator request R-12");
      await page.getByRole("button", { name: "Request access" }).click();
      await page.getByText("Your request was sent").waitFor();

      const other = approverCtx.page;
      await signIn(other, "quinn@staff.example", approver.password);
      await other.waitForURL(/\/console\/grants$/);
      await other.getByRole("button", { name: /^Approve/ }).click();
      await other.getByText("The grant was approved.").waitFor();

      await page.reload();
      const card = page.getByRole("heading", { name: "Download a bulk export" });
      await card.waitFor();
      await expectAccessible(page, "grants (bulk export)");
      await page.getByLabel("Subject ids").fill(`${subjectId}\n${missing}\n${subjectId}`);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Download export" }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^custos-export-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.json$/);
      const file = await download.path();
      const text = await readFile(file, "utf8");
      const exported = JSON.parse(text) as {
        purpose: string;
        subjects: { subjectId: string; categories: Record<string, Record<string, string>> }[];
        skipped: { subjectId: string; reason: string }[];
      };
      expect(exported.purpose).toBe("legal-compliance");
      expect(exported.subjects).toHaveLength(1);
      expect(exported.subjects[0]?.subjectId).toBe(subjectId);
      expect(exported.subjects[0]?.categories.registration).toMatchObject({
        phone: "138****1234",
        email: "l***@example.cn",
      });
      expect(exported.skipped).toEqual([{ subjectId: missing, reason: "not_found" }]);
      // Masked throughout: no value in clear anywhere in the file (SEC-2).
      expect(text).not.toContain("13812341234");
      expect(text).not.toContain("li.si@example.cn");
      expect(await textOf(page.getByTestId("export-result"))).toContain("1 subject exported, 1 skipped");

      // Audited (SEC-4): the gate (role, grant, training) allowed once, and one event per exported
      // subject, by this officer under the grant's purpose; nothing for the unknown id.
      const events = await auditRepo.list(h.app.custos.db, {
        actorId: exporter.staff.id,
        action: "export",
        limit: 50,
      });
      const seen = events.map((e) => `${e.subjectId ?? "gate"} ${e.outcome} ${e.purpose}`).sort();
      expect(seen).toEqual([`${subjectId} allowed legal-compliance`, "gate allowed legal-compliance"].sort());
      expect(exporterCtx.problems).toEqual([]);
      expect(approverCtx.problems).toEqual([]);
    } finally {
      await exporterCtx.context.close();
      await approverCtx.context.close();
    }
  }, 180_000);
});
