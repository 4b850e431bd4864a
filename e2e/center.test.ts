import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultManifestWith, type Harness, hasChromium, startHarness, textOf } from "./harness.ts";

type PiList = {
  version: string;
  categories: { id: string; name: string; sensitive: boolean; storage?: string }[];
};
type TpList = { recipients: { id: string; name: string; enabled: boolean }[] };

const SWITCHED_OFF = "sdk-advertising";

const htmlLang = (page: Page) => page.evaluate(() => document.documentElement.lang);
const h1 = (page: Page) => page.locator("main h1").first();

describe.runIf(hasChromium)("privacy center in Chromium", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ manifest: await defaultManifestWith({ disableRecipients: [SWITCHED_OFF] }) });
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${h.baseUrl}${path}`);
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  it("MAN-4: /center opens in English and switches to 简体中文: texts, html lang and API language change, and the choice is remembered", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center");
      await h1(page).waitFor();
      expect(await textOf(h1(page))).toBe("Your privacy center");
      expect(await htmlLang(page)).toBe("en");
      const docs = page.getByTestId("policy-documents");
      await docs.locator("li").first().waitFor();
      const englishTitles = await docs.locator("h3").allInnerTexts();
      expect(englishTitles.length).toBeGreaterThanOrEqual(3);

      await page.getByLabel("Language").selectOption("zh-CN");
      await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
      await page.getByRole("heading", { level: 1, name: "您的隐私中心" }).waitFor();
      expect(await textOf(page.getByRole("navigation", { name: "主导航" }))).toContain("隐私中心");
      // Document titles come from the API, asked for with ?lang=zh-CN.
      await docs
        .getByRole("link", { name: /隐私政策$/ })
        .first()
        .waitFor();
      const chineseTitles = await docs.locator("h3").allInnerTexts();
      expect(chineseTitles).not.toEqual(englishTitles);

      await page.reload();
      await page.getByRole("heading", { level: 1, name: "您的隐私中心" }).waitFor();
      expect(await htmlLang(page)).toBe("zh-CN");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("MAN-4: a browser that prefers Chinese starts in Simplified Chinese", async () => {
    const { context, page } = await h.newPage("zh-TW");
    try {
      await page.goto("/center");
      await page.getByRole("heading", { level: 1, name: "您的隐私中心" }).waitFor();
      expect(await htmlLang(page)).toBe("zh-CN");
    } finally {
      await context.close();
    }
  });

  it("MAN-4: the privacy policy shows its sections and version, and its download link returns the HTML document", async () => {
    const versions = await api<{ versions: { version: string; current: boolean }[] }>(
      "/api/v1/policy/versions",
    );
    const current = versions.versions.find((v) => v.current)?.version;
    expect(current).toBeTruthy();
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center/policy/privacy-policy");
      const doc = page.getByTestId("policy-document");
      await doc.waitFor();
      expect(await doc.locator("h2").count()).toBeGreaterThanOrEqual(3);
      expect(await textOf(doc)).toMatch(/sensitive/i);
      expect(await page.getByTestId("version-picker").inputValue()).toBe(current);

      const href = await page.getByTestId("download-html").getAttribute("href");
      expect(href).toBe(`/policy/${current}/privacy-policy.en.html`);
      const download = await page.request.get(href ?? "");
      expect(download.status()).toBe(200);
      expect(download.headers()["content-type"]).toMatch(/text\/html/);
      expect(await download.text()).toMatch(/<html[^>]*lang="en"/);

      await page.getByLabel("Language").selectOption("zh-CN");
      await page.waitForFunction(
        () =>
          document
            .querySelector("[data-testid=download-html]")
            ?.getAttribute("href")
            ?.includes(".zh-CN.html") ?? false,
      );
      await doc.waitFor();
      expect(await doc.getAttribute("lang")).toBe("zh-CN");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("MAN-4: a version that was never published shows the server's message and request id", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      await page.goto("/center/policy/privacy-policy?version=1999-01-01");
      const alert = page.getByRole("alert");
      await alert.waitFor();
      const text = await textOf(alert);
      const response = await fetch(
        `${h.baseUrl}/api/v1/policy/documents/privacy-policy?lang=en&version=1999-01-01`,
      );
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: { message: string } };
      expect(text).toContain(body.error.message);
      expect(text).toMatch(/Request ID: \S+/);
    } finally {
      await context.close();
    }
  });

  it("MAN-4: an unknown document id shows a clear not-found state", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      await page.goto("/center/policy/no-such-document");
      await page.getByText("Document not found").waitFor();
    } finally {
      await context.close();
    }
  });

  it("MAN-7: the Collected Personal Information List highlights sensitive categories with necessity and impact, and shows the clipboard as device-only", async () => {
    const list = await api<PiList>("/api/v1/policy/personal-information?lang=en");
    const sensitive = list.categories.filter((c) => c.sensitive);
    const deviceOnly = list.categories.filter((c) => c.storage === "device-only");
    expect(sensitive.length).toBeGreaterThan(0);
    const clipboard = deviceOnly.find((c) => /clipboard/i.test(c.name));
    expect(clipboard).toBeDefined();

    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center/personal-information");
      const cards = page.getByTestId("pi-cards");
      await cards.waitFor();
      expect(await cards.locator(":scope > li").count()).toBe(list.categories.length);
      const highlighted = cards.locator(":scope > li.ui-card--highlight");
      expect(await highlighted.count()).toBe(sensitive.length);
      for (const c of sensitive) {
        const card = cards.locator(":scope > li", { has: page.getByTestId(`pi-${c.id}`) });
        expect(await textOf(card.locator(".ui-badge--sensitive"))).toBe("Sensitive");
        const text = await textOf(card);
        expect(text).toContain("Why it is needed");
        expect(text).toContain("Effect on you");
      }
      const clip = cards.locator(":scope > li", { has: page.getByTestId(`pi-${clipboard?.id}`) });
      expect(await textOf(clip)).toContain("Stays on your device");
      expect(await textOf(clip)).toContain("never stored on our servers");
      expect(await clip.locator(".ui-badge--sensitive").count()).toBe(clipboard?.sensitive ? 1 : 0);

      await page.getByLabel("Sensitivity").selectOption("sensitive");
      await page.waitForFunction(
        (n) => document.querySelectorAll("[data-testid=pi-cards] > li").length === n,
        sensitive.length,
      );
      expect(await cards.locator(":scope > li:not(.ui-card--highlight)").count()).toBe(0);

      await page.getByRole("tab", { name: "Table" }).click();
      const table = page.getByRole("table", { name: "Personal information by kind" });
      await table.waitFor();
      expect(await table.locator("tbody tr.is-highlight").count()).toBe(sensitive.length);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("MAN-4: the third-party list lists every recipient, marks switched-off ones, and its search filters", async () => {
    const list = await api<TpList>("/api/v1/policy/third-parties?lang=en");
    expect(list.recipients.length).toBeGreaterThan(1);
    expect(list.recipients.find((r) => r.id === SWITCHED_OFF)?.enabled).toBe(false);

    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center/third-parties");
      const table = page.getByRole("table", { name: "Recipients of personal information" });
      await table.waitFor();
      const rows = table.locator("tbody tr");
      expect(await rows.count()).toBe(list.recipients.length);
      const off = page.getByTestId(`tp-disabled-${SWITCHED_OFF}`);
      expect(await textOf(off)).toContain("Switched off");
      expect(await table.locator("tbody tr.is-muted").count()).toBe(1);

      const target = list.recipients.find((r) => r.id === "sdk-payment") ?? list.recipients[0];
      await page.getByLabel("Search recipients").fill(target?.name ?? "");
      await page.waitForFunction(
        (n) => document.querySelectorAll("table tbody tr").length < n,
        list.recipients.length,
      );
      const names = await table.locator("tbody th").allInnerTexts();
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.toLowerCase().includes((target?.name ?? "").toLowerCase()))).toBe(true);

      await page.getByLabel("Search recipients").fill("zzz-no-such-recipient");
      await page.getByText("No recipient matches").waitFor();
      await page.getByRole("button", { name: "Clear search" }).click();
      await page.waitForFunction(
        (n) => document.querySelectorAll("table tbody tr").length === n,
        list.recipients.length,
      );
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("keyboard: the first Tab reaches the skip link, which moves focus to the main content; the language switch is reachable", async () => {
    const { context, page } = await h.newPage("en-US");
    try {
      await page.goto("/center");
      await h1(page).waitFor();
      await page.waitForFunction(() => document.querySelectorAll(".ui-state").length === 0);
      // Nothing has focus on a freshly opened page: the first Tab starts from the top of the document.
      expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to main content");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.activeElement?.id === "main-content");

      await page.goto("/center");
      await h1(page).waitFor();
      await page.waitForFunction(() => document.querySelectorAll(".ui-state").length === 0);
      let reached = false;
      for (let i = 0; i < 15 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(
          () => (document.activeElement as HTMLElement | null)?.dataset.testid === "language-switch",
        );
      }
      expect(reached).toBe(true);
      // The focused switch is labelled for screen readers.
      expect(await page.getByLabel("Language").evaluate((el) => el === document.activeElement)).toBe(true);
    } finally {
      await context.close();
    }
  });
});
