import { randomInt, timingSafeEqual } from "node:crypto";
import { AppError, type Clock, maskEmail, maskPhone, newId } from "@custos/core";
import type { Language } from "@custos/manifest";
import { type CodeChannel, type CodePurpose, createOtpRepo, type DB, type Vault } from "@custos/store";
import type { Kysely } from "kysely";
import type { Notifier } from "../notifications/notifier.ts";
import { message } from "./account-messages.ts";

/**
 * One-time codes (ACC-1, ACC-3): 6 digits, 10 minutes, 5 wrong attempts kill the code, a resend
 * cool-down and an hourly cap per target. Only a keyed hash (vault blind index, so a database copy
 * alone cannot brute-force it) of the code is stored; the target and any payload are sealed.
 */

export const CODE_TTL_MINUTES = 10;
export const CODE_MAX_ATTEMPTS = 5;
export const RESEND_COOLDOWN_SECONDS = 60;
export const MAX_CODES_PER_HOUR = 5;

type Deps = {
  db: Kysely<DB>;
  vault: Pick<Vault, "blindIndex" | "sealSystem" | "openSystem">;
  notifier: Pick<Notifier, "send">;
  clock: Clock;
};

export type IssuedCode = {
  verificationId: string;
  channel: CodeChannel;
  expiresAt: Date;
  resendAfterSeconds: number;
  /** The masked address the code went to (e.g. 138****5678). */
  sentTo: string;
};

export type VerifiedCode = { id: string; purpose: CodePurpose; subjectId: string | null; payload?: string };

export function createOtpService({ db, vault, notifier, clock }: Deps) {
  const codes = createOtpRepo(db);
  const targetIndex = (channel: CodeChannel, to: string) => vault.blindIndex(`otp-target-${channel}`, to);
  const codeHash = (id: string, code: string) => vault.blindIndex("otp-code", `${id}:${code}`);

  const service = {
    /** Sends a fresh code; earlier unused codes for the same purpose and target stop working. */
    async issue(input: {
      purpose: CodePurpose;
      channel: CodeChannel;
      to: string;
      subjectId?: string | null;
      payload?: string;
      locale: Language;
    }): Promise<IssuedCode> {
      const now = clock.now();
      const index = await targetIndex(input.channel, input.to);
      const recent = await codes.sentSince(index, new Date(now.getTime() - 3600_000));
      const last = recent[0];
      if (last && now.getTime() - last.getTime() < RESEND_COOLDOWN_SECONDS * 1000) {
        const seconds = Math.ceil((last.getTime() + RESEND_COOLDOWN_SECONDS * 1000 - now.getTime()) / 1000);
        throw new AppError("rate_limited", {
          message: message(input.locale, "codeCooldown", { seconds }),
          details: { retryAfterSeconds: seconds, reason: "code_cooldown" },
        });
      }
      if (recent.length >= MAX_CODES_PER_HOUR) {
        const oldest = recent[recent.length - 1] ?? now;
        const seconds = Math.max(1, Math.ceil((oldest.getTime() + 3600_000 - now.getTime()) / 1000));
        throw new AppError("rate_limited", {
          message: message(input.locale, "codeCooldown", { seconds }),
          details: { retryAfterSeconds: seconds, reason: "code_hourly_cap" },
        });
      }
      const id = newId();
      const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
      const expiresAt = new Date(now.getTime() + CODE_TTL_MINUTES * 60_000);
      await codes.insert({
        id,
        purpose: input.purpose,
        subjectId: input.subjectId ?? null,
        channel: input.channel,
        targetIndex: index,
        targetSealed: await vault.sealSystem(input.to),
        codeHash: await codeHash(id, code),
        payloadSealed: input.payload === undefined ? null : await vault.sealSystem(input.payload),
        createdAt: now,
        expiresAt,
        maxAttempts: CODE_MAX_ATTEMPTS,
      });
      await codes.retireOthers(input.purpose, index, id, now);
      await notifier.send({
        channel: input.channel,
        to: input.to,
        ...(input.subjectId ? { subjectId: input.subjectId } : {}),
        template: "verification-code",
        locale: input.locale,
        data: { code, minutes: CODE_TTL_MINUTES },
      });
      return {
        verificationId: id,
        channel: input.channel,
        expiresAt,
        resendAfterSeconds: RESEND_COOLDOWN_SECONDS,
        sentTo: input.channel === "email" ? maskEmail(input.to) : maskPhone(input.to),
      };
    },

    /** Sends a new code for the same purpose, target and payload (resend), within an hour of the first. */
    async reissue(verificationId: string, locale: Language): Promise<IssuedCode> {
      const row = await codes.get(verificationId);
      const now = clock.now();
      if (!row || row.consumedAt || now.getTime() - row.createdAt.getTime() > 3600_000)
        throw new AppError("validation_failed", {
          message: message(locale, "codeDead"),
          details: { field: "verificationId", reason: "code_expired" },
        });
      const to = await vault.openSystem(row.targetSealed);
      const payload = row.payloadSealed ? await vault.openSystem(row.payloadSealed) : undefined;
      return service.issue({
        purpose: row.purpose,
        channel: row.channel,
        to,
        subjectId: row.subjectId,
        ...(payload === undefined ? {} : { payload }),
        locale,
      });
    },

    /**
     * Checks a code and consumes it. A wrong code counts an attempt; the fifth kills the code. An
     * unknown id answers like an expired code (ids are not probed).
     */
    async verify(input: {
      verificationId: string;
      code: string;
      purpose: CodePurpose;
      subjectId?: string;
      locale: Language;
    }): Promise<VerifiedCode> {
      const now = clock.now();
      const dead = () =>
        new AppError("validation_failed", {
          message: message(input.locale, "codeDead"),
          details: { field: "code", reason: "code_expired" },
        });
      const row = await codes.get(input.verificationId);
      if (
        !row ||
        row.purpose !== input.purpose ||
        (input.subjectId !== undefined && row.subjectId !== input.subjectId) ||
        row.consumedAt ||
        row.expiresAt <= now ||
        row.attempts >= row.maxAttempts
      )
        throw dead();
      const expected = await codeHash(row.id, input.code);
      if (!timingSafeEqual(expected, row.codeHash)) {
        const attempts = await codes.addAttempt(row.id);
        const left = Math.max(0, row.maxAttempts - attempts);
        if (left === 0) throw dead();
        throw new AppError("validation_failed", {
          message: message(input.locale, "codeWrong", { left }),
          details: { field: "code", reason: "code_wrong", attemptsLeft: left },
        });
      }
      const payload = row.payloadSealed ? await vault.openSystem(row.payloadSealed) : undefined;
      if (!(await codes.consume(row.id, now))) throw dead();
      return {
        id: row.id,
        purpose: row.purpose,
        subjectId: row.subjectId,
        ...(payload === undefined ? {} : { payload }),
      };
    },
  };
  return service;
}
export type OtpService = ReturnType<typeof createOtpService>;
