import { describe, expect, it } from "vitest";
import {
  type Harness,
  hasChromium,
  latestCode,
  registerAccount,
  runAxe,
  sendSignUpForm,
  seriousViolations,
  textOf,
  useHarness,
} from "./harness.ts";

describe.runIf(hasChromium)("subject accounts in the browser (ACC-1, ACC-3, ACC-6)", () => {
  let h: Harness;

  useHarness((started) => {
    h = started;
  });

  it("ACC-1, ACC-3, ACC-6: sign up, verify, sign out, sign in, sessions, revoke, lockout message, report compromise", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center/account/sign-up");
      await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
      // CON-2: the policy box is not pre-ticked, and is required.
      await sendSignUpForm(page, {
        contact: "e2e.player@example.com",
        username: "e2e_player",
        password: "E2e-Player-Pass-1",
      });
      await page.getByRole("heading", { level: 1, name: "Enter your verification code" }).waitFor();
      await page.getByRole("button", { name: /Send a new code in/ }).waitFor();
      await page.getByLabel("Verification code").fill(await latestCode(h));
      await page.getByRole("button", { name: "Verify and create account" }).click();
      await page.getByRole("heading", { level: 1, name: "Account security" }).waitFor();
      expect(await textOf(page.getByTestId("account-username"))).toBe("e2e_player");
      await page.getByTestId("account-status").waitFor();

      // Sign out from the header, then sign in with the password.
      await page.getByTestId("account-status").getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
      await page.locator('input[name="identifier"]').fill("e2e_player");
      await page.locator('input[name="password"]').fill("E2e-Player-Pass-1");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Account security" }).waitFor();

      // Sessions: the registration session was ended by sign-out; sign in elsewhere and revoke it.
      const other = await h.browser.newContext({ baseURL: h.baseUrl });
      const otherPage = await other.newPage();
      const login = await otherPage.request.post("/api/v1/auth/login", {
        data: { identifier: "e2e.player@example.com", password: "E2e-Player-Pass-1" },
      });
      expect(login.status()).toBe(200);
      await page.reload();
      await page.getByTestId("sessions").locator("li").nth(1).waitFor();
      await expect.poll(() => page.getByTestId("sessions").locator("li").count()).toBe(2);
      await page.getByRole("button", { name: "Sign out all other sessions" }).click();
      await page.getByText("All other sessions were signed out.").waitFor();
      await expect.poll(() => page.getByTestId("sessions").locator("li").count()).toBe(1);
      expect((await otherPage.request.get("/api/v1/me")).status()).toBe(401);
      await other.close();

      // Report a compromise: confirmation dialog, then signed out and locked.
      await page.getByRole("button", { name: "Report a compromise and lock my account" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Lock my account" }).click();
      await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
      await page.locator('input[name="identifier"]').fill("e2e_player");
      await page.locator('input[name="password"]').fill("E2e-Player-Pass-1");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByText(/This account is locked/).waitFor();

      // Wrong passwords: the fifth locks the identifier, and the page says when to retry.
      for (let i = 0; i < 5; i++) {
        await page.locator('input[name="password"]').fill(`Wrong-Pass-${i}`);
        await page.getByRole("button", { name: "Sign in", exact: true }).click();
        await page.getByRole("alert").waitFor();
      }
      await page.getByText(/Too many failed sign-in attempts.*try again in 15 minute/).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  for (const locale of ["en-US", "zh-CN"] as const) {
    it(`ACC-1: the account pages in ${locale} have no serious or critical axe violations`, async () => {
      const { context, page, problems } = await h.newPage(locale);
      const failures: string[] = [];
      try {
        for (const path of [
          "/center/account/sign-up",
          "/center/account/verify",
          "/center/account/sign-in",
          "/center/account",
        ]) {
          await page.goto(path);
          await page
            .locator("main h1")
            .first()
            .waitFor()
            .catch((error: unknown) => {
              throw new Error(`${path} (${locale}) shows no h1: ${String(error)}`);
            });
          await page.waitForFunction(() => document.querySelectorAll(".ui-state").length === 0, undefined, {
            timeout: 15_000,
          });
          expect(await page.evaluate(() => document.documentElement.lang)).toBe(
            locale === "zh-CN" ? "zh-CN" : "en",
          );
          failures.push(
            ...seriousViolations(await runAxe(page), `${path} (${locale})`).map((v) => `${path}: ${v.id}`),
          );
        }
        // The signed-in security page too.
        await registerAccount(h, page.request, {
          contact: `axe.${locale}@example.com`,
          username: `axe_${locale === "zh-CN" ? "zh" : "en"}`,
          password: "Axe-Check-Pass-1",
        });
        await page.goto("/center/account");
        await page.getByTestId("sessions").locator("li").first().waitFor();
        await page
          .getByRole("button", {
            name: locale === "zh-CN" ? "报告账号被盗用并锁定账号" : "Report a compromise and lock my account",
          })
          .click();
        await page.getByRole("dialog").waitFor();
        failures.push(
          ...seriousViolations(await runAxe(page), `/center/account (${locale})`).map((v) => v.id),
        );
        expect(failures).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    }, 120_000);
  }
});
