import { randomBytes, timingSafeEqual } from "node:crypto";
import { AppError } from "@custos/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponses } from "../errors.ts";

/**
 * CSRF protection for cookie sessions: a double-submit token plus an origin check. It applies to
 * every unsafe request (POST, PUT, PATCH, DELETE) that carries the session cookie, so no route can
 * forget it. Requests without the session cookie (API clients with bearer tokens) are not affected.
 */

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * `false` exempts the route from the CSRF check: only for routes that ignore the session and
     * authenticate by a signed token in the request (RFC 8058 one-click unsubscribe).
     */
    csrf?: boolean;
  }
}

export const SESSION_COOKIE = "custos_session";
export const CSRF_COOKIE = "custos_csrf";
export const CSRF_HEADER = "x-csrf-token";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** The `details.reason` of a CSRF refusal (the closed error-code set has `forbidden`, not a CSRF code). */
export const CSRF_FAILED = "csrf_failed";

function csrfError(message: string): AppError {
  return new AppError("forbidden", { message, details: { reason: CSRF_FAILED } });
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function originOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.origin === "null" ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/** The origins a legitimate page of ours is served from: PUBLIC_URL and the Host the request came to. */
function allowedOrigins(request: FastifyRequest, publicUrl: string): Set<string> {
  const allowed = new Set<string>();
  const configured = originOf(publicUrl);
  if (configured) allowed.add(configured);
  const host = request.host;
  if (host) allowed.add(`${request.protocol}://${host}`);
  return allowed;
}

export function checkCsrf(request: FastifyRequest, publicUrl: string): void {
  if (!UNSAFE_METHODS.has(request.method)) return;
  if (request.cookies[SESSION_COOKIE] === undefined) return;
  // A route authenticated by something else than the session (a signed token) opts out.
  if (request.routeOptions.config.csrf === false) return;

  const cookieToken = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  const headerToken = Array.isArray(header) ? header[0] : header;
  if (!cookieToken || !headerToken)
    throw csrfError(
      `This request needs the ${CSRF_HEADER} header matching the ${CSRF_COOKIE} cookie. Get a token from GET /api/v1/session/csrf and send it in the header.`,
    );
  if (!sameToken(cookieToken, headerToken))
    throw csrfError(
      `The ${CSRF_HEADER} header does not match the ${CSRF_COOKIE} cookie. Fetch a fresh token from GET /api/v1/session/csrf and retry.`,
    );

  const origin = originOf(request.headers.origin) ?? originOf(request.headers.referer);
  if (!origin)
    throw csrfError("This request must come from a page of this site (Origin or Referer header missing).");
  if (!allowedOrigins(request, publicUrl).has(origin))
    throw csrfError(
      "This request came from another site and was refused. Submit it from this site's own pages.",
    );
}

export function registerCsrf(app: FastifyInstance, options: { publicUrl: string }): void {
  // Callback style (a throw is passed on like a rejection) spares a promise per request.
  app.addHook("onRequest", (request, _reply, done) => {
    checkCsrf(request, options.publicUrl);
    done();
  });

  const secure = options.publicUrl.startsWith("https:");
  app.withTypeProvider<ZodTypeProvider>().get(
    "/api/v1/session/csrf",
    {
      schema: {
        tags: ["session"],
        operationId: "getCsrfToken",
        summary: "Issue a CSRF token",
        description: `Sets the ${CSRF_COOKIE} cookie and returns the same token. Send it back in the ${CSRF_HEADER} header on every POST, PUT, PATCH and DELETE made with a session cookie.`,
        response: {
          200: z.object({ token: z.string().max(64), header: z.literal(CSRF_HEADER) }),
          ...errorResponses,
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const existing = request.cookies[CSRF_COOKIE];
      const token = existing && TOKEN_RE.test(existing) ? existing : randomBytes(32).toString("base64url");
      reply.setCookie(CSRF_COOKIE, token, { path: "/", httpOnly: true, sameSite: "strict", secure });
      reply.header("cache-control", "no-store");
      return { token, header: CSRF_HEADER } as const;
    },
  );
}
