import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_TOKEN_TTL_MS,
  signUnsubscribeToken,
  UNSUBSCRIBE_TOKEN_RE,
  verifyUnsubscribeToken,
} from "./unsubscribe-token.ts";

const key = randomBytes(32);
const subjectId = "0195f3a2-7c41-7d2e-9a10-3b5c6d7e8f90";
const issuedAt = new Date("2025-04-01T08:00:00Z");

describe("one-click unsubscribe tokens (CON-9)", () => {
  it("CON-9: a token round-trips subject, channel and issue time, and holds no personal information", () => {
    const token = signUnsubscribeToken(key, { subjectId, channel: "email", issuedAt });
    expect(token).toMatch(UNSUBSCRIBE_TOKEN_RE);
    expect(verifyUnsubscribeToken(key, token, new Date("2025-04-02T00:00:00Z"))).toEqual({
      ok: true,
      subjectId,
      channel: "email",
      issuedAt,
    });
    // Only the subject id, a channel byte and a time under the signature: nothing readable as text.
    // (The 32 signature bytes are random-looking and may hold any byte, "@" included: not checked.)
    const raw = Buffer.from(token, "base64url");
    const signed = raw.subarray(0, raw.length - 32);
    expect(signed.length).toBe(1 + 16 + 1 + 4);
    expect(signed.toString("latin1")).not.toMatch(/@|email|[0-9]{7,}/);
    const sms = signUnsubscribeToken(key, { subjectId, channel: "sms", issuedAt });
    expect(verifyUnsubscribeToken(key, sms, issuedAt)).toMatchObject({ ok: true, channel: "sms" });
  });

  it("CON-9: any changed character, another key, or a cut token is refused", () => {
    const token = signUnsubscribeToken(key, { subjectId, channel: "email", issuedAt });
    for (const i of [0, 5, 20, 29, 40, 71]) {
      const c = token[i] === "A" ? "B" : "A";
      const tampered = `${token.slice(0, i)}${c}${token.slice(i + 1)}`;
      expect(verifyUnsubscribeToken(key, tampered, issuedAt).ok, `position ${i}`).toBe(false);
    }
    expect(verifyUnsubscribeToken(randomBytes(32), token, issuedAt)).toEqual({
      ok: false,
      reason: "signature",
    });
    expect(verifyUnsubscribeToken(key, token.slice(0, 60), issuedAt)).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(verifyUnsubscribeToken(key, `${token}=`, issuedAt)).toEqual({ ok: false, reason: "malformed" });
    expect(verifyUnsubscribeToken(key, "", issuedAt)).toEqual({ ok: false, reason: "malformed" });
  });

  it("CON-9: the channel in a token cannot be swapped (sms for email) without breaking the signature", () => {
    const email = Buffer.from(
      signUnsubscribeToken(key, { subjectId, channel: "email", issuedAt }),
      "base64url",
    );
    email.writeUInt8(0, 17); // the sms channel byte
    expect(verifyUnsubscribeToken(key, email.toString("base64url"), issuedAt)).toEqual({
      ok: false,
      reason: "signature",
    });
  });

  it("CON-9: a token expires after its lifetime (a year by default) and is not accepted from the future", () => {
    const token = signUnsubscribeToken(key, { subjectId, channel: "email", issuedAt });
    const at = (ms: number) => new Date(issuedAt.getTime() + ms);
    expect(verifyUnsubscribeToken(key, token, at(DEFAULT_TOKEN_TTL_MS - 1000)).ok).toBe(true);
    expect(verifyUnsubscribeToken(key, token, at(DEFAULT_TOKEN_TTL_MS + 1000))).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(verifyUnsubscribeToken(key, token, at(3_600_000), 60_000)).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(verifyUnsubscribeToken(key, token, at(-3_600_000))).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses to sign with a short key or for a non-UUID subject", () => {
    expect(() => signUnsubscribeToken(randomBytes(16), { subjectId, channel: "email", issuedAt })).toThrow(
      /32 bytes/,
    );
    expect(() =>
      signUnsubscribeToken(key, { subjectId: "someone@example.com", channel: "email", issuedAt }),
    ).toThrow(/UUID/);
  });
});
