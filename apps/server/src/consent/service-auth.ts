import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { AppError } from "@custos/core";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { parseJsonSetting } from "../json-setting.ts";

/**
 * Service authentication for machine callers (decisions, consent recorded by an app backend).
 *
 * Configure `CUSTOS_SERVICE_KEYS` as a JSON array of `{ "name": "game-server", "keyHash": "<sha256 hex>" }`;
 * `custos service-key create <name>` makes a key and prints the value with its hash added (or make
 * one with `openssl rand -base64 32` and hash it with `printf %s "$KEY" | sha256sum`). Callers send
 * the key in the `x-custos-service-key` header. Only hashes are configured, so the configuration
 * never holds a usable key. A service may have two entries (two keys) while its key is rotated.
 */

export const SERVICE_KEY_HEADER = "x-custos-service-key";

export type ServiceKey = { name: string; keyHash: string };

const ServiceKeys = z
  .array(
    z.strictObject({
      name: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9._:-]+$/, "a service name is letters, digits and . _ : - (e.g. game-server)"),
      keyHash: z
        .string()
        .regex(/^[0-9a-f]{64}$/, "keyHash is the SHA-256 of the key in lower-case hex (64 characters)"),
    }),
  )
  .max(100);

/** Parses CUSTOS_SERVICE_KEYS; an empty or missing value means no service may call. */
export function parseServiceKeys(
  text: string | undefined,
): { ok: true; keys: ServiceKey[] } | { ok: false; problems: string[] } {
  const parsed = parseJsonSetting(text, ServiceKeys, {
    empty: [],
    invalidJson: 'must be a JSON array such as [{"name":"game-server","keyHash":"<sha256 hex>"}]',
  });
  return parsed.ok ? { ok: true, keys: parsed.value } : parsed;
}

/**
 * A new service key: 256 random bits in base64url, after a prefix that secret scanners can look for
 * (`custos_sk_`). Any header-safe text works as a key; this is what `custos service-key create` makes.
 */
export function newServiceKey(): string {
  return `custos_sk_${randomBytes(32).toString("base64url")}`;
}

export function hashServiceKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export type ServiceContext = { service: string };

type Verifier = (request: FastifyRequest) => ServiceContext | undefined;

type Matcher = (header: string | string[] | undefined) => ServiceContext | undefined;

const matchers = new WeakMap<readonly ServiceKey[], Matcher>();

/**
 * The service a presented `x-custos-service-key` header value authenticates as, or undefined. The
 * SHA-256 of the key is compared with every configured hash in constant time (no early exit, no
 * cache keyed by the key text: a lookup by secret would time differently for near misses).
 */
export function serviceKeyMatcher(keys: readonly ServiceKey[]): Matcher {
  const known = matchers.get(keys);
  if (known) return known;
  const hashes = keys.map((k) => ({ name: k.name, hash: Buffer.from(k.keyHash, "hex") }));
  const match: Matcher = (header) => {
    const key = Array.isArray(header) ? header[0] : header;
    if (hashes.length === 0 || typeof key !== "string" || key.length < 16 || key.length > 200)
      return undefined;
    const given = hash("sha256", key, "buffer");
    let found: ServiceContext | undefined;
    for (const h of hashes) if (timingSafeEqual(h.hash, given) && !found) found = { service: h.name };
    return found;
  };
  matchers.set(keys, match);
  return match;
}

const verifiers = new WeakMap<readonly ServiceKey[], Verifier>();

/**
 * The service a request authenticates as, or undefined (see serviceKeyMatcher). The answer is kept
 * per request, so the rate limiter (which buckets services by name) and the route guard check the
 * key once.
 */
export function serviceKeyVerifier(keys: readonly ServiceKey[]): Verifier {
  const known = verifiers.get(keys);
  if (known) return known;
  const match = serviceKeyMatcher(keys);
  // The answer is kept on the request (null: no valid key), not in a WeakMap keyed by requests,
  // which would keep every request alive until the next full garbage collection (REPLY in
  // security-plugins.ts says what that cost).
  const seen = Symbol("custos.service");
  const verify: Verifier = (request) => {
    const slot = request as FastifyRequest & { [seen]?: ServiceContext | null };
    const cached = slot[seen];
    if (cached !== undefined) return cached ?? undefined;
    const found = match(request.headers[SERVICE_KEY_HEADER]);
    slot[seen] = found ?? null;
    return found;
  };
  verifiers.set(keys, verify);
  return verify;
}

/** A guard: the calling service, else 401 `unauthorized`. */
export function serviceGuard(keys: readonly ServiceKey[]) {
  const verify = serviceKeyVerifier(keys);
  return function requireService(request: FastifyRequest): ServiceContext {
    const match = verify(request);
    if (match) return match;
    throw new AppError("unauthorized", {
      message: `This endpoint is for services: send a configured service key in the ${SERVICE_KEY_HEADER} header (see CUSTOS_SERVICE_KEYS).`,
    });
  };
}
