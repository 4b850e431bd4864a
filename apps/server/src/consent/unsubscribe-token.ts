import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed one-click unsubscribe tokens (CON-9, RFC 8058). A token names a subject, a marketing
 * channel and when it was issued, and nothing else: no address, no name, so a link in a mail log or
 * a proxy log reveals no personal information. It is authenticated by HMAC-SHA256 under a server
 * key, so it cannot be forged or altered, and it expires (a year by default).
 *
 * Layout (base64url, no padding, 72 characters):
 *   version (1 byte = 1) | subject id (16 bytes, the UUID) | channel (1 byte) |
 *   issued at (4 bytes, seconds since the Unix epoch, big-endian) | HMAC-SHA256 of the 22 bytes before (32 bytes)
 */

/** The marketing channels a token can name, in a fixed order (their byte in the token). */
export const TOKEN_CHANNELS = ["sms", "email", "push", "social"] as const;
export type TokenChannel = (typeof TOKEN_CHANNELS)[number];

const VERSION = 1;
const BODY_BYTES = 1 + 16 + 1 + 4;
const MAC_BYTES = 32;
export const UNSUBSCRIBE_TOKEN_RE = /^[A-Za-z0-9_-]{72}$/;

/** How long a link in a sent message keeps working. */
export const DEFAULT_TOKEN_TTL_MS = 365 * 24 * 60 * 60 * 1000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type UnsubscribeClaims = { subjectId: string; channel: TokenChannel; issuedAt: Date };

export type TokenCheck =
  | ({ ok: true } & UnsubscribeClaims)
  | { ok: false; reason: "malformed" | "signature" | "expired" };

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac("sha256", key).update(body).digest();
}

/** Signs a token for `subjectId` and `channel`, issued at `issuedAt`. */
export function signUnsubscribeToken(key: Buffer, claims: UnsubscribeClaims): string {
  if (key.length < 32) throw new Error("an unsubscribe token key needs at least 32 bytes");
  if (!UUID_RE.test(claims.subjectId)) throw new Error("an unsubscribe token names a subject by its UUID");
  const channel = TOKEN_CHANNELS.indexOf(claims.channel);
  if (channel < 0) throw new Error(`no marketing channel "${claims.channel}"`);
  const seconds = Math.floor(claims.issuedAt.getTime() / 1000);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff)
    throw new Error("the issue time of an unsubscribe token is out of range");
  const body = Buffer.alloc(BODY_BYTES);
  body.writeUInt8(VERSION, 0);
  Buffer.from(claims.subjectId.replaceAll("-", ""), "hex").copy(body, 1);
  body.writeUInt8(channel, 17);
  body.writeUInt32BE(seconds, 18);
  return Buffer.concat([body, mac(key, body)]).toString("base64url");
}

/**
 * Checks a token: well formed, signed with `key`, and not older than `maxAgeMs` at `now` (nor issued
 * in the future beyond a minute of clock skew). Never throws.
 */
export function verifyUnsubscribeToken(
  key: Buffer,
  token: string,
  now: Date,
  maxAgeMs: number = DEFAULT_TOKEN_TTL_MS,
): TokenCheck {
  if (!UNSUBSCRIBE_TOKEN_RE.test(token)) return { ok: false, reason: "malformed" };
  const bytes = Buffer.from(token, "base64url");
  // A string of the right length may still decode differently (non-canonical base64url).
  if (bytes.length !== BODY_BYTES + MAC_BYTES || bytes.toString("base64url") !== token)
    return { ok: false, reason: "malformed" };
  const body = bytes.subarray(0, BODY_BYTES);
  if (!timingSafeEqual(bytes.subarray(BODY_BYTES), mac(key, body))) return { ok: false, reason: "signature" };
  // Checked after the signature: only tokens we issued get this far.
  const channel = TOKEN_CHANNELS[body.readUInt8(17)];
  if (body.readUInt8(0) !== VERSION || channel === undefined) return { ok: false, reason: "malformed" };
  const hex = body.subarray(1, 17).toString("hex");
  const subjectId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const issuedAt = new Date(body.readUInt32BE(18) * 1000);
  const age = now.getTime() - issuedAt.getTime();
  if (age > maxAgeMs || age < -60_000) return { ok: false, reason: "expired" };
  return { ok: true, subjectId, channel, issuedAt };
}
