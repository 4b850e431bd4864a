import { AppError, type Clock } from "@custos/core";
import { LANGUAGES, type Manifest } from "@custos/manifest";
import { createConsentLedger, type DB, type Vault } from "@custos/store";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import { requireSubject } from "../accounts/guards.ts";
import type { Config } from "../config.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import type { Notifier } from "../notifications/notifier.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import type { ConsentService } from "./consent-service.ts";
import { UNSUBSCRIBE_PATH } from "./marketing-mail.ts";
import { isValidWebhookSignature, SMS_SIGNATURE_HEADER } from "./sms-reply.ts";
import { createSubscriptionService, type SubscriptionService } from "./subscription-service.ts";

/**
 * Marketing subscriptions over HTTP (tag "subscriptions", CON-9):
 *  - the privacy center: GET /api/v1/me/subscriptions, PUT /api/v1/me/subscriptions/:channel;
 *  - the SMS gateway's inbound webhook: POST /api/v1/webhooks/sms-inbound (HMAC-signed raw body);
 *  - RFC 8058 one-click: POST /u/:token (no session, no CSRF), GET /u/:token → the confirmation
 *    page /center/unsubscribe/:token, which reads GET /api/v1/unsubscribe/:token and POSTs.
 */

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  manifest: Manifest;
  consent: ConsentService;
  notifier: Pick<Notifier, "send">;
  clock: Clock;
  config: Pick<Config, "publicUrl" | "mailFrom" | "smsWebhookSecret" | "unsubscribeSecret">;
};

declare module "fastify" {
  interface FastifyInstance {
    /** Marketing subscriptions and marketing sends (CON-9). */
    custosSubscriptions: SubscriptionService;
  }
  interface FastifyRequest {
    /** The exact bytes of the body, for routes that verify a signature over it. */
    rawBody?: Buffer;
  }
}

const Language = z.enum(LANGUAGES);
const ChannelParam = z.strictObject({
  channel: z
    .string()
    .min(1)
    .max(32)
    .regex(/^[a-z][a-z0-9-]*$/, "a channel id such as sms, email, push or social"),
});
const TokenParam = z.strictObject({
  token: z.string().min(1).max(200).describe("The signed token from the unsubscribe link"),
});

const SubscriptionsView = z
  .object({
    marketingConsented: z
      .boolean()
      .describe("Whether the marketing purposes are consented: the default of a channel never chosen."),
    channels: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        unsubscribe: z.string().describe("How to unsubscribe on this channel (from the manifest)."),
        subscribed: z.boolean(),
        chosen: z.boolean().describe("False when the channel follows the marketing consent."),
        receives: z.boolean().describe("Whether a marketing message may go out on this channel now."),
        changedAt: z.iso.datetime().nullable(),
      }),
    ),
  })
  .meta({ id: "SubscriptionsView" });

const OneClickBody = z
  .object({
    "List-Unsubscribe": z.literal("One-Click", {
      error: "the one-click body must be List-Unsubscribe=One-Click (RFC 8058)",
    }),
  })
  .describe("Form-encoded `List-Unsubscribe=One-Click`, as mail providers send it (RFC 8058).");

const SmsInbound = z.object({
  from: z.string().min(1).max(32).describe("The sender's phone number"),
  text: z.string().max(1000).describe("The text of the reply"),
  receivedAt: z.iso.datetime({ offset: true }),
});

const withAuth = { 401: ErrorBody, 403: ErrorBody, ...errorResponses };

/** A key for one-click links: the configured secret, or one derived from the vault's index key. */
function tokenKeyOf(vault: Vault, secret: string | undefined): () => Promise<Buffer> {
  if (secret !== undefined) {
    const key = Buffer.from(secret, "utf8");
    return async () => key;
  }
  let derived: Promise<Buffer> | undefined;
  return () => {
    derived ??= vault.blindIndex("unsubscribe-link-key", "v1").catch((err: unknown) => {
      derived = undefined;
      throw err;
    });
    return derived;
  };
}

/** The value of `List-Unsubscribe` in a multipart/form-data body (some providers post that way). */
function multipartOneClick(body: string): Record<string, string> {
  const value = /name="List-Unsubscribe"\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]*)/.exec(body)?.[1];
  return value === undefined ? {} : { "List-Unsubscribe": value.trim() };
}

export function registerSubscriptionRoutes(app: FastifyInstance, deps: Deps): SubscriptionService {
  // Read-only use of the ledger (the projection's dates); every change goes through the consent service.
  const ledger = createConsentLedger({ db: deps.db, clock: deps.clock });
  const service = createSubscriptionService({
    db: deps.db,
    vault: deps.vault,
    manifest: deps.manifest,
    consent: deps.consent,
    stateRows: (subjectId) => ledger.stateRows(subjectId),
    notifier: deps.notifier,
    clock: deps.clock,
    publicUrl: deps.config.publicUrl,
    mailFrom: deps.config.mailFrom,
    tokenKey: tokenKeyOf(deps.vault, deps.config.unsubscribeSecret),
  });
  app.decorate("custosSubscriptions", service);
  const { smsWebhookSecret } = deps.config;
  if (smsWebhookSecret === undefined)
    app.log.warn(
      "CUSTOS_SMS_WEBHOOK_SECRET is not set: the inbound SMS webhook refuses every call (SMS unsubscribe replies are not received)",
    );

  const r = app.withTypeProvider<ZodTypeProvider>();
  const langOf = (request: FastifyRequest, lang: "en" | "zh-CN" | undefined) =>
    lang ?? languageFromHeader(request.headers["accept-language"]);

  r.get(
    "/api/v1/me/subscriptions",
    {
      schema: {
        tags: ["subscriptions"],
        operationId: "listMySubscriptions",
        summary: "My marketing subscriptions, per channel",
        description:
          "Each marketing channel of the manifest with my choice, how to unsubscribe there, and when it last changed (CON-9).",
        querystring: z.strictObject({ lang: Language.optional() }),
        response: { 200: SubscriptionsView, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.list(me.subjectId, langOf(request, request.query.lang));
    },
  );

  r.put(
    "/api/v1/me/subscriptions/:channel",
    {
      schema: {
        tags: ["subscriptions"],
        operationId: "setMySubscription",
        summary: "Subscribe to or unsubscribe from one marketing channel",
        description:
          "Recorded in the consent ledger as a marketing consent event (subscribed = given, unsubscribed = withdrawn), effective in decisions at once.",
        params: ChannelParam,
        body: z.strictObject({ subscribed: z.boolean(), language: Language }),
        response: { 200: SubscriptionsView, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.set(me.subjectId, request.params.channel, request.body);
    },
  );

  r.get(
    "/api/v1/unsubscribe/:token",
    {
      schema: {
        tags: ["subscriptions"],
        operationId: "getUnsubscribeLink",
        summary: "What a one-click unsubscribe link is for (the confirmation page)",
        description: "Checks the link's signature and age; answers the channel only. Changes nothing.",
        params: TokenParam,
        querystring: z.strictObject({ lang: Language.optional() }),
        response: { 200: z.object({ channel: z.string(), name: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      return service.tokenInfo(request.params.token, langOf(request, request.query.lang));
    },
  );

  r.get(
    `${UNSUBSCRIBE_PATH}/:token`,
    {
      schema: {
        tags: ["subscriptions"],
        operationId: "openUnsubscribeLink",
        summary: "Open a one-click unsubscribe link in a browser",
        description:
          "Redirects to the confirmation page, which unsubscribes only when the person presses its button: a GET never unsubscribes, since mail scanners follow links.",
        params: TokenParam,
        response: { 302: z.null().describe("Redirect to /center/unsubscribe/:token") },
      },
    },
    async (request, reply) =>
      reply.redirect(`/center/unsubscribe/${encodeURIComponent(request.params.token)}`, 302),
  );

  // One-click POSTs come from mail providers as form bodies, with no session (so no CSRF check).
  app.register(async (child) => {
    child.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    child.addContentTypeParser(
      "multipart/form-data",
      { parseAs: "string", bodyLimit: 4096 },
      (_request, body, done) => done(null, multipartOneClick(String(body))),
    );
    child.withTypeProvider<ZodTypeProvider>().post(
      `${UNSUBSCRIBE_PATH}/:token`,
      {
        config: { csrf: false },
        schema: {
          tags: ["subscriptions"],
          operationId: "oneClickUnsubscribe",
          consumes: ["application/x-www-form-urlencoded", "multipart/form-data"],
          summary: "RFC 8058 one-click unsubscribe",
          description:
            "The target of `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. Authenticated by the signed token alone (no session, no CSRF token); unsubscribes the token's channel. Idempotent.",
          params: TokenParam,
          body: OneClickBody,
          response: {
            200: z.object({ channel: z.string(), subscribed: z.literal(false) }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        reply.header("cache-control", "no-store");
        return service.unsubscribeByToken(request.params.token);
      },
    );
  });

  // The SMS gateway signs the raw body, so this route keeps the bytes it was sent.
  app.register(async (child) => {
    child.removeContentTypeParser("application/json");
    child.addContentTypeParser(
      "application/json",
      { parseAs: "buffer", bodyLimit: 16_384 },
      (request, body, done) => {
        const raw = body as Buffer;
        request.rawBody = raw;
        // Bad JSON is reported after the signature check, so an unsigned caller learns nothing.
        try {
          done(null, JSON.parse(raw.toString("utf8")));
        } catch {
          done(null, undefined);
        }
      },
    );
    child.withTypeProvider<ZodTypeProvider>().post(
      "/api/v1/webhooks/sms-inbound",
      {
        schema: {
          tags: ["subscriptions"],
          operationId: "receiveSmsReply",
          summary: "Inbound SMS from the SMS gateway (reply TD/STOP/退订 to unsubscribe)",
          description: `Signed by the gateway: header \`${SMS_SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the raw body>\` with CUSTOS_SMS_WEBHOOK_SECRET. A reply of TD, T, STOP, UNSUBSCRIBE or 退订 (any case, spacing or full-width form) unsubscribes that number from marketing SMS and confirms by SMS. The answer is the same whatever the number and text, and the text is not kept.`,
          body: SmsInbound,
          response: { 200: z.object({ received: z.literal(true) }), ...withAuth },
        },
        preValidation: async (request) => {
          if (smsWebhookSecret === undefined)
            throw new AppError("forbidden", {
              message:
                "The SMS webhook is not configured on this server. Set CUSTOS_SMS_WEBHOOK_SECRET to the secret shared with the SMS gateway.",
              details: { reason: "webhook_not_configured" },
            });
          if (
            !request.rawBody ||
            !isValidWebhookSignature(smsWebhookSecret, request.rawBody, request.headers[SMS_SIGNATURE_HEADER])
          )
            throw new AppError("unauthorized", {
              message: `The ${SMS_SIGNATURE_HEADER} header is missing or does not match the body. Send sha256=<hex HMAC-SHA256 of the exact body> computed with the shared secret.`,
              details: { reason: "bad_signature" },
            });
        },
      },
      async (request) => {
        await service.handleSmsReply(request.body);
        return { received: true as const };
      },
    );
  });

  return service;
}
