import { sql } from "kysely";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, hasChromium, runAxe, seriousViolations, startHarness } from "./harness.ts";

/** Requests for the demo page's analytics tag, and what the tags left on <html>. */
function watchTags(page: Page): { analyticsRequests: string[] } {
  const analyticsRequests: string[] = [];
  page.on("request", (req) => {
    if (req.url().includes("/banner/demo/analytics.js")) analyticsRequests.push(req.url());
  });
  return { analyticsRequests };
}

const ran = (page: Page) =>
  page.evaluate(() => ({
    analytics: document.documentElement.dataset.analytics ?? null,
    advertising: document.documentElement.dataset.advertising ?? null,
    identity: document.documentElement.dataset.identity ?? null,
  }));

/** Wait until the banner has applied the configuration (identity tags run once it has). */
const bannerReady = (page: Page) =>
  page.waitForFunction(() => document.documentElement.dataset.identity === "ran");

describe.runIf(hasChromium)("consent banner in the browser (CON-2, CON-11)", () => {
  let h: Harness;
  const rows = async () =>
    (
      await sql<{
        consent_id: string;
        analytics: boolean;
        advertising: boolean;
        gpc: boolean;
        action: string;
      }>`
        select consent_id, analytics, advertising, gpc, action from banner_choices order by id`.execute(
        h.app.custos.db,
      )
    ).rows;

  beforeAll(async () => {
    h = await startHarness();
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  it("CON-2: a tagged analytics script does not run before consent and runs after Accept all", async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const tags = watchTags(page);
      await page.goto("/banner/demo");
      const dialog = page.getByRole("dialog", { name: "Cookies on this site" });
      await dialog.waitFor();
      await bannerReady(page);
      // Focus is moved into the banner; Accept and Reject are equally prominent (same style).
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("CUSTOS-CONSENT-BANNER");
      const accept = dialog.getByRole("button", { name: "Accept all" });
      const reject = dialog.getByRole("button", { name: "Reject all" });
      expect(await accept.getAttribute("class")).toBe(await reject.getAttribute("class"));
      expect(await ran(page)).toEqual({ analytics: null, advertising: null, identity: "ran" });
      expect(tags.analyticsRequests).toEqual([]);

      await accept.click();
      await page.waitForFunction(() => document.documentElement.dataset.analytics === "1");
      expect(await ran(page)).toEqual({ analytics: "1", advertising: "ran", identity: "ran" });
      await expect.poll(async () => (await rows()).at(-1)?.action).toBe("accept-all");
      expect((await rows()).at(-1)).toMatchObject({ analytics: true, advertising: true, gpc: false });
      // The choice is remembered: on the next page the tag runs at once and only the re-open button shows.
      await page.reload();
      await page.waitForFunction(() => document.documentElement.dataset.analytics === "1");
      await page.getByRole("button", { name: "Cookie settings" }).waitFor();
      expect(await page.getByRole("dialog").count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("CON-2: after Reject all the tag stays blocked; choices can be changed later with the keyboard", async () => {
    const { context, page, problems } = await h.newPage();
    try {
      const tags = watchTags(page);
      await page.goto("/banner/demo");
      await bannerReady(page);
      // Keyboard only: Tab from the dialog past the policy link and Accept all to Reject all.
      for (let i = 0; i < 3; i++) await page.keyboard.press("Tab");
      expect(
        await page.evaluate(
          () => document.querySelector("custos-consent-banner")?.shadowRoot?.activeElement?.textContent,
        ),
      ).toBe("Reject all");
      await page.keyboard.press("Enter");
      const reopen = page.getByRole("button", { name: "Cookie settings" });
      await reopen.waitFor();
      await expect.poll(async () => (await rows()).at(-1)?.action).toBe("reject-all");
      await page.reload();
      await bannerReady(page);
      expect(await ran(page)).toEqual({ analytics: null, advertising: null, identity: "ran" });
      expect(tags.analyticsRequests).toEqual([]);

      // Re-open, choose analytics only, save.
      await reopen.focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog");
      await dialog.getByRole("button", { name: "Choose" }).click();
      const identity = dialog.getByRole("switch", { name: /Remembering who you are/ });
      expect(await identity.isChecked()).toBe(true);
      expect(await identity.isDisabled()).toBe(true);
      const analytics = dialog.getByRole("switch", { name: /Analysing use/ });
      expect(await analytics.isChecked()).toBe(false);
      // Focus went to the first switchable category.
      expect(await analytics.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(
        true,
      );
      await page.keyboard.press("Space");
      await dialog.getByRole("button", { name: "Save my choices" }).click();
      await page.waitForFunction(() => document.documentElement.dataset.analytics === "1");
      expect((await ran(page)).advertising).toBeNull();
      // Focus returns to the re-open button it came from.
      expect(await reopen.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
      // The banner logs the choice in the background: wait for it to arrive.
      await expect
        .poll(async () => (await rows()).at(-1))
        .toMatchObject({ analytics: true, advertising: false, action: "save" });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it("CON-11: with navigator.globalPrivacyControl the tags never run and the banner says the signal was honoured", async () => {
    const { context, page, problems } = await h.newPage();
    try {
      await context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });
      });
      const tags = watchTags(page);
      await page.goto("/banner/demo");
      const dialog = page.getByRole("dialog");
      await dialog.getByText("Global Privacy Control").waitFor();
      await bannerReady(page);
      expect(await dialog.getByRole("button", { name: "Accept all" }).count()).toBe(0);
      await expect.poll(async () => (await rows()).at(-1)?.action).toBe("gpc");
      expect((await rows()).at(-1)).toMatchObject({ analytics: false, advertising: false, gpc: true });

      await dialog.getByRole("button", { name: "Choose" }).click();
      const analytics = dialog.getByRole("switch", { name: /Analysing use/ });
      expect(await analytics.isDisabled()).toBe(true);
      expect(await analytics.isChecked()).toBe(false);
      // Even a stored opt-in from before cannot switch the tags on while the signal is on.
      await page.evaluate(() => {
        const s = JSON.parse(localStorage.getItem("custos-consent") ?? "{}");
        s.c = { analytics: true, advertising: true };
        localStorage.setItem("custos-consent", JSON.stringify(s));
      });
      await page.reload();
      await bannerReady(page);
      expect(await ran(page)).toEqual({ analytics: null, advertising: null, identity: "ran" });
      expect(tags.analyticsRequests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  for (const lang of ["en", "zh-CN"] as const) {
    it(`CON-11: the banner in ${lang} has no serious or critical axe violations (both views)`, async () => {
      const { context, page, problems } = await h.newPage(lang === "en" ? "en-US" : "zh-CN");
      try {
        await page.goto(`/banner/demo?lang=${lang}`);
        const title = lang === "en" ? "Cookies on this site" : "本网站使用 Cookie";
        const dialog = page.getByRole("dialog", { name: title });
        await dialog.waitFor();
        await bannerReady(page);
        const failures = seriousViolations(await runAxe(page), `banner main (${lang})`).map((v) => v.id);
        await dialog.getByRole("button", { name: lang === "en" ? "Choose" : "自行选择" }).press("Enter");
        await dialog.getByRole("switch").first().waitFor();
        failures.push(...seriousViolations(await runAxe(page), `banner choose (${lang})`).map((v) => v.id));
        // Visible focus: the focused switch has an outline.
        const outline = await page.evaluate(() => {
          const el = document.querySelector("custos-consent-banner")?.shadowRoot?.activeElement;
          return el ? getComputedStyle(el).outlineStyle : "none";
        });
        expect(outline).not.toBe("none");
        expect(failures).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    }, 60_000);
  }
});
