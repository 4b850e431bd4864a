import { fixedClock } from "@custos/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, expect } from "vitest";
import { hashServiceKey, SERVICE_KEY_HEADER } from "../src/consent/service-auth.ts";
import { bearer, register, setTick } from "./accounts-helpers.ts";
import { buildTestApp, type TestApp } from "./helpers.ts";

/** Shared set-up of the consent and decisions tests: an app with one service key, and signed-in players. */

export const SERVICE_KEY = "test-service-key-0123456789abcdefghij";
export const serviceHeaders = { [SERVICE_KEY_HEADER]: SERVICE_KEY };

export async function buildConsentApp(): Promise<{ t: TestApp; clock: ReturnType<typeof fixedClock> }> {
  const clock = fixedClock("2025-04-01T08:00:00Z");
  const t = await buildTestApp({
    env: {
      CUSTOS_DEV: "1",
      TRUST_PROXY: "true",
      CUSTOS_SERVICE_KEYS: JSON.stringify([{ name: "game-server", keyHash: hashServiceKey(SERVICE_KEY) }]),
    },
    deps: { clock },
  });
  setTick(() => clock.advance(1000));
  return { t, clock };
}

/**
 * One consent app for a whole test file: built before its tests (then handed to `ready`, which
 * keeps what it needs) and closed after them.
 */
export function useConsentApp(
  ready: (app: { t: TestApp; clock: ReturnType<typeof fixedClock>; version: string }) => void,
): void {
  let built: TestApp | undefined;
  beforeAll(async () => {
    const { t, clock } = await buildConsentApp();
    built = t;
    ready({ t, clock, version: t.manifest.manifest.version });
  });
  afterAll(async () => {
    await built?.close();
  });
}

let n = 0;
/** A newly registered player; returns the subject id and bearer headers. */
export async function newPlayer(t: TestApp) {
  n += 1;
  const r = await register(t.app, t.manifest.manifest.version, {
    contact: `consent.player${n}.${Date.now()}@example.com`,
    username: `consent_p${n}_${Math.floor(Math.random() * 1e6)}`,
  });
  return { subjectId: r.subjectId, headers: bearer(r.token) };
}

export type ConsentBody = {
  purposeId?: string;
  policy?: true;
  state?: string;
  noticeVersion?: string;
  language?: string;
  method?: string;
};

export async function postConsent(
  app: FastifyInstance,
  headers: Record<string, string>,
  body: ConsentBody,
  expected = 201,
) {
  const res = await app.inject({ method: "POST", url: "/api/v1/me/consents", headers, payload: body });
  expect(res.statusCode, res.body).toBe(expected);
  return res;
}

export async function decideOne(
  app: FastifyInstance,
  body: { subjectId: string; purposeId: string; categories?: string[] },
) {
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/decisions",
    headers: serviceHeaders,
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    allow: boolean;
    sensitive: boolean;
    reason: string;
    basis: string | null;
    validPurposes?: string[];
    validCategories?: string[];
  };
}
