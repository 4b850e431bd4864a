import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
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

/**
 * The privacy center's consent page in Chromium: sign-up with the policy box (CON-2), the page
 * grouping purposes with their legal basis (CON-1), a separate consent given through its own dialog
 * with the keyboard only (CON-4), withdrawn in one click (CON-5), receipts downloaded in both
 * formats (CON-12), and axe in English and Chinese.
 */

type Purpose = { purposeId: string; state: string; via: string | null; allowed: boolean };
type View = { policy: { state: string }; purposes: Purpose[] };

const LOCATION = "Location-based services";

describe.runIf(hasChromium)("consents page in Chromium (CON-1, CON-2, CON-4, CON-5, CON-12)", () => {
  let h: Harness;

  useHarness((started) => {
    h = started;
  });

  const myConsents = async (page: Page): Promise<View> => {
    const res = await page.request.get("/api/v1/me/consents?lang=en");
    expect(res.status()).toBe(200);
    return (await res.json()) as View;
  };
  const location = async (page: Page) =>
    (await myConsents(page)).purposes.find((p) => p.purposeId === "location-services");
  const activeText = (page: Page) => page.evaluate(() => document.activeElement?.textContent ?? "");
  const focusInDialog = (page: Page) =>
    page.evaluate(() => document.activeElement?.closest("dialog[open]") !== null);

  it("CON-2, CON-4, CON-5, CON-12: sign up with the policy box, give location in its own dialog by keyboard, withdraw in one click, download receipts", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      // Sign-up: the policy box is not pre-ticked and is required (CON-2); it says what it covers.
      await page.goto("/center/account/sign-up");
      await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
      expect(await textOf(page.getByTestId("policy-scope"))).toContain("we ask you separately");
      await sendSignUpForm(page, {
        contact: "consents.e2e@example.com",
        username: "consents_e2e",
        password: "Consents-E2e-Pass-1",
      });
      await page.getByRole("heading", { level: 1, name: "Enter your verification code" }).waitFor();
      await page.getByLabel("Verification code").fill(await latestCode(h));
      await page.getByRole("button", { name: "Verify and create account" }).click();
      await page.getByRole("heading", { level: 1, name: "Account security" }).waitFor();

      // From the privacy center's home page to the consents page.
      await page.goto("/center");
      await page.getByRole("link", { name: "Manage consents" }).click();
      await page.getByRole("heading", { level: 1, name: "Your consents" }).waitFor();
      await page.getByRole("heading", { level: 2, name: "Basic functions" }).waitFor();
      await page.getByRole("heading", { level: 2, name: "Extended functions" }).waitFor();
      // The sign-up recorded the policy acceptance: it covers policy purposes, not separate ones (CON-4).
      expect(await textOf(page.getByTestId("policy-state"))).toContain("Given");
      const card = page.getByTestId("purpose-location-services");
      expect(await card.getAttribute("data-state")).toBe("not-asked");
      expect(await textOf(card)).toContain("Your consent"); // its legal basis
      expect(await textOf(page.getByTestId("purpose-voice-interaction"))).toContain(
        "Given (through the policy)",
      );
      expect(await location(page)).toMatchObject({ state: "not-asked", allowed: false });
      expect(seriousViolations(await runAxe(page), "/center/consents (en)")).toEqual([]);

      // The separate-consent dialog, by keyboard only.
      const review = page.getByRole("button", { name: `Review and decide · ${LOCATION}` });
      await review.focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", { name: `Separate consent: ${LOCATION}` });
      await dialog.waitFor();
      expect(await dialog.getAttribute("aria-modal")).toBe("true");
      // Nothing pre-selected: focus is on the title, not on a choice.
      expect(await activeText(page)).toBe(`Separate consent: ${LOCATION}`);
      expect(await textOf(dialog)).toContain("It uses sensitive personal information");
      const sensitive = dialog.locator("[data-testid=dialog-categories] li[data-sensitive=true]");
      expect(await textOf(sensitive.first())).toContain("Precise location");
      expect(await textOf(sensitive.first())).toContain("Sensitive");
      expect(await dialog.getByTestId("dialog-recipients").locator("li").count()).toBeGreaterThan(0);
      expect(await textOf(dialog)).toContain("Only location-based features stop working");
      expect(seriousViolations(await runAxe(page), "separate-consent dialog (en)")).toEqual([]);

      // Escape closes and gives focus back; nothing was recorded.
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      expect(await activeText(page)).toBe(`Review and decide · ${LOCATION}`);
      expect(await location(page)).toMatchObject({ state: "not-asked" });

      // Open again, Tab to "I agree" (focus never leaves the dialog), press Enter.
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      for (let i = 0; i < 20 && (await activeText(page)) !== "I agree"; i++) {
        await page.keyboard.press("Tab");
        expect(await focusInDialog(page)).toBe(true);
      }
      expect(await activeText(page)).toBe("I agree");
      // The trap: past the last control, Tab wraps to the first one inside the dialog.
      await page.keyboard.press("Tab");
      expect(await focusInDialog(page)).toBe(true);
      await page.keyboard.press("Shift+Tab");
      expect(await activeText(page)).toBe("I agree");
      await page.keyboard.press("Enter");
      await dialog.waitFor({ state: "hidden" });
      await page.getByText(`You gave consent to “${LOCATION}”.`).waitFor();
      expect(await card.getAttribute("data-state")).toBe("given");
      expect(await location(page)).toMatchObject({ state: "given", via: "purpose", allowed: true });

      // Withdrawing is one click (CON-5), and applies at once.
      await page.getByRole("button", { name: `Withdraw consent · ${LOCATION}` }).click();
      await page.getByText(`You withdrew consent to “${LOCATION}”. It takes effect at once.`).waitFor();
      expect(await card.getAttribute("data-state")).toBe("withdrawn");
      expect(await location(page)).toMatchObject({ state: "withdrawn", allowed: false });

      // Receipts in both formats, downloaded as .json files (CON-12).
      const download = async (name: string) => {
        const [file] = await Promise.all([
          page.waitForEvent("download"),
          page.getByRole("link", { name }).click(),
        ]);
        return {
          name: file.suggestedFilename(),
          body: JSON.parse(await readFile(await file.path(), "utf8")) as {
            format: string;
            receipts: Record<string, unknown>[];
          },
        };
      };
      const iso = await download("Download ISO/IEC TS 27560 record (JSON)");
      expect(iso.name).toBe("consent-receipts-iso27560.json");
      expect(iso.body.format).toBe("iso27560");
      // The policy at sign-up, then given and withdrawn for location.
      expect(iso.body.receipts).toHaveLength(3);
      for (const r of iso.body.receipts)
        expect(r).toMatchObject({ schema: "ISO/IEC TS 27560:2023", notice: { version: expect.any(String) } });
      expect(iso.body.receipts.map((r) => (r.event as { type: string }).type)).toEqual([
        "given",
        "given",
        "withdrawn",
      ]);
      const kantara = await download("Download Kantara Consent Receipt v1.1 (JSON)");
      expect(kantara.name).toBe("consent-receipts-kantara.json");
      expect(kantara.body.format).toBe("kantara");
      expect(kantara.body.receipts).toHaveLength(3);
      for (const r of kantara.body.receipts)
        expect(r).toMatchObject({
          version: "KI-CR-v1.1.0",
          consentReceiptID: expect.stringMatching(/^urn:custos:consent-event:/),
          collectionMethod: "web",
        });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("CON-4: the consents page and the separate-consent dialog in zh-CN have no serious or critical axe violations", async () => {
    const { context, page, problems } = await h.newPage("zh-CN");
    try {
      await registerAccount(h, page.request, {
        contact: "consents.zh@example.com",
        username: "consents_zh",
        password: "Consents-Zh-Pass-1",
      });
      await page.goto("/center/consents");
      await page.getByRole("heading", { level: 1, name: "我的授权" }).waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe("zh-CN");
      expect(seriousViolations(await runAxe(page), "/center/consents (zh-CN)")).toEqual([]);
      await page.getByRole("button", { name: "查看并选择 · 基于位置的服务" }).click();
      const dialog = page.getByRole("dialog", { name: "单独同意：基于位置的服务" });
      await dialog.waitFor();
      expect(await textOf(dialog)).toContain("敏感");
      expect(seriousViolations(await runAxe(page), "separate-consent dialog (zh-CN)")).toEqual([]);
      await dialog.getByRole("button", { name: "我不同意" }).click();
      await dialog.waitFor({ state: "hidden" });
      await page.getByText("您已拒绝“基于位置的服务”，其他功能不受影响。").waitFor();
      expect(await page.getByTestId("purpose-location-services").getAttribute("data-state")).toBe("refused");
      // Signed out: the page asks to sign in instead of failing.
      const signedOut = await h.newPage("zh-CN");
      await signedOut.page.goto("/center/consents");
      await signedOut.page.getByText("登录后查看您的授权").waitFor();
      expect(seriousViolations(await runAxe(signedOut.page), "/center/consents signed out (zh-CN)")).toEqual(
        [],
      );
      await signedOut.context.close();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
