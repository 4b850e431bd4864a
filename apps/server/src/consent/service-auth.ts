import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "@custos/core";
import type { FastifyRequest } from "fastify";
import { z } from "zod";

/**
 * Service authentication for machine callers (decisions, consent recorded by an app backend).
 *
 * Configure `CUSTOS_SERVICE_KEYS` as a JSON array of `{ "name": "game-server", "keyHash": "<sha256 hex>" }`;
 * create a key with `openssl rand -base64 32` and its hash with
 * `printf %s "$KEY" | sha256sum`. Callers send the key in the `x-custos-service-key` header. Only
 * hashes are configured, so the configuration never holds a usable key.
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
  if (text === undefined || text.trim() === "") return { ok: true, keys: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      ok: false,
      problems: ['must be a JSON array such as [{"name":"game-server","keyHash":"<sha256 hex>"}]'],
    };
  }
  const parsed = ServiceKeys.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.map(
        (i) => `${i.path.length ? `[${i.path.join(".")}] ` : ""}${i.message}`,
      ),
    };
  return { ok: true, keys: parsed.data };
}

export function hashServiceKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export type ServiceContext = { service: string };

/** A guard: the calling service, else 401 `unauthorized`. */
export function serviceGuard(keys: readonly ServiceKey[]) {
  const hashes = keys.map((k) => ({ name: k.name, hash: Buffer.from(k.keyHash, "hex") }));
  return function requireService(request: FastifyRequest): ServiceContext {
    const header = request.headers[SERVICE_KEY_HEADER];
    const key = Array.isArray(header) ? header[0] : header;
    if (typeof key === "string" && key.length >= 16 && key.length <= 200) {
      const given = Buffer.from(hashServiceKey(key), "hex");
      const match = hashes.find((h) => timingSafeEqual(h.hash, given));
      if (match) return { service: match.name };
    }
    throw new AppError("unauthorized", {
      message: `This endpoint is for services: send a configured service key in the ${SERVICE_KEY_HEADER} header (see CUSTOS_SERVICE_KEYS).`,
    });
  };
}
