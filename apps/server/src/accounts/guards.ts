import { randomBytes } from "node:crypto";
import { AppError } from "@custos/core";
import type { SessionKind } from "@custos/store";
import type { FastifyReply, FastifyRequest } from "fastify";
import { SESSION_COOKIE } from "../security/csrf.ts";
import type { AccountService, LoginContext, SessionStarted } from "./account-service.ts";
import type { SessionService } from "./session-service.ts";

/**
 * Request guards for subject (player) routes. Any module may use them:
 *   const me = await requireSubject(request);         // 401 unless signed in (cookie or bearer)
 *   requireFresh(me);                                  // 403 reason "reauth_required" (ACC-4)
 * and end a login of its own (e.g. OpenID Connect) with `startSession(request, reply, subjectId, method)`.
 */

export const DEVICE_COOKIE = "custos_device";
const DEVICE_RE = /^[A-Za-z0-9_-]{43}$/;

export type SubjectContext = {
  subjectId: string;
  sessionId: string;
  kind: SessionKind;
  freshUntil: Date | null;
  via: "cookie" | "bearer";
};

export type AccountsRuntime = {
  accounts: AccountService;
  sessions: SessionService;
  secureCookies: boolean;
  reauthMinutes: number;
  now: () => Date;
};

declare module "fastify" {
  interface FastifyInstance {
    custosAccounts: AccountsRuntime;
  }
  interface FastifyRequest {
    custosSubject?: SubjectContext | null;
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S{1,200})$/i.exec(header.trim());
  return match?.[1];
}

/** The signed-in subject, or undefined (never throws for a missing or stale session). */
export async function currentSubject(request: FastifyRequest): Promise<SubjectContext | undefined> {
  if (request.custosSubject !== undefined) return request.custosSubject ?? undefined;
  const { sessions } = request.server.custosAccounts;
  const bearer = bearerToken(request);
  const token = bearer ?? request.cookies[SESSION_COOKIE];
  const session = token ? await sessions.authenticate(token) : undefined;
  const ctx: SubjectContext | null = session
    ? {
        subjectId: session.subjectId,
        sessionId: session.id,
        kind: session.kind,
        freshUntil: session.freshUntil,
        via: bearer ? "bearer" : "cookie",
      }
    : null;
  request.custosSubject = ctx;
  return ctx ?? undefined;
}

/** The signed-in subject (session cookie or `Authorization: Bearer`), else 401 `unauthorized`. */
export async function requireSubject(request: FastifyRequest): Promise<SubjectContext> {
  const ctx = await currentSubject(request);
  if (!ctx)
    throw new AppError("unauthorized", {
      message:
        "You are not signed in, or your session has ended. Sign in at /center/account/sign-in (or send Authorization: Bearer <token>).",
    });
  return ctx;
}

/** 403 `forbidden` with `details.reason = "reauth_required"` unless the session was re-verified recently (ACC-4). */
export function requireFresh(request: FastifyRequest, ctx: SubjectContext): void {
  const now = request.server.custosAccounts.now();
  if (!ctx.freshUntil || ctx.freshUntil <= now)
    throw new AppError("forbidden", {
      message:
        "Confirm it is you before viewing this: verify again with your password or a code (POST /api/v1/me/reauth).",
      details: { reason: "reauth_required" },
    });
}

/** Login context of a request: user agent, client IP and the device cookie (set when absent). */
export function loginContext(request: FastifyRequest, reply: FastifyReply, kind: SessionKind): LoginContext {
  const { secureCookies } = request.server.custosAccounts;
  let deviceId = request.cookies[DEVICE_COOKIE];
  if (!deviceId || !DEVICE_RE.test(deviceId)) {
    deviceId = kind === "web" ? randomBytes(32).toString("base64url") : undefined;
    if (deviceId)
      reply.setCookie(DEVICE_COOKIE, deviceId, {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        secure: secureCookies,
        maxAge: 400 * 24 * 3600,
      });
  }
  return { userAgent: request.headers["user-agent"], ip: request.ip, deviceId, kind };
}

/** Sets the session cookie for a web session. */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  started: SessionStarted,
): void {
  reply.setCookie(SESSION_COOKIE, started.token, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: request.server.custosAccounts.secureCookies,
    expires: started.expiresAt,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: request.server.custosAccounts.secureCookies,
  });
}

/**
 * Ends any login method: `AccountService.createSessionFor` plus, for the web, the session cookie.
 * Returns the session; for `kind: "api"` the caller hands `token` to the client.
 */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  subjectId: string,
  method: string,
  kind: SessionKind = "web",
): Promise<SessionStarted> {
  const started = await request.server.custosAccounts.accounts.createSessionFor(subjectId, {
    method,
    ...loginContext(request, reply, kind),
  });
  if (kind === "web") setSessionCookie(request, reply, started);
  return started;
}

/**
 * What the OpenID Connect routes need from accounts (their `OidcAccountsPort`): every third-party
 * sign-in ends in `createSessionFor` (login record, new-device alert) and sets the cookie.
 */
export const accountsPortForOidc = {
  async signIn(request: FastifyRequest, reply: FastifyReply, subjectId: string): Promise<void> {
    await startSession(request, reply, subjectId, "oidc");
  },
  async currentSubject(request: FastifyRequest) {
    const ctx = await currentSubject(request);
    return ctx ? { subjectId: ctx.subjectId, freshUntil: ctx.freshUntil } : undefined;
  },
};
