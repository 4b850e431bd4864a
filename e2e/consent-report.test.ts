import { createStaffService } from "@custos/server";
import { createAuditLedger } from "@custos/store";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAccessible,
  firstStaffSignIn,
  type Harness,
  hasChromium,
  latestCode,
  startHarness,
  textOf,
} from "./harness.ts";

/**
 * The console's consent report in Chromium: consent events recorded through the API by three
 * players, then a privacy officer signs in (password, TOTP, own password) and reads the rates per
 * purpose as a chart and as a table, by day and by week; axe in English and Chinese.
 */
describe.runIf(hasChromium)("consent report in the console (CON-1, CON-5)", () => {
  let h: Harness;
  const officer = { email: "report.officer@staff.example", password: "" };

  /** A player registered through the API (bearer token), who then answers consent requests. */
  const player = async (n: number) => {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${h.baseUrl}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const start = await post("/api/v1/accounts/register", {
      contact: `report.player${n}@example.com`,
      username: `report_player${n}`,
      password: "Report-Player-Pass-1",
      policyVersion: h.app.custos.manifest.manifest.version,
      acceptPolicy: true,
    });
    expect(start.status).toBe(202);
    const { verificationId } = (await start.json()) as { verificationId: string };
    const verified = await post("/api/v1/accounts/register/verify", {
      verificationId,
      code: await latestCode(h),
      client: "api",
    });
    expect(verified.status).toBe(201);
    const { token } = (await verified.json()) as { token: string };
    return async (purposeId: string, state: "given" | "refused" | "withdrawn") => {
      const res = await post(
        "/api/v1/me/consents",
        {
          purposeId,
          state,
          noticeVersion: h.app.custos.manifest.manifest.version,
          language: "en",
          method: "app",
        },
        token,
      );
      expect(res.status).toBe(201);
    };
  };

  beforeAll(async () => {
    h = await startHarness();
    const { db, vault, clock } = h.app.custos;
    const service = createStaffService({ db, vault, clock, ledger: createAuditLedger({ db, clock }) });
    officer.password = (
      await service.create({
        email: officer.email,
        displayName: "Rita Report",
        role: "privacy-officer",
        createdBy: null,
      })
    ).password;
    // Location: two of three people asked gave consent; one of them later withdrew. Surveys: refused.
    const [a, b, c] = [await player(1), await player(2), await player(3)];
    await a("location-services", "given");
    await b("location-services", "refused");
    await c("location-services", "given");
    await c("location-services", "withdrawn");
    await a("surveys", "refused");
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  const signIn = async (page: Page) => {
    officer.password = await firstStaffSignIn(page, officer);
  };

  it("CON-1, CON-5: the privacy officer sees given-rates per purpose as a chart and a table, by day and by week, in English and Chinese", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await signIn(page);
      await page.goto("/console");
      await page.getByRole("link", { name: "Consent report" }).click();
      await page.getByRole("heading", { level: 1, name: "Consent report" }).waitFor();
      const chart = page.getByRole("img", { name: /Given-rate per purpose/ });
      await chart.waitFor();
      // The chart draws a line (with markers) for each purpose someone was asked about.
      expect(await page.locator("[data-testid=rate-chart] [data-series]").count()).toBe(2);
      expect(
        await page
          .locator("[data-series=location-services] polyline, [data-series=location-services] circle")
          .count(),
      ).toBeGreaterThan(0);
      const legend = await textOf(page.getByTestId("legend"));
      expect(legend).toContain("Location-based services");
      expect(legend).toContain("Campaigns and satisfaction surveys");
      await expectAccessible(page, "/console/consent-report (en)");

      const row = (name: string) =>
        page.getByRole("row").filter({ has: page.getByRole("rowheader", { name }) });
      const cells = async (name: string) =>
        (await row(name).getByRole("cell").allInnerTexts()).map((x) => x.trim());
      const today = new Date().toISOString().slice(0, 10);
      // Period, given, refused, withdrawn, asked, given-rate.
      expect(await cells("Location-based services")).toEqual([today, "2", "1", "1", "3", "66.7%"]);
      expect(await cells("Campaigns and satisfaction surveys")).toEqual([today, "0", "1", "0", "1", "0%"]);

      // By week: the period starts on the Monday of this week.
      await page.getByLabel("Group by").selectOption("week");
      await page.getByRole("button", { name: "Show" }).click();
      await page.getByText(/by week$/).waitFor();
      const monday = new Date();
      monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
      expect(await cells("Location-based services")).toEqual([
        monday.toISOString().slice(0, 10),
        "2",
        "1",
        "1",
        "3",
        "66.7%",
      ]);

      // One purpose only.
      await page.getByLabel("Purpose", { exact: true }).selectOption("location-services");
      expect(await page.locator("[data-testid=rate-chart] [data-series]").count()).toBe(1);
      expect(problems).toEqual([]);

      // The same signed-in officer, in Chinese: axe again.
      const { context: zh, page: zhPage } = await h.newPage("zh-CN", context);
      try {
        await zhPage.goto("/console/consent-report");
        await zhPage.getByRole("heading", { level: 1, name: "同意情况报告" }).waitFor();
        await zhPage.getByRole("img", { name: /各目的同意率/ }).waitFor();
        expect(await textOf(zhPage.getByTestId("legend"))).toContain("基于位置的服务");
        await expectAccessible(zhPage, "/console/consent-report (zh-CN)");
      } finally {
        await zh.close();
      }
    } finally {
      await context.close();
    }
  }, 120_000);
});
