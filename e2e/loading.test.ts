import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Harness, hasChromium, useHarness } from "./harness.ts";

/** The scripts a page fetches from now on, by URL path. */
function scriptsFetched(page: Page): Set<string> {
  const seen = new Set<string>();
  page.on("request", (request) => {
    if (request.resourceType() === "script") seen.add(new URL(request.url()).pathname);
  });
  return seen;
}

describe.runIf(hasChromium)("pages loaded on demand, in Chromium", () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  it("MAN-4: the privacy center's first load carries no console code; the console's arrives when it is opened", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      const scripts = scriptsFetched(page);
      await page.goto("/center");
      await page.getByRole("heading", { level: 1, name: "Your privacy center" }).waitFor();
      const atStart = new Set(scripts);
      expect(atStart.size).toBeGreaterThan(0);

      await page.getByRole("link", { name: "Console", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Staff console" }).waitFor();
      const later = [...scripts].filter((s) => !atStart.has(s));
      expect(later.length).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("MAN-4: a page whose code cannot be fetched says so in its place and offers a reload that works; the navigation stays", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      const scripts = scriptsFetched(page);
      await page.goto("/center");
      await page.getByRole("heading", { level: 1, name: "Your privacy center" }).waitFor();
      const atStart = new Set(scripts);
      // The network drops every script the center did not need (the console's).
      await page.route("**/assets/*.js", (route) =>
        atStart.has(new URL(route.request().url()).pathname) ? route.continue() : route.abort("failed"),
      );

      await page.getByRole("link", { name: "Console", exact: true }).click();
      const alert = page.getByRole("alert");
      await alert.getByText("This page could not be loaded").waitFor();
      // The shell is still there: the player can go back to the privacy center.
      await page.getByRole("link", { name: "Privacy center", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Your privacy center" }).waitFor();
      expect(await page.getByRole("alert").count()).toBe(0);

      // Back online, the reload on the failed page loads it.
      await page.goBack();
      await alert.getByText("This page could not be loaded").waitFor();
      await page.unroute("**/assets/*.js");
      await alert.getByRole("button", { name: "Reload" }).click();
      await page.getByRole("heading", { level: 1, name: "Staff console" }).waitFor();
    } finally {
      await context.close();
    }
  });

  it("MAN-4: the message is in Simplified Chinese for a Chinese page (the sample app, opened by its address)", async () => {
    const { context, page } = await h.newPage("zh-CN");
    try {
      const scripts = scriptsFetched(page);
      await page.goto("/center");
      await page.getByRole("heading", { level: 1, name: "您的隐私中心" }).waitFor();
      const atStart = new Set(scripts);
      await page.route("**/assets/*.js", (route) =>
        atStart.has(new URL(route.request().url()).pathname) ? route.continue() : route.abort("failed"),
      );
      // In-app navigation (a reload would fetch the start scripts again, which is allowed).
      await page.evaluate(() => {
        window.history.pushState({}, "", "/sample-app");
        window.dispatchEvent(new PopStateEvent("popstate"));
      });
      const alert = page.getByRole("alert");
      await alert.getByText("此页面未能加载").waitFor();
      await alert.getByRole("button", { name: "重新加载" }).waitFor();
    } finally {
      await context.close();
    }
  });
});
