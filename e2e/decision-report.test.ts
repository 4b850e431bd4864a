import { randomUUID } from "node:crypto";
import { createStaffService, hashServiceKey, newServiceKey, SERVICE_KEY_HEADER } from "@custos/server";
import { createAuditLedger } from "@custos/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectAccessible,
  firstStaffSignIn,
  type Harness,
  hasChromium,
  startHarness,
  textOf,
} from "./harness.ts";

/**
 * The console's decision report in Chromium: two services ask for decisions over HTTP with their
 * own keys, then a privacy officer reads, per service and purpose, what was allowed by category and
 * why the rest was refused; axe in English and Chinese (MAN-5, CON-1).
 */
describe.runIf(hasChromium)("decision report in the console (MAN-5, CON-1)", () => {
  let h: Harness;
  const officer = { email: "decision.officer@staff.example", password: "" };
  const keys = { "game-server": newServiceKey(), feed: newServiceKey() };

  const decide = async (service: keyof typeof keys, items: object[]) => {
    const res = await fetch(`${h.baseUrl}/api/v1/decisions/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", [SERVICE_KEY_HEADER]: keys[service] },
      body: JSON.stringify({ items }),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    h = await startHarness({
      env: {
        CUSTOS_SERVICE_KEYS: JSON.stringify(
          Object.entries(keys).map(([name, key]) => ({ name, keyHash: hashServiceKey(key) })),
        ),
      },
    });
    const { db, vault, clock } = h.app.custos;
    const service = createStaffService({ db, vault, clock, ledger: createAuditLedger({ db, clock }) });
    officer.password = (
      await service.create({
        email: officer.email,
        displayName: "Dora Decisions",
        role: "privacy-officer",
        createdBy: null,
      })
    ).password;
    const [a, b] = [randomUUID(), randomUUID()];
    // The game server: registration (contract) three times, ads for two people who never consented,
    // and a purpose the manifest does not declare.
    await decide("game-server", [
      { subjectId: a, purposeId: "account-registration", categories: [] },
      { subjectId: b, purposeId: "account-registration", categories: [] },
      { subjectId: a, purposeId: "account-registration", categories: ["registration"] },
      { subjectId: a, purposeId: "personalised-ads", categories: ["device"] },
      { subjectId: b, purposeId: "personalised-ads", categories: ["device"] },
      { subjectId: b, purposeId: "sell-contacts", categories: [] },
    ]);
    // The feed: real-name checks (a sensitive category, on a legal obligation).
    await decide("feed", [
      { subjectId: a, purposeId: "real-name-authentication", categories: ["real-name"] },
    ]);
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  it("MAN-5, CON-1: the privacy officer sees per service and purpose what was allowed, by category, and why the rest was denied, in English and Chinese", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      officer.password = await firstStaffSignIn(page, officer);
      await page.goto("/console");
      await page
        .getByRole("navigation", { name: "Console sections" })
        .getByRole("link", { name: "Decision report" })
        .click();
      await page.getByRole("heading", { level: 1, name: "Decision report" }).waitFor();
      const today = new Date().toISOString().slice(0, 10);
      await page
        .getByTestId("report-range")
        .getByText(new RegExp(`to ${today}`))
        .waitFor();

      const game = page.getByRole("region", { name: "Service game-server", exact: true });
      const feed = page.getByRole("region", { name: "Service feed", exact: true });
      const cells = async (region: typeof game, name: string) =>
        (
          await region
            .getByRole("row")
            .filter({ has: page.getByRole("rowheader", { name }) })
            .getByRole("cell")
            .allInnerTexts()
        ).map((x) => x.trim());
      // Allowed, by category, with sensitive information, denied, why.
      expect(await cells(game, "Registration and login")).toEqual([
        "3",
        "no category 2, Registration and login details 1",
        "0",
        "0",
        "—",
      ]);
      expect(await cells(game, "Personalised advertising")).toEqual(["0", "—", "0", "2", "no consent 2"]);
      expect(await cells(game, "sell-contacts Not in the manifest")).toEqual([
        "0",
        "—",
        "0",
        "1",
        "purpose not in the manifest 1",
      ]);
      expect(await textOf(game)).toContain(
        "Allowed: 3 (counted by category), and 0 more with sensitive information. Denied: 3.",
      );
      expect((await cells(feed, "Real-name authentication"))[2]).toBe("1");
      await expectAccessible(page, "/console/decision-report (en)");

      // A period before anything happened: nothing to show.
      await page.getByLabel("From").fill("2020-01-01");
      await page.getByLabel("To").fill("2020-01-31");
      await page.getByRole("button", { name: "Show" }).click();
      await page.getByText("No service asked for a decision in this period.").waitFor();
      expect(problems).toEqual([]);

      // The same signed-in officer, in Chinese: axe again.
      const { context: zh, page: zhPage } = await h.newPage("zh-CN", context);
      try {
        await zhPage.goto("/console/decision-report");
        await zhPage.getByRole("heading", { level: 1, name: "使用决策报告" }).waitFor();
        const zhGame = zhPage.getByRole("region", { name: "服务 game-server", exact: true });
        expect(await textOf(zhGame)).toContain("个性化广告推荐");
        expect(await textOf(zhGame)).toContain("未获同意 2");
        await expectAccessible(zhPage, "/console/decision-report (zh-CN)");
      } finally {
        await zh.close();
      }
    } finally {
      await context.close();
    }
  }, 120_000);
});
