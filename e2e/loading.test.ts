import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Harness, hasChromium, useHarness } from "./harness.ts";

const SCRIPTS = "**/assets/*.js";

/**
 * Opens the privacy center home (its heading is `heading`) and returns the scripts it fetched, by
 * URL path, and those the page fetches after it (the set grows as the page goes on).
 */
async function openCenter(page: Page, heading: string): Promise<{ atStart: Set<string>; all: Set<string> }> {
  const all = new Set<string>();
  page.on("request", (request) => {
    if (request.resourceType() === "script") all.add(new URL(request.url()).pathname);
  });
  await page.goto("/center");
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  return { atStart: new Set(all), all };
}

/** From now on the network drops every script but those in `kept`. */
async function dropScriptsBut(page: Page, kept: ReadonlySet<string>): Promise<void> {
  await page.route(SCRIPTS, (route) =>
    kept.has(new URL(route.request().url()).pathname) ? route.continue() : route.abort("failed"),
  );
}

describe.runIf(hasChromium)("pages loaded on demand, in Chromium", () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  it("MAN-4: the privacy center's first load carries no console code; the console's arrives when it is opened", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      const { atStart, all } = await openCenter(page, "Your privacy center");
      expect(atStart.size).toBeGreaterThan(0);

      await page.getByRole("link", { name: "Console", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Staff console" }).waitFor();
      const later = [...all].filter((s) => !atStart.has(s));
      expect(later.length).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("MAN-4: a page whose code cannot be fetched says so in its place and offers a reload that works; the navigation stays", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      const { atStart } = await openCenter(page, "Your privacy center");
      // The network drops every script the center did not need (the console's).
      await dropScriptsBut(page, atStart);

      await page.getByRole("link", { name: "Console", exact: true }).click();
      const alert = page.getByRole("alert");
      await alert.getByText("This page could not be shown").waitFor();
      // The shell is still there: the player can go back to the privacy center.
      await page.getByRole("link", { name: "Privacy center", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Your privacy center" }).waitFor();
      expect(await page.getByRole("alert").count()).toBe(0);

      // Back online, the reload on the failed page loads it.
      await page.goBack();
      await alert.getByText("This page could not be shown").waitFor();
      await page.unroute(SCRIPTS);
      await alert.getByRole("button", { name: "Reload" }).click();
      await page.getByRole("heading", { level: 1, name: "Staff console" }).waitFor();
    } finally {
      await context.close();
    }
  });

  it("MAN-4: the message is in Simplified Chinese for a Chinese page (the sample app, opened by its address)", async () => {
    const { context, page } = await h.newPage("zh-CN");
    try {
      const { atStart } = await openCenter(page, "您的隐私中心");
      await dropScriptsBut(page, atStart);
      // In-app navigation (a reload would fetch the start scripts again, which is allowed).
      await page.evaluate(() => {
        window.history.pushState({}, "", "/sample-app");
        window.dispatchEvent(new PopStateEvent("popstate"));
      });
      const alert = page.getByRole("alert");
      await alert.getByText("此页面无法显示").waitFor();
      await alert.getByRole("button", { name: "重新加载" }).waitFor();
    } finally {
      await context.close();
    }
  });
});
