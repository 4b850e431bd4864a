import { createHash } from "node:crypto";
import { createStaffService } from "@custos/server";
import { createAuditLedger } from "@custos/store";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  firstStaffSignIn,
  type Harness,
  hasChromium,
  offsetClock,
  registerAccount,
  runAxe,
  seriousViolations,
  textOf,
  useHarness,
} from "./harness.ts";

/**
 * CON-10 in the privacy center: after the app reported a grant and then a revocation of the location
 * permission, the person sees the permission revoked and both events with the notice shown first.
 * CON-16 in the console: the privacy officer's SDK switch. axe on every page, en and zh-CN.
 */
describe.runIf(hasChromium)("device permissions and SDK switches in Chromium", () => {
  let h: Harness;
  // Real time plus an offset, to step past the one-code-a-minute limit between registrations.
  const serverClock = offsetClock();
  useHarness(
    (started) => {
      h = started;
    },
    { deps: { clock: serverClock } },
  );

  const register = (page: Page, contact: string, username: string) => {
    serverClock.advance(61_000);
    return registerAccount(h, page.request, { contact, username, password: "Mine-Own-Pass-42" });
  };

  /** What the app does: report the prompt outcome through the API, with the notice it showed. */
  const report = async (page: Page, body: object) => {
    const { token } = (await (await page.request.get("/api/v1/session/csrf")).json()) as { token: string };
    const res = await page.request.post("/api/v1/me/permissions", {
      headers: { "x-csrf-token": token, origin: h.baseUrl },
      data: { language: "en", ...body },
    });
    expect(res.status(), await res.text()).toBe(201);
  };

  const reportGrantThenRevoke = async (page: Page, lang: "en" | "zh-CN") => {
    const notice = h.app.custos.manifest.manifest.permissions.find((p) => p.id === "location")?.notice[lang];
    const noticeHash = createHash("sha256")
      .update(notice ?? "")
      .digest("hex");
    await report(page, {
      permission: "location",
      state: "granted",
      noticeShown: { language: lang, noticeHash },
      platformName: "android.permission.ACCESS_FINE_LOCATION",
      language: lang,
    });
    await report(page, { permission: "location", state: "revoked", language: lang });
  };

  it("CON-10: the history shows the grant (with the notice shown) and the revocation the app reported; axe in English", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await register(page, "perm.en@example.com", "perm_en");
      await reportGrantThenRevoke(page, "en");
      await page.goto("/center");
      await page.getByRole("link", { name: "See your device permissions" }).click();
      await page.waitForURL(/\/center\/permissions$/);
      await page.getByRole("heading", { level: 1, name: "Device permissions" }).waitFor();
      const history = page.getByTestId("permission-history");
      await history.getByRole("table").waitFor();
      expect(await textOf(page.getByTestId("permission-state-location"))).toContain("Revoked");
      expect(await textOf(page.getByTestId("permission-state-camera"))).toContain("Not asked yet");
      // The notice text the app showed is on the page.
      expect(await textOf(page.getByTestId("permission-list"))).toContain(
        "We use it only to let you interact with nearby players",
      );
      const rows = await history.locator("tbody tr").allInnerTexts();
      expect(rows).toHaveLength(2);
      expect(rows[0]).toContain("Revoked");
      expect(rows[0]).toContain("No notice reported");
      expect(rows[1]).toContain("Granted");
      expect(rows[1]).toContain("The current notice (English)");
      expect(rows[1]).toContain("android.permission.ACCESS_FINE_LOCATION");
      expect(seriousViolations(await runAxe(page), "permissions (en)")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("CON-10: the same page in Simplified Chinese; axe", async () => {
    const { context, page, problems } = await h.newPage("zh-CN");
    try {
      await register(page, "perm.zh@example.com", "perm_zh");
      await reportGrantThenRevoke(page, "zh-CN");
      await page.goto("/center/permissions");
      await page.getByRole("heading", { level: 1, name: "设备权限" }).waitFor();
      const history = page.getByTestId("permission-history");
      await history.getByRole("table").waitFor();
      expect(await textOf(page.getByTestId("permission-state-location"))).toContain("已撤回");
      const rows = await history.locator("tbody tr").allInnerTexts();
      expect(rows).toHaveLength(2);
      expect(rows[1]).toContain("现行说明（简体中文）");
      expect(seriousViolations(await runAxe(page), "permissions (zh-CN)")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("CON-10: signed out, the page asks to sign in", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      await page.goto("/center/permissions");
      // The page's own message, not the header's sign-in link (which can come first).
      await page.getByRole("main").getByText("Sign in to see your device permissions").waitFor();
      await page.getByRole("main").getByRole("link", { name: "Sign in" }).waitFor();
      expect(await page.getByTestId("permission-history").count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("CON-16: the privacy officer switches an SDK off in the console, with a reason, audited; axe", async () => {
    const { db, vault, clock } = h.app.custos;
    const service = createStaffService({ db, vault, clock, ledger: createAuditLedger({ db, clock }) });
    const email = "officer.sdk@staff.example";
    const { password } = await service.create({
      email,
      displayName: "Olive Officer",
      role: "privacy-officer",
      createdBy: null,
    });
    const { context, page, problems } = await h.newPage("en-US");
    try {
      // The server's clock runs ahead of real time in this file (see serverClock): codes follow it.
      await firstStaffSignIn(page, { email, password }, () => clock.now().getTime());

      await page
        .getByRole("navigation", { name: "Console sections" })
        .getByRole("link", { name: "SDKs" })
        .click();
      await page.waitForURL(/\/console\/sdks$/);
      await page.getByRole("heading", { level: 1, name: "Third-party SDKs" }).waitFor();
      await page.getByTestId("sdk-list").waitFor();
      expect(await textOf(page.getByTestId("sdk-purposes-sdk-advertising"))).toContain(
        "Personalised advertising",
      );
      expect(await textOf(page.getByTestId("sdk-status-sdk-advertising"))).toBe("On");
      expect(seriousViolations(await runAxe(page), "console SDKs")).toEqual([]);

      await page.getByLabel("Reason for switching Advertising SDK").fill("INC-7 provider breach");
      await page.getByRole("button", { name: "Switch off · Advertising SDK" }).click();
      await page.getByText("Advertising SDK is switched off: the app will not start it.").waitFor();
      await page.getByTestId("sdk-status-sdk-advertising").getByText("Switched off").waitFor();
      expect(await textOf(page.getByTestId("sdk-list"))).toContain("INC-7 provider breach");
      const audit = (await h.app.custos.auditLedger.list({ action: "update", limit: 20 })).events;
      expect(audit.some((e) => e.details.sdkId === "sdk-advertising" && e.details.enabled === false)).toBe(
        true,
      );
      expect(seriousViolations(await runAxe(page), "console SDKs (switched off)")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
