import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Replies to marketing text messages (CON-9): which replies unsubscribe, and how the SMS gateway's
 * inbound webhook is authenticated. Pure functions, no I/O.
 */

/** Replies that unsubscribe from marketing SMS, as the manifest's SMS unsubscribe text promises. */
export const UNSUBSCRIBE_REPLIES = ["TD", "T", "STOP", "UNSUBSCRIBE", "退订"] as const;

/**
 * Whether a reply asks to unsubscribe: one of the keywords, ignoring letter case, white space
 * anywhere, invisible format characters, surrounding punctuation, and full-width forms
 * (`ＴＤ`, `ｓｔｏｐ`, which NFKC folds to ASCII). Anything else ("TD please", "STOPPED") is not.
 */
export function isUnsubscribeReply(text: string): boolean {
  if (text.length > 200) return false;
  const folded = text
    .normalize("NFKC")
    .replace(/[\s\p{Z}\p{Cf}]/gu, "")
    .replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, "")
    .toUpperCase();
  return (UNSUBSCRIBE_REPLIES as readonly string[]).includes(folded);
}

/** The header carrying the gateway's signature: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const SMS_SIGNATURE_HEADER = "x-custos-signature";

/** The signature value for `rawBody` (what the gateway sends, and what tests sign with). */
export function signWebhookBody(secret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

/** Whether `header` is the right signature of `rawBody` under `secret` (constant-time compare). */
export function isValidWebhookSignature(
  secret: string,
  rawBody: Buffer,
  header: string | string[] | undefined,
): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(value?.trim() ?? "");
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1].toLowerCase(), "hex");
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  return timingSafeEqual(given, expected);
}
