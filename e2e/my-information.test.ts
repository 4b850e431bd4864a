import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  type Harness,
  hasChromium,
  latestCode,
  offsetClock,
  registerAccount,
  runAxe,
  seriousViolations,
  textOf,
  useHarness,
} from "./harness.ts";

/**
 * ACC-4 in the privacy center: the person's own information, shown only after a fresh "confirm
 * it is you" that offers only the ways the account has (RR-2). axe on the page and the dialog.
 */
describe.runIf(hasChromium)("your personal information in Chromium", () => {
  let h: Harness;
  // Real time plus an offset, to step past the code resend cool-down after registration.
  const serverClock = offsetClock();
  useHarness(
    (started) => {
      h = started;
    },
    { deps: { clock: serverClock } },
  );

  const register = (page: Page, contact: string, username: string) =>
    registerAccount(h, page.request, { contact, username, password: "Mine-Own-Pass-42" });

  it("ACC-4, RR-2: from the account page, confirm with a code to the given email (no phone offered), then see the information by category", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await register(page, "mei.ling@example.com", "mei_ling");
      await page.goto("/center/account");
      await page.getByRole("link", { name: "See your personal information" }).click();
      await page.waitForURL(/\/center\/account\/personal-information$/);
      const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
      await dialog.waitFor();
      expect(seriousViolations(await runAxe(page), "personal information (confirm dialog)")).toEqual([]);
      // Only what the person gave: a password and the email; no phone (RR-2).
      const buttons = await dialog.getByRole("button").allInnerTexts();
      expect(buttons.some((b) => /Send a code to m\S*@example\.com/.test(b))).toBe(true);
      expect(buttons.some((b) => /1\d{2}\*/.test(b))).toBe(false);
      // One code per contact a minute: the registration code went to this email a moment ago.
      serverClock.advance(61_000);
      await dialog.getByRole("button", { name: /Send a code to/ }).click();
      await dialog.getByText("We sent a 6-digit code").waitFor();
      await dialog.getByLabel("6-digit code").fill(await latestCode(h));
      await dialog.getByRole("button", { name: "Confirm with code" }).click();
      const info = page.getByTestId("my-information");
      await info.waitFor();
      const text = await textOf(info);
      // localised category names, the person's own values in clear
      expect(text).toContain("mei.ling@example.com");
      expect(text).toContain("mei_ling");
      expect(text).not.toContain("argon2");
      expect(await page.getByRole("heading", { level: 2 }).count()).toBeGreaterThan(0);
      expect(seriousViolations(await runAxe(page), "personal information")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("ACC-4: a wrong password is refused in the dialog; the right one opens the page (zh-CN), linked from the privacy-center home", async () => {
    const { context, page, problems } = await h.newPage("zh-CN");
    try {
      await register(page, "li.hua@example.com", "li_hua");
      await page.goto("/center");
      await page.getByRole("link", { name: "查看您的个人信息" }).click();
      const dialog = page.getByRole("dialog", { name: "确认是您本人" });
      await dialog.waitFor();
      await dialog.getByLabel("您的密码").fill("not-my-password-1");
      await dialog.getByRole("button", { name: "用密码确认" }).click();
      await dialog.getByRole("alert").waitFor();
      await dialog.getByLabel("您的密码").fill("Mine-Own-Pass-42");
      await dialog.getByRole("button", { name: "用密码确认" }).click();
      await page.getByTestId("my-information").waitFor();
      expect(await textOf(page.getByTestId("my-information"))).toContain("li.hua@example.com");
      expect(seriousViolations(await runAxe(page), "personal information (zh-CN)")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
