import { AppError, type Clock, maskEmail, maskPhone, newId } from "@custos/core";
import type { Language, LoadedManifest } from "@custos/manifest";
import {
  createAccountRepo,
  createLoginEventRepo,
  createSubjectFieldRepo,
  createSubjectRepo,
  createThrottleRepo,
  type DB,
  type SessionKind,
  type ThrottleKind,
  type Vault,
} from "@custos/store";
import argon2 from "argon2";
import type { Kysely } from "kysely";
import { z } from "zod";
import type { Notifier } from "../notifications/notifier.ts";
import { message } from "./account-messages.ts";
import {
  type ContactKind,
  type Identifier,
  normaliseUsername,
  PASSWORD_RULES,
  parseContact,
  parseIdentifier,
  passwordProblems,
  summariseUserAgent,
} from "./account-validation.ts";
import type { IssuedCode, OtpService } from "./otp-service.ts";
import type { SessionService } from "./session-service.ts";

/**
 * Subject accounts (ACC-1, ACC-3, ACC-4, ACC-6). Contacts and the username are subject fields of
 * the manifest's `registration` category (vault-encrypted, blind-indexed); the password is an
 * argon2id hash; every login ends in `createSessionFor`, which records it under the `logs`
 * category (IP and user agent encrypted per subject) and alerts the user on a new device.
 *
 * Account enumeration: sign-in, code sign-in and recovery answer the same whether or not an
 * account exists (a dummy hash is computed; a code request for an unknown identifier returns a
 * verification id that can never succeed). Registration must say when a contact or username is
 * taken (the form cannot be completed otherwise): it answers 409 naming the field, and is
 * rate-limited by the global per-client limit.
 */

export const REGISTRATION = "registration";
export const LOGS = "logs";

/** argon2id, memory-hard (ACC-3): OWASP's 19 MiB, 2 passes, 1 lane. */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export type ThrottleLimits = { maxFailures: number; windowMinutes: number; lockMinutes: number };
export const DEFAULT_THROTTLES: Record<ThrottleKind, ThrottleLimits> = {
  identifier: { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 },
  ip: { maxFailures: 20, windowMinutes: 15, lockMinutes: 15 },
};

export type LoginContext = {
  userAgent?: string | undefined;
  ip?: string | undefined;
  /** The long-lived device cookie, when the client has one. */
  deviceId?: string | undefined;
  kind?: SessionKind;
};

export type SessionStarted = {
  sessionId: string;
  token: string;
  kind: SessionKind;
  expiresAt: Date;
  newDevice: boolean;
};

const PendingRegistration = z.strictObject({
  contactKind: z.enum(["phone", "email"]),
  contact: z.string().max(320),
  username: z.string().max(32),
  passwordHash: z.string().max(200),
  locale: z.enum(["en", "zh-CN"]),
  policyVersion: z.string().max(40),
});

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  notifier: Pick<Notifier, "send">;
  clock: Clock;
  manifest: LoadedManifest;
  otp: OtpService;
  sessions: Pick<SessionService, "start" | "revokeAll" | "markFresh">;
  reauthMinutes: number;
  throttles?: Partial<Record<ThrottleKind, ThrottleLimits>>;
  /**
   * Records the sign-up's policy acceptance in the consent ledger (CON-2, CON-4): the consent
   * service's `record(subjectId, { policy: true, state: "given", … })`.
   */
  recordPolicyAcceptance: (
    subjectId: string,
    shown: { noticeVersion: string; language: Language; method: "web" | "app" },
  ) => Promise<unknown>;
};

let dummyHash: Promise<string> | undefined;

export function createAccountService(deps: Deps) {
  const { db, vault, notifier, clock, manifest, otp, sessions } = deps;
  const accounts = createAccountRepo(db);
  const fields = createSubjectFieldRepo(db, vault);
  const throttles = createThrottleRepo(db);
  const loginEvents = createLoginEventRepo(db);
  const limits = (kind: ThrottleKind) => deps.throttles?.[kind] ?? DEFAULT_THROTTLES[kind];

  /** The key group (retention group) of a manifest category. */
  function keyGroupOf(categoryId: string): string {
    const category = manifest.manifest.categories.find((c) => c.id === categoryId);
    const rule = manifest.manifest.retention.find((r) => r.id === category?.retention);
    if (!rule) throw new Error(`the manifest has no retention rule for category ${categoryId}`);
    return rule.group;
  }

  const indexOf = (field: "phone" | "email" | "username", value: string) => vault.blindIndex(field, value);

  async function findSubject(identifier: Identifier): Promise<string | undefined> {
    return accounts.findByRegistrationIndex(
      identifier.kind,
      await indexOf(identifier.kind, identifier.value),
    );
  }

  async function contactsOf(subjectId: string): Promise<{ kind: ContactKind; value: string }[]> {
    const out: { kind: ContactKind; value: string }[] = [];
    for (const kind of ["email", "phone"] as const) {
      const value = await fields.get(subjectId, REGISTRATION, kind);
      if (value) out.push({ kind, value });
    }
    return out;
  }

  function badRequest(field: string, msg: string, extra: Record<string, unknown> = {}): AppError {
    return new AppError("validation_failed", { message: msg, details: { field, ...extra } });
  }

  // ---- throttles (ACC-3) -------------------------------------------------------------------

  type ThrottleKey = { kind: ThrottleKind; index: Buffer };

  async function throttleKeys(identifier: string, ip: string | undefined): Promise<ThrottleKey[]> {
    const keys: ThrottleKey[] = [
      { kind: "identifier", index: await vault.blindIndex("login-identifier", identifier) },
    ];
    if (ip) keys.push({ kind: "ip", index: await vault.blindIndex("login-ip", ip) });
    return keys;
  }

  function lockedError(kind: ThrottleKind, until: Date, lang: Language): AppError {
    const seconds = Math.max(1, Math.ceil((until.getTime() - clock.now().getTime()) / 1000));
    const at = until.toISOString().slice(11, 16);
    return new AppError("rate_limited", {
      message: message(lang, kind === "identifier" ? "identifierLocked" : "ipLocked", {
        minutes: Math.ceil(seconds / 60),
        at,
      }),
      details: {
        retryAfterSeconds: seconds,
        reason: kind === "identifier" ? "identifier_locked" : "ip_locked",
      },
    });
  }

  async function assertNotLocked(keys: ThrottleKey[], lang: Language) {
    const now = clock.now();
    for (const key of keys) {
      const t = await throttles.get(key.kind, key.index);
      if (t?.lockedUntil && t.lockedUntil > now) throw lockedError(key.kind, t.lockedUntil, lang);
    }
  }

  /** Counts a failure against every key; returns the lock error when one of them is now locked. */
  async function recordFailure(keys: ThrottleKey[], lang: Language): Promise<AppError | undefined> {
    const now = clock.now();
    let locked: AppError | undefined;
    for (const key of keys) {
      const l = limits(key.kind);
      const t = await throttles.get(key.kind, key.index);
      const inWindow = t && now.getTime() - t.windowStart.getTime() < l.windowMinutes * 60_000;
      const failures = (inWindow ? t.failures : 0) + 1;
      const lockedUntil = failures >= l.maxFailures ? new Date(now.getTime() + l.lockMinutes * 60_000) : null;
      await throttles.put(key.kind, key.index, {
        windowStart: inWindow ? t.windowStart : now,
        failures: lockedUntil ? 0 : failures,
        lockedUntil,
      });
      if (lockedUntil && !locked) locked = lockedError(key.kind, lockedUntil, lang);
    }
    return locked;
  }

  // ---- sessions and login records (ACC-6) ---------------------------------------------------

  async function deviceHashOf(userAgentSummary: string, deviceId: string | undefined) {
    return vault.blindIndex("device", `${userAgentSummary}|${deviceId ?? ""}`);
  }

  async function notifySubject(subjectId: string, title: string, body: string, locale: Language) {
    const contacts = await contactsOf(subjectId);
    const contact = contacts[0];
    if (contact)
      await notifier.send({
        channel: contact.kind === "email" ? "email" : "sms",
        to: contact.value,
        subjectId,
        template: "generic-notice",
        locale,
        data: { title, body },
      });
    await notifier.send({
      channel: "inbox",
      subjectId,
      template: "generic-notice",
      locale,
      data: { title, body },
    });
  }

  async function localeOf(subjectId: string): Promise<Language> {
    const account = await accounts.get(subjectId);
    return account?.locale === "zh-CN" ? "zh-CN" : "en";
  }

  /**
   * The one way every login ends (password, code, OpenID Connect): starts a session, records the
   * login under the manifest's `logs` category (IP and user agent encrypted with the subject's
   * logs key; the clear columns hold only time, method and whether the device was new) and, for a
   * device the subject never used, alerts them by email or SMS and in the inbox.
   */
  async function createSessionFor(
    subjectId: string,
    ctx: { method: string } & LoginContext,
  ): Promise<SessionStarted> {
    const account = await accounts.get(subjectId);
    if (!account) throw new AppError("not_found", { message: "No account exists for this subject." });
    if (account.status !== "active")
      throw new AppError("forbidden", {
        message: message(account.locale === "zh-CN" ? "zh-CN" : "en", "accountLocked"),
        details: { reason: account.status === "locked" ? "account_locked" : "account_cancelled" },
      });
    const now = clock.now();
    const kind = ctx.kind ?? "web";
    const summary = summariseUserAgent(ctx.userAgent);
    const deviceHash = await deviceHashOf(summary, ctx.deviceId);
    const sessionId = newId();
    const eventId = newId();
    const logsGroup = keyGroupOf(LOGS);
    const ciphertext = await vault.encryptField(
      subjectId,
      logsGroup,
      `${LOGS}.login:${eventId}`,
      JSON.stringify({ ip: ctx.ip ?? null, userAgent: summary, method: ctx.method }),
    );
    const { started, newDevice } = await db.transaction().execute(async (tx) => {
      const isNew = await createLoginEventRepo(tx).rememberDevice(subjectId, deviceHash, now);
      await createLoginEventRepo(tx).insert({
        id: eventId,
        subjectId,
        occurredAt: now,
        method: ctx.method,
        newDevice: isNew,
        keyGroup: logsGroup,
        ciphertext,
      });
      const s = await sessions.start(
        { id: sessionId, subjectId, kind, method: ctx.method, deviceHash, userAgentSummary: summary },
        tx,
      );
      return { started: s, newDevice: isNew };
    });
    // The first device (the one used to register) is not "new"; later unknown devices alert.
    if (newDevice && ctx.method !== "register") {
      const lang = account.locale === "zh-CN" ? "zh-CN" : "en";
      const when = `${now.toISOString().slice(0, 16).replace("T", " ")} UTC`;
      const title = lang === "zh-CN" ? "新设备登录提醒" : "New sign-in to your account";
      const body =
        lang === "zh-CN"
          ? `您的账号于 ${when} 在新设备（${summary}）上登录。如非本人操作，请立即在隐私中心“账号安全”中报告账号被盗用，我们将锁定账号并退出所有登录。`
          : `Your account was signed in on a new device (${summary}) at ${when}. If this was not you, report it at once under Account security in the privacy center: we will lock the account and sign out every session.`;
      await notifySubject(subjectId, title, body, lang);
    }
    return { sessionId, token: started.token, kind, expiresAt: started.expiresAt, newDevice };
  }

  // ---- registration (ACC-1) ----------------------------------------------------------------

  async function assertAvailable(
    contactKind: ContactKind,
    contact: string,
    username: string,
    lang: Language,
  ) {
    if (await findSubject({ kind: contactKind, value: contact }))
      throw new AppError("conflict", {
        message:
          lang === "zh-CN"
            ? "该联系方式已注册账号。请直接登录，或通过验证码找回账号。"
            : "An account already uses this contact. Sign in instead, or recover the account with a code.",
        details: { field: "contact", reason: "contact_taken" },
      });
    if (await findSubject({ kind: "username", value: username }))
      throw new AppError("conflict", {
        message:
          lang === "zh-CN"
            ? "该用户名已被使用，请换一个用户名。"
            : "This username is taken. Choose another one.",
        details: { field: "username", reason: "username_taken" },
      });
  }

  async function startRegistration(input: {
    contact: string;
    username: string;
    password: string;
    locale: Language;
    policyVersion: string;
  }): Promise<IssuedCode> {
    const lang = input.locale;
    const contact = parseContact(input.contact);
    if (!contact)
      throw badRequest(
        "contact",
        "The contact must be a mainland China mobile number (11 digits starting 13-19) or an email address.",
      );
    const username = normaliseUsername(input.username);
    if (!username)
      throw badRequest("username", "The username must be 3 to 32 letters, digits or underscores.");
    const problems = passwordProblems(input.password, username);
    if (problems.length > 0)
      throw badRequest("password", `The password does not meet the rules: ${PASSWORD_RULES}.`, { problems });
    const current = manifest.manifest.version;
    if (input.policyVersion !== current)
      throw badRequest(
        "policyVersion",
        `Accept the current privacy policy (version ${current}) to register; reload the page to read it.`,
        { currentVersion: current },
      );
    await assertAvailable(contact.kind, contact.value, username, lang);
    const payload = JSON.stringify({
      contactKind: contact.kind,
      contact: contact.value,
      username,
      passwordHash: await argon2.hash(input.password, ARGON2_OPTIONS),
      locale: input.locale,
      policyVersion: current,
    } satisfies z.infer<typeof PendingRegistration>);
    return otp.issue({
      purpose: "register",
      channel: contact.kind === "email" ? "email" : "sms",
      to: contact.value,
      payload,
      locale: lang,
    });
  }

  async function completeRegistration(
    input: { verificationId: string; code: string; locale: Language },
    ctx: LoginContext,
  ): Promise<SessionStarted & { subjectId: string }> {
    const verified = await otp.verify({ ...input, purpose: "register" });
    const pending = PendingRegistration.parse(JSON.parse(verified.payload ?? "{}"));
    if (pending.policyVersion !== manifest.manifest.version)
      throw new AppError("conflict", {
        message: `The privacy policy changed to version ${manifest.manifest.version} after you started. Start the registration again and accept the current policy.`,
        details: { field: "policyVersion", currentVersion: manifest.manifest.version },
      });
    await assertAvailable(pending.contactKind, pending.contact, pending.username, input.locale);
    const subjectId = newId();
    const now = clock.now();
    const group = keyGroupOf(REGISTRATION);
    const region = manifest.manifest.categories.find((c) => c.id === REGISTRATION)?.region ?? "cn";
    try {
      await db.transaction().execute(async (tx) => {
        await createSubjectRepo(tx).create({ subjectId, region, now });
        await createAccountRepo(tx).create({
          subjectId,
          locale: pending.locale,
          policyVersion: pending.policyVersion,
          now,
        });
        const txFields = createSubjectFieldRepo(tx, vault);
        await txFields.put({
          subjectId,
          category: REGISTRATION,
          field: pending.contactKind,
          keyGroup: group,
          value: pending.contact,
          indexAs: pending.contactKind,
        });
        await txFields.put({
          subjectId,
          category: REGISTRATION,
          field: "username",
          keyGroup: group,
          value: pending.username,
          indexAs: "username",
        });
        await createAccountRepo(tx).setPasswordHash(subjectId, pending.passwordHash, now);
      });
    } catch (err) {
      // The unique blind index caught a registration that raced this one.
      if (/unique|duplicate/i.test(err instanceof Error ? err.message : ""))
        throw new AppError("conflict", {
          message: "An account with this contact or username was just created. Sign in instead.",
          details: { reason: "taken" },
        });
      throw err;
    }
    // The ticked box on the sign-up form, as a consent event (notice version and language shown).
    await deps.recordPolicyAcceptance(subjectId, {
      noticeVersion: pending.policyVersion,
      language: pending.locale,
      method: ctx.kind === "api" ? "app" : "web",
    });
    const started = await createSessionFor(subjectId, { ...ctx, method: "register" });
    return { ...started, subjectId };
  }

  // ---- sign-in (ACC-1, ACC-3) ---------------------------------------------------------------

  async function loginWithPassword(
    input: { identifier: string; password: string; locale: Language },
    ctx: LoginContext,
  ): Promise<SessionStarted & { subjectId: string }> {
    const lang = input.locale;
    const identifier = parseIdentifier(input.identifier);
    const keys = await throttleKeys(
      identifier ? `${identifier.kind}:${identifier.value}` : "invalid",
      ctx.ip,
    );
    await assertNotLocked(keys, lang);
    const subjectId = identifier ? await findSubject(identifier) : undefined;
    const hash = subjectId ? await accounts.getPasswordHash(subjectId) : undefined;
    // Constant-time-ish: an unknown account still costs one argon2 verification.
    dummyHash ??= argon2.hash("custos-dummy-password", ARGON2_OPTIONS);
    const ok = await argon2.verify(hash ?? (await dummyHash), input.password.slice(0, 128));
    if (!ok || !subjectId || !hash) {
      const locked = await recordFailure(keys, lang);
      if (locked) throw locked;
      throw new AppError("unauthorized", {
        message: message(lang, "loginFailed"),
        details: { reason: "login_failed" },
      });
    }
    const identifierKey = keys[0];
    if (identifierKey) await throttles.clear(identifierKey.kind, identifierKey.index);
    const started = await createSessionFor(subjectId, { ...ctx, method: "password" });
    return { ...started, subjectId };
  }

  /** The contact a code for this subject goes to: the one named, else email, else phone. */
  async function codeTarget(subjectId: string, prefer?: Identifier) {
    const contacts = await contactsOf(subjectId);
    return contacts.find((c) => c.kind === prefer?.kind && c.value === prefer.value) ?? contacts[0];
  }

  /** A verification id that can never succeed, so unknown identifiers look like known ones. */
  function decoy(channel: "email" | "sms"): IssuedCode {
    return {
      verificationId: newId(),
      channel,
      expiresAt: new Date(clock.now().getTime() + 10 * 60_000),
      resendAfterSeconds: 60,
      sentTo: "",
    };
  }

  async function sendSignInCode(input: {
    identifier: string;
    locale: Language;
    purpose: "login" | "recover";
  }): Promise<IssuedCode> {
    const identifier = parseIdentifier(input.identifier);
    if (!identifier) throw badRequest("identifier", "Enter your mobile number, email address or username.");
    const subjectId = await findSubject(identifier);
    const target = subjectId ? await codeTarget(subjectId, identifier) : undefined;
    const guessChannel = identifier.kind === "phone" ? "sms" : "email";
    if (!subjectId || !target) return decoy(guessChannel);
    return otp.issue({
      purpose: input.purpose,
      channel: target.kind === "email" ? "email" : "sms",
      to: target.value,
      subjectId,
      locale: input.locale,
    });
  }

  async function loginWithCode(
    input: { verificationId: string; code: string; locale: Language },
    ctx: LoginContext,
  ): Promise<SessionStarted & { subjectId: string }> {
    const keys = await throttleKeys(`code:${input.verificationId}`, ctx.ip);
    await assertNotLocked(keys.slice(1), input.locale);
    let verified: Awaited<ReturnType<OtpService["verify"]>>;
    try {
      verified = await otp.verify({ ...input, purpose: "login" });
    } catch (err) {
      const locked = await recordFailure(keys.slice(1), input.locale);
      throw locked ?? err;
    }
    if (!verified.subjectId) throw new Error("a login code without a subject");
    const started = await createSessionFor(verified.subjectId, { ...ctx, method: "code" });
    return { ...started, subjectId: verified.subjectId };
  }

  // ---- compromise and recovery (ACC-6) ------------------------------------------------------

  async function reportCompromise(subjectId: string): Promise<{ revokedSessions: number }> {
    const now = clock.now();
    const revoked = await db.transaction().execute(async (tx) => {
      await createAccountRepo(tx).setStatus(subjectId, "locked", "compromise_reported", now);
      return sessions.revokeAll(subjectId, undefined, tx);
    });
    const lang = await localeOf(subjectId);
    await notifySubject(
      subjectId,
      lang === "zh-CN" ? "您的账号已锁定" : "Your account is locked",
      lang === "zh-CN"
        ? "您报告了账号可能被盗用。我们已锁定账号并退出了所有登录。请在登录页选择“找回账号”，通过发送到您已验证联系方式的验证码设置新密码并解锁。"
        : 'You reported that your account may be compromised. We locked it and signed out every session. To unlock it, choose "Recover account" on the sign-in page: a code sent to your verified contact lets you set a new password.',
      lang,
    );
    return { revokedSessions: revoked };
  }

  async function completeRecovery(input: {
    verificationId: string;
    code: string;
    newPassword: string;
    locale: Language;
  }): Promise<void> {
    const rules = (problems: string[]) =>
      badRequest("newPassword", `The new password does not meet the rules: ${PASSWORD_RULES}.`, { problems });
    const early = passwordProblems(input.newPassword);
    if (early.length > 0) throw rules(early);
    const verified = await otp.verify({ ...input, purpose: "recover" });
    const subjectId = verified.subjectId;
    if (!subjectId) throw new Error("a recovery code without a subject");
    const username = await fields.get(subjectId, REGISTRATION, "username");
    const problems = passwordProblems(input.newPassword, username);
    if (problems.length > 0) throw rules(problems);
    const hash = await argon2.hash(input.newPassword, ARGON2_OPTIONS);
    const now = clock.now();
    await db.transaction().execute(async (tx) => {
      await createAccountRepo(tx).setPasswordHash(subjectId, hash, now);
      await createAccountRepo(tx).setStatus(subjectId, "active", null, now);
      await sessions.revokeAll(subjectId, undefined, tx);
    });
    // A recovered account may sign in again at once with any of its identifiers.
    const identifiers = [
      `username:${username ?? ""}`,
      ...(await contactsOf(subjectId)).map((c) => `${c.kind}:${c.value}`),
    ];
    for (const identifier of identifiers)
      for (const key of await throttleKeys(identifier, undefined)) await throttles.clear(key.kind, key.index);
  }

  // ---- fresh verification (ACC-4, RR-2) -----------------------------------------------------

  /** The ways this subject can prove it is them: only kinds of information they gave (RR-2). */
  async function reauthMethods(subjectId: string): Promise<("password" | "email-code" | "sms-code")[]> {
    const methods: ("password" | "email-code" | "sms-code")[] = [];
    if (await accounts.getPasswordHash(subjectId)) methods.push("password");
    for (const c of await contactsOf(subjectId)) methods.push(c.kind === "email" ? "email-code" : "sms-code");
    return methods;
  }

  async function reauthWithPassword(
    subject: { subjectId: string; sessionId: string },
    password: string,
    lang: Language,
    ip: string | undefined,
  ): Promise<Date> {
    const keys = await throttleKeys(`reauth:${subject.subjectId}`, ip);
    await assertNotLocked(keys, lang);
    const hash = await accounts.getPasswordHash(subject.subjectId);
    if (!hash || !(await argon2.verify(hash, password.slice(0, 128)))) {
      const locked = await recordFailure(keys, lang);
      if (locked) throw locked;
      throw new AppError("unauthorized", {
        message:
          lang === "zh-CN"
            ? "密码不正确，请重试或改用验证码验证。"
            : "The password is wrong. Try again, or verify with a code.",
        details: { reason: "reauth_failed" },
      });
    }
    return sessions.markFresh(subject.sessionId, deps.reauthMinutes);
  }

  async function sendReauthCode(subjectId: string, channel: "email" | "sms" | undefined, lang: Language) {
    const contacts = await contactsOf(subjectId);
    const wanted = channel === "sms" ? "phone" : channel === "email" ? "email" : undefined;
    const target = wanted ? contacts.find((c) => c.kind === wanted) : contacts[0];
    if (!target)
      throw badRequest(
        "channel",
        channel
          ? `You did not give us ${channel === "sms" ? "a mobile number" : "an email address"}, so no code can go there; use a contact you gave us or your password.`
          : "No contact is on file for this account; verify with your password.",
        { available: await reauthMethods(subjectId) },
      );
    return otp.issue({
      purpose: "reauth",
      channel: target.kind === "email" ? "email" : "sms",
      to: target.value,
      subjectId,
      locale: lang,
    });
  }

  async function reauthWithCode(
    subject: { subjectId: string; sessionId: string },
    input: { verificationId: string; code: string },
    lang: Language,
  ): Promise<Date> {
    await otp.verify({ ...input, purpose: "reauth", subjectId: subject.subjectId, locale: lang });
    return sessions.markFresh(subject.sessionId, deps.reauthMinutes);
  }

  // ---- the subject's own view ---------------------------------------------------------------

  async function getMe(subjectId: string) {
    const account = await accounts.get(subjectId);
    if (!account)
      throw new AppError("not_found", { message: "No account exists for this session. Sign in again." });
    const contacts = await contactsOf(subjectId);
    return {
      subjectId,
      username: (await fields.get(subjectId, REGISTRATION, "username")) ?? null,
      status: account.status,
      locale: account.locale === "zh-CN" ? ("zh-CN" as const) : ("en" as const),
      policyVersion: account.policyVersion,
      createdAt: account.createdAt.toISOString(),
      contacts: contacts.map((c) => ({
        kind: c.kind,
        masked: c.kind === "email" ? maskEmail(c.value) : maskPhone(c.value),
        verified: true,
      })),
      providers: await accounts.listLinkedProviders(subjectId),
      reauthMethods: await reauthMethods(subjectId),
    };
  }

  type LoginRecord = {
    occurredAt: string;
    method: string;
    ip: string | null;
    userAgent: string;
    newDevice: boolean;
  };
  type PiCategory = {
    id: string;
    name: string;
    fields: { id: string; name: string; value: string }[];
    records?: LoginRecord[];
  };

  /** The subject's own stored information, decrypted, grouped by manifest category (ACC-4, RR-1). */
  async function personalInformation(subjectId: string, lang: Language) {
    const stored = await fields.getAll(subjectId);
    const m = manifest.manifest;
    const categories: PiCategory[] = Object.entries(stored).map(([categoryId, values]) => {
      const category = m.categories.find((c) => c.id === categoryId);
      return {
        id: categoryId,
        name: category?.name[lang] ?? categoryId,
        fields: Object.entries(values).map(([fieldId, value]) => ({
          id: fieldId,
          name: category?.fields.find((f) => f.id === fieldId)?.name[lang] ?? fieldId,
          value,
        })),
      };
    });
    const registration = categories.find((c) => c.id === REGISTRATION);
    const passwordField = m.categories
      .find((c) => c.id === REGISTRATION)
      ?.fields.find((f) => f.id === "password");
    if (registration && passwordField && (await accounts.getPasswordHash(subjectId)))
      registration.fields.push({
        id: "password",
        name: passwordField.name[lang],
        value:
          lang === "zh-CN"
            ? "（仅保存不可逆的哈希值，无法显示）"
            : "(kept only as a one-way hash; it cannot be shown)",
      });
    const events = await loginEvents.listRecent(subjectId, 20);
    if (events.length > 0) {
      const logsCategory = m.categories.find((c) => c.id === LOGS);
      const records: LoginRecord[] = [];
      for (const e of events) {
        const plain = JSON.parse(
          await vault.decryptField(subjectId, e.keyGroup, `${LOGS}.login:${e.id}`, e.ciphertext),
        ) as { ip: string | null; userAgent: string; method: string };
        records.push({
          occurredAt: e.occurredAt.toISOString(),
          method: e.method,
          ip: plain.ip,
          userAgent: plain.userAgent,
          newDevice: e.newDevice,
        });
      }
      categories.push({ id: LOGS, name: logsCategory?.name[lang] ?? LOGS, fields: [], records });
    }
    return { categories };
  }

  return {
    createSessionFor,
    startRegistration,
    completeRegistration,
    loginWithPassword,
    sendSignInCode,
    loginWithCode,
    reportCompromise,
    completeRecovery,
    reauthMethods,
    reauthWithPassword,
    sendReauthCode,
    reauthWithCode,
    getMe,
    personalInformation,
    resendCode: (verificationId: string, lang: Language) => otp.reissue(verificationId, lang),
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
