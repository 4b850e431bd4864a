import type { Clock } from "@custos/core";
import type { LoadedManifest } from "@custos/manifest";
import type { DB, Vault } from "@custos/store";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import type { Config } from "../config.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import type { Notifier } from "../notifications/notifier.ts";
import { requestLanguage } from "./account-messages.ts";
import { createAccountService, type SessionStarted } from "./account-service.ts";
import {
  clearSessionCookie,
  loginContext,
  requireFresh,
  requireSubject,
  type SubjectContext,
  setSessionCookie,
} from "./guards.ts";
import { createOtpService, type IssuedCode } from "./otp-service.ts";
import { createSessionService } from "./session-service.ts";

/**
 * Subject accounts over HTTP (tag "accounts"): registration with a verified contact, sign-in by
 * password or one-time code, sessions, fresh verification, compromise report and recovery, and the
 * subject's own view of their account and stored personal information.
 */

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  notifier: Pick<Notifier, "send">;
  clock: Clock;
  manifest: LoadedManifest;
  config: Pick<Config, "publicUrl" | "reauthMinutes">;
};

const errors = { ...errorResponses, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody } as const;
const Locale = z.enum(["en", "zh-CN"]);
const Client = z.enum(["web", "api"]).default("web");
const Code = z.string().regex(/^\d{6}$/, "expected the 6-digit code");
const Text = (max: number) => z.string().min(1).max(max);

const IssuedCodeBody = z
  .object({
    verificationId: z.uuid(),
    channel: z.enum(["email", "sms"]),
    expiresAt: z.iso.datetime(),
    resendAfterSeconds: z.number().int(),
    sentTo: z.string().max(320).describe("The masked contact the code went to (empty when not known)"),
  })
  .meta({ id: "IssuedCode" });

const SessionBody = z
  .object({
    subjectId: z.uuid(),
    sessionId: z.uuid(),
    expiresAt: z.iso.datetime(),
    newDevice: z.boolean(),
    token: z.string().max(64).optional().describe('Only for client "api": send it as Authorization: Bearer'),
  })
  .meta({ id: "SessionStarted" });

const issued = (c: IssuedCode) => ({ ...c, expiresAt: c.expiresAt.toISOString() });

export function registerAccountRoutes(app: FastifyInstance, deps: Deps): void {
  const { clock } = deps;
  const sessions = createSessionService({ db: deps.db, clock });
  const otp = createOtpService({ db: deps.db, vault: deps.vault, notifier: deps.notifier, clock });
  const accounts = createAccountService({
    db: deps.db,
    vault: deps.vault,
    notifier: deps.notifier,
    clock,
    manifest: deps.manifest,
    otp,
    sessions,
    reauthMinutes: deps.config.reauthMinutes,
    recordPolicyAcceptance: (subjectId, shown) =>
      app.custos.consent.record(subjectId, { policy: true, state: "given", ...shown }),
  });
  app.decorate("custosAccounts", {
    accounts,
    sessions,
    secureCookies: deps.config.publicUrl.startsWith("https:"),
    reauthMinutes: deps.config.reauthMinutes,
    now: () => clock.now(),
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const langOf = (request: FastifyRequest, explicit?: string) =>
    requestLanguage(explicit, request.headers["accept-language"]);

  const sessionReply = (
    request: FastifyRequest,
    reply: FastifyReply,
    started: SessionStarted & { subjectId: string },
  ) => {
    if (started.kind === "web") setSessionCookie(request, reply, started);
    reply.header("cache-control", "no-store");
    return {
      subjectId: started.subjectId,
      sessionId: started.sessionId,
      expiresAt: started.expiresAt.toISOString(),
      newDevice: started.newDevice,
      ...(started.kind === "api" ? { token: started.token } : {}),
    };
  };

  // ---- registration ------------------------------------------------------------------------

  r.post(
    "/api/v1/accounts/register",
    {
      schema: {
        tags: ["accounts"],
        operationId: "startRegistration",
        summary: "Start registration: sends a 6-digit code to the phone or email",
        description:
          "Nothing is created until the code is verified (POST /api/v1/accounts/register/verify). `acceptPolicy` must be true and `policyVersion` the current policy version (CON-2: no pre-ticked consent); without it the answer is 400 `validation_failed` naming `acceptPolicy`. Verifying records the acceptance as a `policy` consent event (covering only purposes with consent `policy`, CON-4). A contact or username already in use answers 409 naming the field.",
        body: z.strictObject({
          contact: Text(320).describe("Mainland China mobile number or email address"),
          username: Text(64),
          password: Text(200),
          locale: Locale.default("en"),
          policyVersion: Text(40),
          acceptPolicy: z.literal(true, { error: "tick the box to accept the privacy policy" }),
        }),
        response: { 202: IssuedCodeBody, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await accounts.startRegistration(b);
      return reply.code(202).send(issued(result));
    },
  );

  r.post(
    "/api/v1/accounts/register/verify",
    {
      schema: {
        tags: ["accounts"],
        operationId: "completeRegistration",
        summary: "Finish registration with the code; signs the new account in",
        body: z.strictObject({
          verificationId: z.uuid(),
          code: Code,
          client: Client,
          locale: Locale.optional(),
        }),
        response: { 201: SessionBody, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const started = await accounts.completeRegistration(
        { verificationId: b.verificationId, code: b.code, locale: langOf(request, b.locale) },
        loginContext(request, reply, b.client),
      );
      return reply.code(201).send(sessionReply(request, reply, started));
    },
  );

  r.post(
    "/api/v1/auth/codes/resend",
    {
      schema: {
        tags: ["accounts"],
        operationId: "resendCode",
        summary: "Send a new code for a pending verification (after the cool-down)",
        body: z.strictObject({ verificationId: z.uuid(), locale: Locale.optional() }),
        response: { 202: IssuedCodeBody, ...errors },
      },
    },
    async (request, reply) => {
      const result = await accounts.resendCode(
        request.body.verificationId,
        langOf(request, request.body.locale),
      );
      return reply.code(202).send(issued(result));
    },
  );

  // ---- sign-in and sign-out ------------------------------------------------------------------

  r.post(
    "/api/v1/auth/login",
    {
      schema: {
        tags: ["accounts"],
        operationId: "login",
        summary: "Sign in with phone, email or username and password",
        description:
          'Five wrong passwords for one identifier within 15 minutes lock it for 15 minutes (429 `rate_limited`, `details.retryAfterSeconds`); failures per client address are limited too. With `client: "api"` the answer carries a bearer token; otherwise the session cookie is set.',
        body: z.strictObject({
          identifier: Text(320),
          password: Text(200),
          client: Client,
          locale: Locale.optional(),
        }),
        response: { 200: SessionBody, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const started = await accounts.loginWithPassword(
        { identifier: b.identifier, password: b.password, locale: langOf(request, b.locale) },
        loginContext(request, reply, b.client),
      );
      return sessionReply(request, reply, started);
    },
  );

  r.post(
    "/api/v1/auth/login/code",
    {
      schema: {
        tags: ["accounts"],
        operationId: "sendLoginCode",
        summary: "Send a sign-in code to the account's verified contact",
        description: "Answers the same whether or not an account exists.",
        body: z.strictObject({ identifier: Text(320), locale: Locale.optional() }),
        response: { 202: IssuedCodeBody, ...errors },
      },
    },
    async (request, reply) => {
      const result = await accounts.sendSignInCode({
        identifier: request.body.identifier,
        locale: langOf(request, request.body.locale),
        purpose: "login",
      });
      return reply.code(202).send(issued(result));
    },
  );

  r.post(
    "/api/v1/auth/login/code/verify",
    {
      schema: {
        tags: ["accounts"],
        operationId: "loginWithCode",
        summary: "Sign in with a one-time code",
        description: "Five wrong codes make the code unusable; ask for a new one.",
        body: z.strictObject({
          verificationId: z.uuid(),
          code: Code,
          client: Client,
          locale: Locale.optional(),
        }),
        response: { 200: SessionBody, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const started = await accounts.loginWithCode(
        { verificationId: b.verificationId, code: b.code, locale: langOf(request, b.locale) },
        loginContext(request, reply, b.client),
      );
      return sessionReply(request, reply, started);
    },
  );

  r.post(
    "/api/v1/auth/logout",
    {
      schema: {
        tags: ["accounts"],
        operationId: "logout",
        summary: "Sign out (ends this session)",
        response: { 200: z.object({ signedOut: z.boolean() }), ...errors },
      },
    },
    async (request, reply) => {
      const me = await (async () => {
        try {
          return await requireSubject(request);
        } catch {
          return undefined;
        }
      })();
      if (me) await sessions.revoke(me.subjectId, me.sessionId);
      clearSessionCookie(request, reply);
      return { signedOut: me !== undefined };
    },
  );

  // ---- compromise and recovery (ACC-6) -------------------------------------------------------

  r.post(
    "/api/v1/accounts/recover",
    {
      schema: {
        tags: ["accounts"],
        operationId: "startRecovery",
        summary: "Send a recovery code to the account's verified contact",
        description: "Answers the same whether or not an account exists.",
        body: z.strictObject({ identifier: Text(320), locale: Locale.optional() }),
        response: { 202: IssuedCodeBody, ...errors },
      },
    },
    async (request, reply) => {
      const result = await accounts.sendSignInCode({
        identifier: request.body.identifier,
        locale: langOf(request, request.body.locale),
        purpose: "recover",
      });
      return reply.code(202).send(issued(result));
    },
  );

  r.post(
    "/api/v1/accounts/recover/complete",
    {
      schema: {
        tags: ["accounts"],
        operationId: "completeRecovery",
        summary: "Set a new password with the recovery code; unlocks the account",
        body: z.strictObject({
          verificationId: z.uuid(),
          code: Code,
          newPassword: Text(200),
          locale: Locale.optional(),
        }),
        response: { 200: z.object({ status: z.literal("recovered") }), ...errors },
      },
    },
    async (request) => {
      const b = request.body;
      await accounts.completeRecovery({ ...b, locale: langOf(request, b.locale) });
      return { status: "recovered" as const };
    },
  );

  r.post(
    "/api/v1/me/report-compromise",
    {
      schema: {
        tags: ["accounts"],
        operationId: "reportCompromise",
        summary: "Report a suspected leak: locks the account and ends every session",
        response: {
          200: z.object({ locked: z.literal(true), revokedSessions: z.number().int() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      const result = await accounts.reportCompromise(me.subjectId);
      clearSessionCookie(request, reply);
      return { locked: true as const, ...result };
    },
  );

  // ---- the subject's own account --------------------------------------------------------------

  const MeBody = z
    .object({
      subjectId: z.uuid(),
      username: z.string().max(32).nullable(),
      status: z.enum(["active", "locked", "cancelled"]),
      locale: Locale,
      policyVersion: z.string().max(40),
      createdAt: z.iso.datetime(),
      contacts: z.array(
        z.object({ kind: z.enum(["phone", "email"]), masked: z.string().max(320), verified: z.boolean() }),
      ),
      providers: z.array(
        z.object({ id: z.string().max(200), provider: z.string().max(200), linkedAt: z.string().nullable() }),
      ),
      reauthMethods: z.array(z.enum(["password", "email-code", "sms-code"])),
      freshUntil: z.iso.datetime().nullable(),
    })
    .meta({ id: "Me" });

  r.get(
    "/api/v1/me",
    {
      schema: {
        tags: ["accounts"],
        operationId: "getMe",
        summary: "The signed-in account: masked contacts, username, linked providers",
        response: { 200: MeBody, ...errors },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      reply.header("cache-control", "no-store");
      const fresh = me.freshUntil && me.freshUntil > clock.now() ? me.freshUntil.toISOString() : null;
      return { ...(await accounts.getMe(me.subjectId)), freshUntil: fresh };
    },
  );

  const SessionItem = z.object({
    id: z.uuid(),
    kind: z.enum(["web", "api"]),
    method: z.string().max(40),
    device: z.string().max(80),
    createdAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    current: z.boolean(),
  });

  r.get(
    "/api/v1/me/sessions",
    {
      schema: {
        tags: ["accounts"],
        operationId: "listMySessions",
        summary: "Your signed-in sessions",
        response: { 200: z.object({ sessions: z.array(SessionItem) }), ...errors },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      reply.header("cache-control", "no-store");
      const list = await sessions.list(me.subjectId);
      return {
        sessions: list.map((s) => ({
          id: s.id,
          kind: s.kind,
          method: s.method,
          device: s.userAgentSummary,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
          current: s.id === me.sessionId,
        })),
      };
    },
  );

  r.delete(
    "/api/v1/me/sessions/:id",
    {
      schema: {
        tags: ["accounts"],
        operationId: "revokeMySession",
        summary: "Sign out one session",
        params: z.strictObject({ id: z.uuid() }),
        response: { 200: z.object({ revoked: z.literal(true) }), ...errors },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      const ok = await sessions.revoke(me.subjectId, request.params.id);
      if (!ok)
        return reply.code(404).send({
          error: {
            code: "not_found",
            message: "No active session with this id exists for your account. List your sessions first.",
            requestId: request.id,
          },
        });
      if (request.params.id === me.sessionId) clearSessionCookie(request, reply);
      return { revoked: true as const };
    },
  );

  r.post(
    "/api/v1/me/sessions/revoke-all",
    {
      schema: {
        tags: ["accounts"],
        operationId: "revokeAllMySessions",
        summary: "Sign out every session (optionally keeping this one)",
        body: z.strictObject({ keepCurrent: z.boolean().default(false) }).default({ keepCurrent: false }),
        response: { 200: z.object({ revoked: z.number().int() }), ...errors },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      const keep = request.body.keepCurrent;
      const revoked = await sessions.revokeAll(me.subjectId, keep ? me.sessionId : undefined);
      if (!keep) clearSessionCookie(request, reply);
      return { revoked };
    },
  );

  // ---- fresh verification (ACC-4) -------------------------------------------------------------

  r.post(
    "/api/v1/me/reauth/code",
    {
      schema: {
        tags: ["accounts"],
        operationId: "sendReauthCode",
        summary: "Send a code to a contact you gave us, to confirm it is you",
        description:
          "Only contacts on file can receive it (RR-2: verification never asks for information you never gave).",
        body: z
          .strictObject({ channel: z.enum(["email", "sms"]).optional(), locale: Locale.optional() })
          .default({}),
        response: { 202: IssuedCodeBody, ...errors },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      const result = await accounts.sendReauthCode(
        me.subjectId,
        request.body.channel,
        langOf(request, request.body.locale),
      );
      return reply.code(202).send(issued(result));
    },
  );

  r.post(
    "/api/v1/me/reauth",
    {
      schema: {
        tags: ["accounts"],
        operationId: "reauthenticate",
        summary: "Confirm it is you (password or code); needed to view your personal information",
        body: z.union([
          z.strictObject({ password: Text(200), locale: Locale.optional() }),
          z.strictObject({ verificationId: z.uuid(), code: Code, locale: Locale.optional() }),
        ]),
        response: { 200: z.object({ freshUntil: z.iso.datetime() }), ...errors },
      },
    },
    async (request) => {
      const me: SubjectContext = await requireSubject(request);
      const b = request.body;
      const lang = langOf(request, b.locale);
      const until =
        "password" in b
          ? await accounts.reauthWithPassword(me, b.password, lang, request.ip)
          : await accounts.reauthWithCode(me, b, lang);
      return { freshUntil: until.toISOString() };
    },
  );

  const PiBody = z
    .object({
      categories: z.array(
        z.object({
          id: z.string().max(100),
          name: z.string().max(200),
          fields: z.array(
            z.object({ id: z.string().max(100), name: z.string().max(200), value: z.string() }),
          ),
          records: z
            .array(
              z.object({
                occurredAt: z.iso.datetime(),
                method: z.string().max(40),
                ip: z.string().max(64).nullable(),
                userAgent: z.string().max(80),
                newDevice: z.boolean(),
              }),
            )
            .optional(),
        }),
      ),
    })
    .meta({ id: "MyPersonalInformation" });

  r.get(
    "/api/v1/me/personal-information",
    {
      schema: {
        tags: ["accounts"],
        operationId: "getMyPersonalInformation",
        summary: "The personal information stored about you, by category (needs fresh verification)",
        description:
          '403 `forbidden` with `details.reason = "reauth_required"` unless you confirmed it is you (POST /api/v1/me/reauth) within the last minutes.',
        querystring: z.strictObject({ lang: Locale.optional() }),
        response: { 200: PiBody, ...errors },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      requireFresh(request, me);
      reply.header("cache-control", "no-store");
      return accounts.personalInformation(me.subjectId, langOf(request, request.query.lang));
    },
  );
}
