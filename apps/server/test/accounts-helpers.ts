import type { FastifyInstance } from "fastify";
import { expect } from "vitest";

/** Small helpers for the accounts tests: read codes from the dev outbox, register, sign in. */

export const CHROME_LINUX =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
export const FIREFOX_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

type OutboxMessage = { template: string; channel: string; body: string; to: string; subject: string };

export async function outbox(app: FastifyInstance): Promise<OutboxMessage[]> {
  const res = await app.inject({ method: "GET", url: "/api/v1/dev/outbox?limit=200" });
  expect(res.statusCode).toBe(200);
  return (res.json() as { messages: OutboxMessage[] }).messages;
}

/** The code in the newest verification-code message. */
export async function latestCode(app: FastifyInstance): Promise<string> {
  const message = (await outbox(app)).find((m) => m.template === "verification-code");
  const code = /\b(\d{6})\b/.exec(message?.body ?? "")?.[1];
  if (!code) throw new Error("no verification code in the dev outbox");
  return code;
}

let tick: () => void = () => {};
/**
 * Called before every code is requested by these helpers: with a fixed clock, move it on so the
 * newest message in the outbox is unambiguous.
 */
export function setTick(fn: () => void): void {
  tick = fn;
}

let ipCounter = 10;
/** A fresh client address per test, so per-IP limits of one test do not leak into another. */
export function newIp(): string {
  ipCounter += 1;
  return `198.51.100.${ipCounter}`;
}

export type Registered = {
  subjectId: string;
  token: string;
  username: string;
  password: string;
  contact: string;
};

export async function register(
  app: FastifyInstance,
  policyVersion: string,
  input: { contact: string; username: string; password?: string; locale?: "en" | "zh-CN"; ip?: string },
): Promise<Registered> {
  const password = input.password ?? "Correct-Horse-9";
  const ip = input.ip ?? newIp();
  tick();
  const start = await app.inject({
    method: "POST",
    url: "/api/v1/accounts/register",
    headers: { "x-forwarded-for": ip, "user-agent": CHROME_LINUX },
    payload: {
      contact: input.contact,
      username: input.username,
      password,
      locale: input.locale ?? "en",
      policyVersion,
      acceptPolicy: true,
    },
  });
  expect(start.statusCode, start.body).toBe(202);
  const { verificationId } = start.json() as { verificationId: string };
  const verify = await app.inject({
    method: "POST",
    url: "/api/v1/accounts/register/verify",
    headers: { "x-forwarded-for": ip, "user-agent": CHROME_LINUX },
    payload: { verificationId, code: await latestCode(app), client: "api" },
  });
  expect(verify.statusCode, verify.body).toBe(201);
  const body = verify.json() as { subjectId: string; token: string };
  return {
    subjectId: body.subjectId,
    token: body.token,
    username: input.username,
    password,
    contact: input.contact,
  };
}

export async function login(
  app: FastifyInstance,
  identifier: string,
  password: string,
  options: { ip?: string; userAgent?: string; locale?: "en" | "zh-CN"; client?: "web" | "api" } = {},
) {
  return app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    headers: { "x-forwarded-for": options.ip ?? newIp(), "user-agent": options.userAgent ?? CHROME_LINUX },
    payload: {
      identifier,
      password,
      client: options.client ?? "api",
      ...(options.locale ? { locale: options.locale } : {}),
    },
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
