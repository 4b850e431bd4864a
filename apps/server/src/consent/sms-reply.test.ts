import { describe, expect, it } from "vitest";
import { isUnsubscribeReply, isValidWebhookSignature, signWebhookBody } from "./sms-reply.ts";

describe("SMS unsubscribe replies (CON-9)", () => {
  it("CON-9: TD, T, STOP, UNSUBSCRIBE and 退订 unsubscribe, in any case, spacing or full-width form", () => {
    for (const text of [
      "TD",
      "td",
      " Td ",
      "t",
      "T",
      "STOP",
      "stop",
      "Stop\n",
      "UNSUBSCRIBE",
      "unsubscribe",
      "退订",
      " 退 订 ",
      "ＴＤ", // full-width letters
      "ｔｄ",
      "ＳＴＯＰ",
      "\u3000ＴＤ\u3000", // ideographic spaces
      "T D",
      "TD.",
      "退订。",
      "STOP!",
      "T\u200bD", // a zero-width space
    ])
      expect(isUnsubscribeReply(text), JSON.stringify(text)).toBe(true);
  });

  it("CON-9: other texts are not an unsubscribe", () => {
    for (const text of [
      "",
      "   ",
      "hello",
      "TD please",
      "STOPPED",
      "DON'T STOP",
      "退订吗？不",
      "订阅",
      "TDD",
      "Y",
      "1",
      "T".repeat(300),
    ])
      expect(isUnsubscribeReply(text), JSON.stringify(text)).toBe(false);
  });

  it("CON-9: the webhook signature is HMAC-SHA256 of the exact raw body", () => {
    const secret = "a-shared-secret-of-at-least-thirty-two-chars";
    const body = Buffer.from(
      JSON.stringify({ from: "13800138000", text: "TD", receivedAt: "2025-04-01T08:00:00Z" }),
    );
    const header = signWebhookBody(secret, body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(isValidWebhookSignature(secret, body, header)).toBe(true);
    expect(isValidWebhookSignature(secret, body, header.toUpperCase().replace("SHA256=", "sha256="))).toBe(
      true,
    );
    expect(isValidWebhookSignature(secret, Buffer.concat([body, Buffer.from(" ")]), header)).toBe(false);
    expect(isValidWebhookSignature(`${secret}x`, body, header)).toBe(false);
    expect(isValidWebhookSignature(secret, body, undefined)).toBe(false);
    expect(isValidWebhookSignature(secret, body, "sha256=abc")).toBe(false);
    expect(isValidWebhookSignature(secret, body, header.replace("sha256=", ""))).toBe(false);
  });
});
