import { AppError } from "@custos/core";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponses } from "../errors.ts";
import { requestLanguage } from "./account-messages.ts";
import { guardsAccountsPort, type OidcAccountsPort } from "./oidc-accounts-port.ts";
import {
  createOidcService,
  OIDC_COOKIE_PATH,
  OIDC_MODES,
  OIDC_STATE_COOKIE,
  type OidcService,
  type OidcServiceDeps,
} from "./oidc-service.ts";

/** HTTP surface of third-party sign-in (ACC-2). */

type Deps = { oidcService: OidcService; accounts: OidcAccountsPort; publicUrl: string };

const tags = ["accounts"];

const ProviderParams = z.object({
  provider: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "a provider id is 1-40 lower-case letters, digits or '-'"),
});

const LocalizedName = z.object({ en: z.string().max(80), "zh-CN": z.string().max(80) });

const ProviderList = z
  .object({
    providers: z.array(
      z.object({ id: z.string().max(40), name: LocalizedName, startUrl: z.string().max(200) }),
    ),
    policyVersion: z.string().max(40),
  })
  .meta({ id: "OidcProviderList" });

const StartQuery = z.object({
  mode: z.enum(OIDC_MODES).default("login"),
  returnTo: z.string().max(500).optional(),
  acceptPolicy: z
    .string()
    .max(40)
    .optional()
    .describe("The privacy policy version shown on the sign-in page; needed when a new account is created."),
  lang: z.enum(["en", "zh-CN"]).optional(),
});

const bounded = z.string().max(2000).optional();
const CallbackQuery = z
  .object({
    code: bounded,
    state: bounded,
    iss: bounded,
    error: z.string().max(200).optional(),
    error_description: bounded,
    error_uri: bounded,
    session_state: bounded,
  })
  .strict();

const LinkedList = z
  .object({
    providers: z.array(
      z.object({
        provider: z.string().max(40),
        name: LocalizedName.nullable(),
        storedFields: z
          .array(z.string().max(40))
          .describe("Manifest fields of third-party-login stored from it"),
        linkedAt: z.string().max(40),
        lastLoginAt: z.string().max(40).nullable(),
      }),
    ),
  })
  .meta({ id: "LinkedProviderList" });

const withMessage = (path: string, code: string): string => {
  const url = new URL(path, "http://x");
  url.searchParams.set("oidc", code);
  return `${url.pathname}${url.search}${url.hash}`;
};

export function registerOidcRoutes(app: FastifyInstance, { oidcService, accounts, publicUrl }: Deps): void {
  const secureCookies = publicUrl.startsWith("https:");
  const r = app.withTypeProvider<ZodTypeProvider>();
  const clearFlowCookie = (reply: FastifyReply) =>
    reply.clearCookie(OIDC_STATE_COOKIE, {
      path: OIDC_COOKIE_PATH,
      httpOnly: true,
      sameSite: "lax",
      secure: secureCookies,
    });

  r.get(
    "/api/v1/auth/oidc/providers",
    {
      schema: {
        tags,
        operationId: "listOidcProviders",
        summary: "List approved third-party sign-in providers",
        description:
          "Each provider's display name and the URL that starts signing in with it. Pass `acceptPolicy=<policyVersion>` to the start URL when the person accepted that policy version on the sign-in page (needed for a new account).",
        response: { 200: ProviderList, ...errorResponses },
      },
    },
    async () => ({
      providers: oidcService.list().map((p) => ({ ...p, startUrl: `${OIDC_COOKIE_PATH}/${p.id}/start` })),
      policyVersion: oidcService.policyVersion(),
    }),
  );

  r.get(
    "/api/v1/auth/oidc/:provider/start",
    {
      schema: {
        tags,
        operationId: "startOidcSignIn",
        summary: "Start signing in (or linking) with a third-party provider",
        description:
          "Redirects (302) to the provider with an authorization code request (PKCE, state, nonce). The flow state is kept in a short-lived sealed cookie. `mode=link` attaches the provider to the signed-in account (needs a fresh verification, ACC-4); `mode=reauth` signs in again at a linked provider to verify it is you (ACC-4). `returnTo` must be a /center path.",
        params: ProviderParams,
        querystring: StartQuery,
        response: {
          302: z.null().describe("Redirect to the provider"),
          401: errorResponses[400],
          403: errorResponses[400],
          409: errorResponses[400],
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { mode, returnTo, acceptPolicy, lang } = request.query;
      const current = mode === "login" ? undefined : await accounts.currentSubject(request);
      // Attaching a new way to sign in is a sensitive change: it needs a fresh verification (ACC-4).
      if (mode === "link" && current) await accounts.requireFresh(request);
      const started = await oidcService.start({
        provider: request.params.provider,
        mode,
        returnTo,
        acceptPolicy,
        locale: requestLanguage(lang, request.headers["accept-language"]),
        subjectId: current?.subjectId,
      });
      reply.setCookie(OIDC_STATE_COOKIE, started.cookie, {
        path: OIDC_COOKIE_PATH,
        httpOnly: true,
        sameSite: "lax",
        secure: secureCookies,
        maxAge: started.maxAgeSeconds,
      });
      reply.header("cache-control", "no-store");
      return reply.redirect(started.url, 302);
    },
  );

  r.get(
    "/api/v1/auth/oidc/:provider/callback",
    {
      schema: {
        tags,
        operationId: "oidcCallback",
        summary: "Where the provider sends the person back",
        description:
          "Completes the flow and redirects: to `returnTo` when signed in or linked, otherwise to the sign-in page with `oidc=<message code>` (denied, failed, expired, state-mismatch, policy-required, already-linked, account-locked, signed-out, not-linked); `oidc=linked` or `oidc=verified` after linking or verifying again. Nothing is stored for a refused or failed flow.",
        params: ProviderParams,
        querystring: CallbackQuery,
        response: { 302: z.null().describe("Redirect into the privacy center"), ...errorResponses },
      },
    },
    async (request, reply) => {
      const current = await accounts.currentSubject(request);
      const outcome = await oidcService.callback({
        provider: request.params.provider,
        currentUrl: new URL(request.url, publicUrl),
        cookie: request.cookies[OIDC_STATE_COOKIE],
        currentSubjectId: current?.subjectId,
      });
      clearFlowCookie(reply);
      reply.header("cache-control", "no-store");
      if (outcome.kind === "refused") return reply.redirect(withMessage(outcome.returnTo, outcome.code), 302);
      if (outcome.kind === "linked") return reply.redirect(withMessage(outcome.returnTo, "linked"), 302);
      if (outcome.kind === "verified") {
        if (current) await accounts.markFresh(request, current.sessionId);
        return reply.redirect(withMessage(outcome.returnTo, "verified"), 302);
      }
      // A new account: its policy acceptance goes into the consent ledger (CON-2, CON-4).
      if (outcome.accepted)
        await request.server.custos.consent.record(outcome.subjectId, {
          policy: true,
          state: "given",
          noticeVersion: outcome.accepted.policyVersion,
          language: outcome.accepted.locale,
          method: "web",
        });
      await accounts.signIn(request, reply, outcome.subjectId);
      return reply.redirect(outcome.returnTo, 302);
    },
  );

  r.get(
    "/api/v1/me/providers",
    {
      schema: {
        tags,
        operationId: "listMyProviders",
        summary: "List the third-party providers linked to my account",
        response: { 200: LinkedList, 401: errorResponses[400], ...errorResponses },
      },
    },
    async (request) => {
      const subjectId = await signedIn(accounts, request);
      const rows = await oidcService.linked(subjectId);
      return {
        providers: rows.map((l) => ({
          provider: l.provider,
          name: l.name ?? null,
          storedFields: l.claimFields,
          linkedAt: l.linkedAt.toISOString(),
          lastLoginAt: l.lastLoginAt?.toISOString() ?? null,
        })),
      };
    },
  );

  r.delete(
    "/api/v1/me/providers/:provider",
    {
      schema: {
        tags,
        operationId: "unlinkMyProvider",
        summary: "Unlink a third-party provider from my account",
        description:
          "Deletes the link and every claim stored from that provider. Refused with 409 when it is the last way to sign in and the account has no password: set a password first.",
        params: ProviderParams,
        response: { 204: z.null(), 401: errorResponses[400], 409: errorResponses[400], ...errorResponses },
      },
    },
    async (request, reply) => {
      const subjectId = await signedIn(accounts, request);
      await oidcService.unlink(subjectId, request.params.provider);
      return reply.code(204).send(null);
    },
  );
}

async function signedIn(
  accounts: OidcAccountsPort,
  request: Parameters<OidcAccountsPort["currentSubject"]>[0],
) {
  const current = await accounts.currentSubject(request);
  if (!current)
    throw new AppError("unauthorized", { message: "Sign in to the privacy center first, then try again." });
  return current.subjectId;
}

/**
 * Builds the OIDC service and registers its routes: the one call app.ts makes. Without an
 * `accounts` port the session-service adapter is used (see oidc-accounts-port.ts).
 */
export function registerOidc(
  app: FastifyInstance,
  deps: Omit<OidcServiceDeps, "log"> & { accounts?: OidcAccountsPort },
): OidcService {
  const oidcService = createOidcService({
    ...deps,
    log: (event) => app.log.warn({ oidc: event }, "third-party sign-in refused"),
  });
  const accounts = deps.accounts ?? guardsAccountsPort;
  registerOidcRoutes(app, { oidcService, accounts, publicUrl: deps.publicUrl });
  return oidcService;
}
