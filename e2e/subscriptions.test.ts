import type { APIRequestContext } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  type Harness,
  hasChromium,
  registerAccount,
  runAxe,
  seriousViolations,
  textOf,
  useHarness,
} from "./harness.ts";

/**
 * CON-9 in the privacy center: a switch per marketing channel; unsubscribing SMS there makes a
 * marketing decision on SMS deny while email still allows; the one-click link of a marketing email
 * opens a confirmation page that unsubscribes only when its button is pressed. axe in en and zh-CN.
 */
describe.runIf(hasChromium)("marketing subscriptions in Chromium", () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  type Outbox = { messages: { template: string; channel: string; body: string }[] };
  const outbox = async (): Promise<Outbox["messages"]> =>
    ((await (await fetch(`${h.baseUrl}/api/v1/dev/outbox?limit=50`)).json()) as Outbox).messages;

  /** Registers through the API (the request context is then signed in) and returns the subject id. */
  const register = (request: APIRequestContext, contact: string, username: string) =>
    registerAccount(h, request, { contact, username, password: "Subscribe-Pass-42" });

  /** What a service would be told for a marketing message to this subject on this channel. */
  const decideMarketing = async (subjectId: string, channel: string) => {
    const [d] = await h.app.custos.consent.decideMany("e2e-marketing", [
      { subjectId, purposeId: "direct-marketing", categories: ["marketing-contacts"], channel },
    ]);
    return d;
  };

  it("CON-9: unsubscribing SMS with its switch denies marketing by SMS and still allows email (en, zh-CN, axe)", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      const subjectId = await register(page.request, "sub.scriber@example.com", "sub_scriber");
      await page.goto("/center");
      await page.getByRole("link", { name: "Manage subscriptions" }).click();
      await page.waitForURL(/\/center\/subscriptions$/);
      await page.getByRole("heading", { level: 1, name: "Promotional messages" }).waitFor();
      const cards = page.getByTestId("subscriptions");
      await cards.waitFor();
      // One switch per manifest channel, each with its own way to unsubscribe.
      expect(await page.getByRole("switch").count()).toBe(4);
      const text = await textOf(cards);
      for (const name of ["Text messages", "Email", "Push notifications", "WeChat and other social accounts"])
        expect(text).toContain(name);
      expect(text).toContain(
        "How to unsubscribe: Reply to the message as it instructs (for example with TD)",
      );
      const sms = page.getByRole("switch", { name: "Receive promotional messages by Text messages" });
      expect(await sms.isChecked()).toBe(true);
      expect(seriousViolations(await runAxe(page), "subscriptions (en)")).toEqual([]);

      expect(await decideMarketing(subjectId, "sms")).toMatchObject({ allow: true });
      await sms.click();
      await page.getByText("You are unsubscribed from Text messages.").waitFor();
      expect(await sms.isChecked()).toBe(false);
      expect(await textOf(page.locator('[data-channel="sms"]'))).toContain("Last changed");
      expect(await page.getByRole("switch", { name: /by Email$/ }).isChecked()).toBe(true);

      expect(await decideMarketing(subjectId, "sms")).toMatchObject({ allow: false, reason: "unsubscribed" });
      expect(await decideMarketing(subjectId, "email")).toMatchObject({ allow: true });

      // The same page in Simplified Chinese, with the choice kept.
      const zh = await h.browser.newContext({ baseURL: h.baseUrl, locale: "zh-CN", reducedMotion: "reduce" });
      try {
        await zh.addCookies(await context.cookies());
        const zhPage = await zh.newPage();
        await zhPage.goto("/center/subscriptions");
        await zhPage.getByRole("heading", { level: 1, name: "推广信息" }).waitFor();
        await zhPage.getByTestId("subscriptions").waitFor();
        expect(await zhPage.getByRole("switch", { name: "通过短信接收推广信息" }).isChecked()).toBe(false);
        expect(await zhPage.getByRole("switch", { name: "通过电子邮件接收推广信息" }).isChecked()).toBe(true);
        expect(await textOf(zhPage.getByTestId("subscriptions"))).toContain("退订方式：按短信提示回复");
        expect(seriousViolations(await runAxe(zhPage), "subscriptions (zh-CN)")).toEqual([]);
      } finally {
        await zh.close();
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("CON-9: the one-click link of a marketing email opens a confirmation page; only its button unsubscribes (no sign-in; en, zh-CN, axe)", async () => {
    const signUp = await h.newPage("en-US");
    const subjectId = await register(signUp.page.request, "one.click@example.com", "one_click").finally(() =>
      signUp.context.close(),
    );
    const sent = await h.app.custosSubscriptions.sendMarketing({
      subjectId,
      channel: "email",
      locale: "en",
      subject: "Spring season",
      text: "The spring season starts today.",
    });
    expect(sent.status).toBe("sent");
    const mail = (await outbox()).find((m) => m.body.includes("The spring season starts today."));
    // Not \b after it: a token ending in "-" (one in 64) has no word boundary before a newline.
    const token = /\/u\/([A-Za-z0-9_-]{72})(?![A-Za-z0-9_-])/.exec(mail?.body ?? "")?.[1];
    expect(token).toBeDefined();

    // A fresh browser, not signed in, in English: opening the link changes nothing.
    const en = await h.newPage("en-US");
    try {
      await en.page.goto(`/u/${token}`);
      await en.page.waitForURL(/\/center\/unsubscribe\//);
      const button = en.page.getByRole("button", { name: "Unsubscribe from Email" });
      await button.waitFor();
      expect(seriousViolations(await runAxe(en.page), "unsubscribe (en)")).toEqual([]);
      expect(await decideMarketing(subjectId, "email")).toMatchObject({ allow: true });
      expect(en.problems).toEqual([]);
    } finally {
      await en.context.close();
    }

    // In Simplified Chinese: confirm.
    const zh = await h.newPage("zh-CN");
    try {
      await zh.page.goto(`/u/${token}`);
      await zh.page.getByRole("heading", { level: 1, name: "退订" }).waitFor();
      expect(seriousViolations(await runAxe(zh.page), "unsubscribe (zh-CN)")).toEqual([]);
      await zh.page.getByRole("button", { name: "退订电子邮件" }).click();
      await zh.page.getByText("您已退订电子邮件").waitFor();
      expect(seriousViolations(await runAxe(zh.page), "unsubscribe done (zh-CN)")).toEqual([]);
      expect(await decideMarketing(subjectId, "email")).toMatchObject({
        allow: false,
        reason: "unsubscribed",
      });
      expect(await decideMarketing(subjectId, "sms")).toMatchObject({ allow: true });

      // A link with one character changed is refused with a clear message.
      const c = token?.[10] === "A" ? "B" : "A";
      await zh.page.goto(`/center/unsubscribe/${token?.slice(0, 10)}${c}${token?.slice(11)}`);
      await zh.page.getByText("此退订链接无法使用").waitFor();
      expect(await zh.page.getByRole("button", { name: /^退订/ }).count()).toBe(0);
      expect(zh.problems).toEqual([]);
    } finally {
      await zh.context.close();
    }
  }, 120_000);
});
