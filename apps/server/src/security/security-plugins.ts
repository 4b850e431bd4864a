import { AppError } from "@custos/core";
import rateLimit, { type FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import helmet, { type HelmetOptions } from "helmet";
import type { Config } from "../config.ts";
import { serviceKeyVerifier } from "../consent/service-auth.ts";
import { type WindowCount, WindowCounters } from "./window-counters.ts";

/**
 * Transport and browser hardening (SEC-8): for pages, a strict Content-Security-Policy that the
 * built web app satisfies (scripts and styles from this origin only) with helmet's other headers;
 * for the JSON API, a smaller set (API_SECURITY_HEADERS); HSTS, nosniff and frame denial on both;
 * and a global rate limit answered in the error model: per client address (RATE_LIMIT_MAX), except for callers
 * with a valid service key, which are limited per service (CUSTOS_SERVICE_RATE_LIMIT_MAX) since a
 * service sends many requests from few addresses. An invalid key counts against the address.
 */

export const CONTENT_SECURITY_POLICY = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'self'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

export const RATE_LIMIT_WINDOW_MS = 60_000;
const SERVICE_BUCKET = "service:";

/** The rate-limit key of requests authenticated as a service. */
export function serviceBucket(service: string): string {
  return `${SERVICE_BUCKET}${service}`;
}

/**
 * The security headers of the JSON API (every path under /api/), after OWASP's REST security
 * advice: nothing may be framed, run or sniffed, and nothing is cached or read cross-origin
 * without CORS. The browser-document headers helmet adds (opener and agent-cluster isolation,
 * DNS prefetch, old IE and Flash switches) say nothing about a JSON answer. A route that serves
 * a document under /api/ sets its own CSP and caching, which win.
 */
export const API_SECURITY_HEADERS: readonly string[] = Object.freeze([
  "content-security-policy",
  "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-resource-policy",
  "same-origin",
  "referrer-policy",
  "no-referrer",
  "strict-transport-security",
  "max-age=31536000; includeSubDomains",
  "x-content-type-options",
  "nosniff",
  "x-frame-options",
  "DENY",
  "cache-control",
  "no-store",
]);
const API_PREFIX = "/api/";

/**
 * The security headers of an answer to a request that presented a valid service key (the
 * decision API, the SDK's routes): the API set without the four headers that only act on a
 * browser document or a no-cors load (CSP, frame options, CORP, referrer policy). A browser can
 * only send the key from a script, through CORS, where none of the four has any effect; a
 * document, frame, image or script load cannot carry it, and gets the full set with its 401.
 * What acts on any client stays: no cache may keep the answer, no sniffing, HTTPS only (ADR 0012).
 */
export const SERVICE_API_SECURITY_HEADERS: readonly string[] = Object.freeze([
  "strict-transport-security",
  "max-age=31536000; includeSubDomains",
  "x-content-type-options",
  "nosniff",
  "cache-control",
  "no-store",
]);

/**
 * An answer to a service key carries the rate-limit headers once the service has used this share
 * of its window's quota (and on its 429, with `retry-after`); other answers always carry them.
 * A service sends thousands of requests a second, and three header lines on each cost both ends
 * of every exchange, while the count means something to it only near the limit (ADR 0013).
 */
export const SERVICE_RATE_LIMIT_HEADERS_FROM = 0.8;

/** Whether an answer counted `current` of `max` in its window carries the rate-limit headers. */
export function rateLimitHeadersDue(service: boolean, current: number, max: number): boolean {
  return !service || current >= max * SERVICE_RATE_LIMIT_HEADERS_FROM;
}

/** The rate-limit headers of an answer, as @fastify/rate-limit writes them: [name, value, …]. */
export function rateLimitHeaders(max: number, count: WindowCount): string[] {
  return [
    "x-ratelimit-limit",
    String(max),
    "x-ratelimit-remaining",
    String(Math.max(0, max - count.current)),
    "x-ratelimit-reset",
    String(Math.ceil(count.ttl / 1000)),
  ];
}

/**
 * A request's reply, kept on the request itself. Not in a WeakMap keyed by requests: V8's
 * young-generation collections kept every such entry alive, request and reply with it, until the
 * next full collection. Measured under load on GET /healthz: the heap swung between 50 and 200 MB,
 * each minor collection took 5 ms instead of 0.3, and the server answered 28,000 requests a second
 * instead of 54,000, with a p99 of 9 ms instead of 2.
 */
const REPLY = Symbol("custos.reply");
type WithReply = FastifyRequest & { [REPLY]?: FastifyReply };

/** What requests answered outside Fastify's hooks (the decision fast path) need to match them. */
export type Security = {
  /** The constant security headers of an answer to a service-key request, as a flat [name, value, …] list. */
  headers: readonly string[];
  /** The rate limiter's counters (window RATE_LIMIT_WINDOW_MS). */
  counters: WindowCounters;
};

export async function registerSecurity(app: FastifyInstance, config: Config): Promise<Security> {
  const pageHeaders = constantHelmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...CONTENT_SECURITY_POLICY,
        ...(config.publicUrl.startsWith("https:") ? { "upgrade-insecure-requests": [] } : {}),
      },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
  });
  const serviceOf = serviceKeyVerifier(config.serviceKeys);
  // On the raw response, as @fastify/helmet did: a route's own reply.header() still wins.
  // Each request's reply, for the rate limiter's callback (which is given the request only).
  app.addHook("onRequest", (request, reply, done) => {
    (request as WithReply)[REPLY] = reply;
    const raw = reply.raw;
    const headers = !request.url.startsWith(API_PREFIX)
      ? pageHeaders
      : serviceOf(request)
        ? SERVICE_API_SECURITY_HEADERS
        : API_SECURITY_HEADERS;
    for (let i = 0; i < headers.length; i += 2) raw.setHeader(headers[i] as string, headers[i + 1] as string);
    done();
  });

  const counters = new WindowCounters();
  const limitOf = (key: string) =>
    key.startsWith(SERVICE_BUCKET) ? config.serviceRateLimitMax : config.rateLimitMax;
  await app.register(rateLimit, {
    global: true,
    // The plugin calls `new store(options)`: a constructor returning an object yields that object.
    store: function sharedCounters() {
      return counters;
    } as unknown as FastifyRateLimitStoreCtor,
    keyGenerator: (request) => {
      const service = serviceOf(request);
      return service ? serviceBucket(service.service) : request.ip;
    },
    max: (_request, key) => limitOf(key),
    timeWindow: RATE_LIMIT_WINDOW_MS,
    addHeadersOnExceeding: {
      "x-ratelimit-limit": false,
      "x-ratelimit-remaining": false,
      "x-ratelimit-reset": false,
    },
    // The plugin's own headers within the limit are off; this callback, called for a request just
    // counted within the limit, puts them on its reply when they are due, where the plugin would.
    onExceeding: (request, key) => {
      const max = limitOf(key);
      const count = counters.peek(key, RATE_LIMIT_WINDOW_MS);
      const reply = (request as WithReply)[REPLY];
      if (!reply || !rateLimitHeadersDue(key.startsWith(SERVICE_BUCKET), count.current, max)) return;
      const headers = rateLimitHeaders(max, count);
      for (let i = 0; i < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1]);
    },
    errorResponseBuilder: (request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new AppError("rate_limited", {
        message: `Too many requests from this ${serviceOf(request) ? "service" : "client"} (limit ${context.max} per minute). Wait ${seconds} s and try again.`,
        details: { retryAfterSeconds: seconds, limitPerMinute: context.max },
      });
    },
  });
  return { headers: SERVICE_API_SECURITY_HEADERS, counters };
}

/**
 * The headers helmet sets for these options, computed once: they depend on nothing in the request
 * (no function-valued CSP directives, no nonces), and @fastify/helmet would rebuild the whole
 * helmet middleware chain, CSP parsing included, on every request. A flat [name, value, …] list.
 */
export function constantHelmetHeaders(options: HelmetOptions): string[] {
  const headers: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== "string") throw new TypeError(`helmet header ${name} is not a constant string`);
      headers.push(name, value);
    },
    // helmet removes X-Powered-By, which neither Node nor Fastify sets.
    removeHeader() {},
  };
  let finished = false;
  helmet(options)({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished) throw new Error("helmet did not finish synchronously");
  return headers;
}
