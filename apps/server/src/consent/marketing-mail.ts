import type { Language } from "@custos/manifest";

/**
 * What every marketing message carries so that it can be left in one step (CON-9):
 *  - an email has RFC 2369 `List-Unsubscribe` (an HTTPS one-click link and a mailto fallback) and
 *    RFC 8058 `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and the same link in its footer;
 *  - a text message ends with how to reply to unsubscribe.
 * Pure: the caller signs the token and sends the result through the notifier.
 */

/** The path of a one-click unsubscribe link (`POST` unsubscribes, `GET` shows a confirmation page). */
export const UNSUBSCRIBE_PATH = "/u";

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, "")}${UNSUBSCRIBE_PATH}/${token}`;
}

/** The bare address of a From value such as `Custos <privacy@example.com>`. */
export function mailboxOf(from: string): string {
  return (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim();
}

export type MarketingEmail = {
  subject: string;
  text: string;
  headers: { "List-Unsubscribe": string; "List-Unsubscribe-Post": string };
};

const FOOTER: Record<Language, (link: string, center: string) => string> = {
  en: (link, center) =>
    `You receive this because you agreed to promotional email from us.\nUnsubscribe with one click: ${link}\nManage every subscription in the privacy center: ${center}`,
  "zh-CN": (link, center) =>
    `您收到此邮件是因为您同意接收我们的推广邮件。\n一键退订：${link}\n在隐私中心管理全部订阅：${center}`,
};

/** A marketing email: the caller's subject and text, the unsubscribe footer, and the list headers. */
export function buildMarketingEmail(input: {
  publicUrl: string;
  mailFrom: string;
  token: string;
  locale: Language;
  subject: string;
  text: string;
}): MarketingEmail {
  const link = unsubscribeUrl(input.publicUrl, input.token);
  const center = `${input.publicUrl.replace(/\/+$/, "")}/center/subscriptions`;
  const mailto = `mailto:${mailboxOf(input.mailFrom)}?subject=unsubscribe`;
  return {
    subject: input.subject,
    text: `${input.text.trimEnd()}\n\n--\n${FOOTER[input.locale](link, center)}`,
    headers: {
      "List-Unsubscribe": `<${link}>, <${mailto}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
}

const SMS_FOOTER: Record<Language, string> = { en: "Reply TD to unsubscribe", "zh-CN": "回复TD退订" };

/** A marketing text message ends with how to reply to unsubscribe. */
export function buildMarketingSms(input: { locale: Language; text: string }): string {
  return `${input.text.trim()} ${SMS_FOOTER[input.locale]}`;
}

/** The text confirming an unsubscription by SMS reply. */
export const SMS_UNSUBSCRIBED: Record<Language, { title: string; body: string }> = {
  en: {
    title: "Unsubscribed",
    body: "You have unsubscribed from our marketing text messages. You can subscribe again in the privacy center.",
  },
  "zh-CN": {
    title: "退订成功",
    body: "您已退订我们的营销短信。如需重新订阅，请前往隐私中心。",
  },
};
