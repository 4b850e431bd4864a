import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, hasChromium, startHarness, textOf } from "./harness.ts";

describe.runIf(hasChromium)("staff console in Chromium (development mode)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      dev: true,
      outbox: [
        {
          channel: "email",
          to: "alex.wang@example.com",
          template: "verification-code",
          locale: "en",
          data: { code: "482913" },
        },
        {
          channel: "sms",
          to: "13812341234",
          template: "verification-code",
          locale: "zh-CN",
          data: { code: "551177" },
        },
      ],
    });
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  it("the console home says sign-in arrives with staff accounts, links its sections, and draws an accessible chart", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/console");
      await page.getByTestId("console-signin-note").waitFor();
      expect(await textOf(page.getByTestId("console-signin-note"))).toMatch(/staff accounts/);
      const sections = page.getByRole("navigation", { name: "Console sections" });
      expect(await sections.getByRole("link").allInnerTexts()).toEqual([
        "Dashboard",
        "Outbox",
        "Design system",
        "SDKs",
        "Consent report",
        "Decision report",
      ]);
      const chart = page.getByRole("img", { name: /Manifest at a glance/ });
      await chart.waitFor();
      expect(await chart.locator("rect").count()).toBe(4);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("SEC-6: the dev outbox page shows each channel's messages with masked recipients, in both languages", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/console/outbox");
      await page.getByRole("heading", { level: 1, name: "Development outbox" }).waitFor();
      const channels = page.getByRole("tablist", { name: "Channel" });
      await channels.waitFor();
      expect(await channels.getByRole("tab").allInnerTexts()).toEqual(
        expect.arrayContaining(["Email (1)", "SMS (1)"]),
      );
      await channels.getByRole("tab", { name: "Email (1)" }).click();
      const main = await textOf(page.locator("main"));
      expect(main).toContain("Your verification code");
      expect(main).not.toContain("alex.wang@example.com");
      await channels.getByRole("tab", { name: "SMS (1)" }).click();
      const sms = await textOf(page.locator("main [role=tabpanel]:not([hidden])"));
      expect(sms).toMatch(/138\*+1234/);
      expect(sms).not.toContain("13812341234");
      expect(await page.getByTestId("outbox-dev-off").count()).toBe(0);
      await page.getByLabel("Language").selectOption("zh-CN");
      await page.getByRole("heading", { level: 1, name: "开发发件箱" }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the design system page shows every component; its dialog traps focus and closes on Escape", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/console/design");
      await page.getByRole("heading", { level: 1, name: "Design system" }).waitFor();
      for (const name of ["Buttons", "Form fields", "Badges", "Alerts", "Table", "Dialog", "Tabs", "Charts"])
        await page.getByRole("heading", { level: 2, name }).waitFor();
      expect(await page.getByRole("img").count()).toBeGreaterThanOrEqual(2);

      const opener = page.getByTestId("open-dialog");
      await opener.click();
      const dialog = page.getByRole("dialog", { name: "Withdraw consent?" });
      await dialog.waitFor();
      // Tab from the last button wraps to the first focusable element inside the dialog.
      await dialog.getByRole("button", { name: "Confirm" }).focus();
      await page.keyboard.press("Tab");
      expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      expect(await opener.evaluate((el) => el === document.activeElement)).toBe(true);

      const tabs = page.getByRole("tablist", { name: "Tabs" });
      await tabs.getByRole("tab", { name: "Overview" }).focus();
      await page.keyboard.press("ArrowRight");
      expect(await tabs.getByRole("tab", { name: "History" }).getAttribute("aria-selected")).toBe("true");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("an unknown address shows the 404 page", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      await page.goto("/center/no-such-page");
      await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
      await page.getByRole("link", { name: "Go to the privacy center" }).click();
      await page.waitForURL(/\/center$/);
    } finally {
      await context.close();
    }
  });
});

describe.runIf(hasChromium)("staff console in Chromium (development mode off)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ dev: false });
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  it("the outbox page explains that development mode is off when the API answers 404", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      await page.goto("/console/outbox");
      await page.getByTestId("outbox-dev-off").waitFor();
      expect(await page.getByText("Development mode is off").count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
