import { types } from "node:util";
import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "./config.ts";

/**
 * Structured logging with personal fields redacted (SEC-6). Request bodies are never logged;
 * request lines carry only method, route path (no query string) and the request id.
 */

/** Keys whose values are personal information or secrets, wherever they appear (up to 3 levels deep). */
export const REDACTED_KEYS = [
  "email",
  "phone",
  "mobile",
  "name",
  "idNumber",
  "password",
  "address",
  "token",
  "code",
  "secret",
  "recipient",
  "to",
  "cookie",
  "authorization",
  "body",
] as const;

const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  ...REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]).filter(
    // `code` is an error code on our own error objects; keep it at the top of `err`.
    (p) => p !== "*.code",
  ),
];

const EMAIL_RE = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;
const LONG_NUMBER_RE = /\+?\d[\d\s-]{6,}\d[\dXx]?/g;

/** Removes things that look like personal information (emails, phone or ID numbers) from free text. */
export function scrubText(text: string): string {
  return text.replace(EMAIL_RE, "[redacted-email]").replace(LONG_NUMBER_RE, "[redacted-number]");
}

type RequestLike = { method: string; url: string; id: string; routeOptions?: { url?: string | undefined } };

export function createLogger(options: { level: LogLevel; destination?: DestinationStream }): Logger {
  const loggerOptions = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { service: "custos-server" },
    serializers: {
      req: (req: RequestLike) => ({
        method: req.method,
        // Never the query string: it is the one place a client could put something personal.
        url: req.url.split("?")[0],
        route: req.routeOptions?.url,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: serializeError,
    },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

/** An error as logged: type, code and stack frames, with any personal-looking text scrubbed from the message. */
export function serializeError(err: unknown): Record<string, unknown> {
  // isNativeError also recognises errors made in another realm (vm contexts, test workers).
  if (!(err instanceof Error) && !types.isNativeError(err)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const frames = (err.stack ?? "")
    .split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .map((line) => scrubText(line.trim()));
  return {
    type: err.name,
    ...(typeof code === "string" ? { code } : {}),
    message: scrubText(err.message),
    stack: frames.join("\n"),
  };
}
