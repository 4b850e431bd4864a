import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  type Harness,
  hasChromium,
  latestCode,
  runAxe,
  sendSignUpForm,
  seriousViolations,
  textOf,
  useHarness,
} from "./harness.ts";

type PermissionsView = {
  permissions: { permissionId: string; notice: string; state: string }[];
  history: { permissionId: string; state: string; notice: { current: boolean } | null }[];
};

/**
 * The sample app (issue 4, section 8) in Chromium: the whole journey of a visitor through the
 * simulated MuMuPlayer Pro client, whose game backend decides with the Custos SDK over HTTP.
 */
describe.runIf(hasChromium)("sample app in Chromium (issue 4, section 8)", () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  const axe = async (page: Page, where: string) => {
    expect(seriousViolations(await runAxe(page), where)).toEqual([]);
  };
  const feedState = (page: Page) => page.getByTestId("feed-state").getAttribute("data-personalised");
  const openConsentDialog = (page: Page) => page.locator('[data-testid="separate-consent-dialog"][open]');

  it("CON-2, CON-4, CON-6, CON-8, CON-10, CON-11: sign up with the policy, permission notice before the prompt, feed personalised only with consent and switch, ads always, location behind its own consent and permission; axe in en and zh-CN", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/sample-app");
      await page.getByRole("heading", { level: 1, name: "Sample app: MuMuPlayer Pro" }).waitFor();
      const phone = page.getByTestId("sample-phone");

      // The web part: the consent banner is up, and the analytics tag is blocked until allowed.
      await page.getByRole("button", { name: "Reject all" }).waitFor();
      expect(await page.getByTestId("analytics-tag").getAttribute("data-ran")).toBe("false");
      await axe(page, "sample app, signed out, banner open (en)");
      await page.getByRole("button", { name: "Reject all" }).click();
      await page.getByTestId("cookie-analytics").getByText("Off").waitFor();
      expect(await page.getByTestId("analytics-tag").getAttribute("data-ran")).toBe("false");

      // Sign up: the policy box is not ticked, and nothing is created without it (CON-2).
      await sendSignUpForm(phone, {
        contact: "sample.visitor@example.com",
        username: "sample_visitor",
        password: "Sample-Visitor-42",
      });
      await phone.getByRole("textbox", { name: "Verification code" }).waitFor();
      await phone.getByRole("textbox", { name: "Verification code" }).fill(await latestCode(h));
      await phone.getByRole("button", { name: "Verify and start" }).click();

      // First launch: the purpose notice of the phone permission comes before the system prompt.
      const notice = page.getByTestId("permission-notice");
      await notice.waitFor();
      expect(await notice.getAttribute("data-permission")).toBe("phone");
      const permissionsBefore = (await (
        await page.request.get("/api/v1/me/permissions?lang=en")
      ).json()) as PermissionsView;
      const phoneNotice = permissionsBefore.permissions.find((p) => p.permissionId === "phone")?.notice ?? "";
      expect(await textOf(page.getByTestId("permission-notice-text"))).toBe(phoneNotice);
      expect(await page.getByTestId("system-prompt").isVisible()).toBe(false);
      await axe(page, "sample app, permission notice (en)");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByTestId("system-prompt").waitFor();
      expect(await notice.isVisible()).toBe(false);
      await page.getByRole("button", { name: "Allow", exact: true }).click();
      await page.getByTestId("system-prompt").waitFor({ state: "hidden" });
      const afterLaunch = (await (
        await page.request.get("/api/v1/me/permissions")
      ).json()) as PermissionsView;
      expect(afterLaunch.permissions.find((p) => p.permissionId === "phone")?.state).toBe("granted");
      expect(afterLaunch.history[0]).toMatchObject({
        permissionId: "phone",
        state: "granted",
        notice: { current: true },
      });
      // Signing up recorded the policy acceptance in the consent ledger.
      const consents = (await (await page.request.get("/api/v1/me/consents")).json()) as {
        policy: { state: string };
      };
      expect(consents.policy.state).toBe("given");

      // The feed is generic before the separate consent: accepting the policy does not cover it (CON-4).
      await page.getByTestId("feed-state").waitFor();
      expect(await feedState(page)).toBe("false");
      expect(await textOf(page.getByTestId("feed-label"))).toBe("Not personalised");
      expect(await page.getByTestId("decided-by").first().getAttribute("data-source")).toBe("snapshot");
      expect(await page.getByTestId("feed-item").count()).toBe(4);
      // The ad slot has an advert, not personalised.
      expect(await page.getByTestId("ad-slot").getAttribute("data-personalised")).toBe("false");
      expect(await textOf(page.getByTestId("ad-label"))).toBe("Ad");
      await axe(page, "sample app, generic feed (en)");

      // The separate consent, on its own screen: then the feed is personalised and labelled, with why.
      await phone.getByRole("button", { name: "Choose for me" }).click();
      const dialog = openConsentDialog(page);
      await dialog.getByRole("heading", { name: /Personalised content recommendation/ }).waitFor();
      await axe(page, "sample app, separate-consent dialog (en)");
      await dialog.getByRole("button", { name: "I agree" }).click();
      await expect.poll(() => feedState(page), { timeout: 5000 }).toBe("true");
      expect(await textOf(page.getByTestId("feed-label"))).toBe("Personalised for you");
      const firstItem = page.getByTestId("feed-item").first();
      expect(await firstItem.getAttribute("data-personalised")).toBe("true");
      expect(await textOf(firstItem)).toContain("Because you play:");
      await firstItem.getByText("Why am I seeing this?").click();
      const why = await textOf(firstItem.getByTestId("why"));
      expect(why).toMatch(/Interest tags used: .+games/);
      expect(why).toContain("Personalised recommendations are on");

      // Off in the privacy center's settings: back in the app, the feed is generic again within a
      // second or two, decided from the SDK's snapshot (the change came over its event stream).
      await firstItem.getByRole("link", { name: "Manage personalisation in the privacy center" }).click();
      await page.waitForURL(/\/center\/settings$/);
      const contentSwitch = page.getByRole("switch", { name: "Personalised content recommendation" });
      await contentSwitch.waitFor();
      expect(await contentSwitch.isChecked()).toBe(true);
      await contentSwitch.click();
      await page.getByText("Personalised content recommendation is now off.").waitFor();
      const switchedAt = Date.now();
      await page.goBack();
      await page.waitForURL(/\/sample-app$/);
      await expect.poll(() => feedState(page), { timeout: 2000, interval: 50 }).toBe("false");
      expect(Date.now() - switchedAt).toBeLessThan(2000);
      expect(await textOf(page.getByTestId("feed-label"))).toBe("Not personalised");
      expect(await page.getByTestId("decided-by").first().getAttribute("data-source")).toBe("snapshot");
      await page
        .getByTestId("decision-log")
        .locator('li[data-purpose="personalised-content"]')
        .first()
        .getByText("setting-off")
        .waitFor();
      await phone.getByText("Personalised recommendations are off").waitFor();
      // The ad slot still shows an advert, unpersonalised (CON-8).
      await page.getByTestId("ad-slot").waitFor();
      expect(await page.getByTestId("ad-slot").getAttribute("data-personalised")).toBe("false");
      expect(await textOf(page.getByTestId("ad-label"))).toBe("Ad");

      // The location feature asks its own consent first; refusing keeps the rest working (CON-6).
      await phone.getByRole("tab", { name: "Nearby" }).click();
      await phone.getByRole("button", { name: "Find players nearby" }).click();
      await openConsentDialog(page)
        .getByRole("heading", { name: /Location-based services/ })
        .waitFor();
      await openConsentDialog(page).getByRole("button", { name: "I do not agree" }).click();
      await expect.poll(() => page.getByTestId("nearby-status").getAttribute("data-state")).toBe("declined");
      await phone.getByText("Only this feature is unavailable; everything else keeps working.").waitFor();
      await phone.getByRole("tab", { name: "For you" }).click();
      await phone.getByRole("button", { name: "Refresh" }).click();
      await expect.poll(() => page.getByTestId("feed-item").count()).toBe(4);
      await page.getByTestId("ad-slot").waitFor();

      // Accepting it, then the permission: the notice first, then the system prompt; then it works.
      await phone.getByRole("tab", { name: "Nearby" }).click();
      await phone.getByRole("button", { name: "Review the location consent" }).click();
      // The dialog opens once the purpose and its lists have loaded again.
      await openConsentDialog(page)
        .getByRole("heading", { name: /Location-based services/ })
        .waitFor();
      await openConsentDialog(page).getByRole("button", { name: "I agree" }).click();
      await notice.waitFor();
      expect(await notice.getAttribute("data-permission")).toBe("location");
      const locationNotice =
        permissionsBefore.permissions.find((p) => p.permissionId === "location")?.notice ?? "";
      expect(await textOf(page.getByTestId("permission-notice-text"))).toBe(locationNotice);
      expect(await page.getByTestId("system-prompt").isVisible()).toBe(false);
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByTestId("system-prompt").waitFor();
      await axe(page, "sample app, system prompt (en)");
      await page.getByRole("button", { name: "Allow", exact: true }).click();
      await page.getByTestId("nearby-players").waitFor();
      expect(await page.getByTestId("nearby-players").locator("li").count()).toBeGreaterThan(0);
      const permissionsAfter = (await (
        await page.request.get("/api/v1/me/permissions")
      ).json()) as PermissionsView;
      expect(permissionsAfter.history[0]).toMatchObject({
        permissionId: "location",
        state: "granted",
        notice: { current: true },
      });
      await axe(page, "sample app, players nearby (en)");

      // The web part again: allowing analytics runs the tagged script.
      await page.getByRole("button", { name: "Open the cookie banner" }).click();
      await page.getByRole("button", { name: "Accept all" }).click();
      await expect.poll(() => page.getByTestId("analytics-tag").getAttribute("data-ran")).toBe("true");
      expect(problems).toEqual([]);

      // The same app in Simplified Chinese, same account.
      const zh = await h.newPage("zh-CN");
      try {
        await zh.context.addCookies(await context.cookies());
        await zh.page.goto("/sample-app");
        await zh.page.getByRole("heading", { level: 1, name: "示例应用：MuMu模拟器Pro" }).waitFor();
        await zh.page.getByTestId("feed-state").waitFor();
        expect(await textOf(zh.page.getByTestId("feed-label"))).toBe("非个性化推荐");
        expect(await textOf(zh.page.getByTestId("ad-label"))).toBe("广告");
        await zh.page.getByRole("button", { name: "全部拒绝" }).click();
        await axe(zh.page, "sample app, signed in (zh-CN)");
        await zh.page.getByRole("tab", { name: "我的" }).click();
        await zh.page.getByRole("switch", { name: "个性化内容推荐" }).first().waitFor();
        await axe(zh.page, "sample app, me tab (zh-CN)");
        expect(zh.problems).toEqual([]);
      } finally {
        await zh.context.close();
      }
    } finally {
      await context.close();
    }
  }, 240_000);

  it("the signed-out app in Simplified Chinese has no serious or critical axe violations", async () => {
    const { context, page, problems } = await h.newPage("zh-CN");
    try {
      await page.goto("/sample-app");
      await page.getByRole("heading", { level: 1, name: "示例应用：MuMu模拟器Pro" }).waitFor();
      await page.getByRole("button", { name: "全部拒绝" }).waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe("zh-CN");
      await page.getByTestId("sample-phone").getByText("创建您的MuMu模拟器Pro账号").waitFor();
      await axe(page, "sample app, signed out (zh-CN)");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
