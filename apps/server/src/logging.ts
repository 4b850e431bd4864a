import { types } from "node:util";
import {
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Level,
  type Logger,
  pino,
} from "pino";
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

const fileDestinations = new Map<string, DestinationStream>();

/**
 * One appending stream per file and process (however many apps a process builds). Writes are
 * synchronous: every line is in the file when the process ends, however it ends.
 */
function fileDestination(file: string): DestinationStream {
  let stream = fileDestinations.get(file);
  if (!stream) {
    stream = pino.destination({ dest: file, append: true, mkdir: true, sync: true });
    fileDestinations.set(file, stream);
  }
  return stream;
}

/**
 * The server's logger. Lines go to `destination` (standard output by default) and, when `file` is
 * given (CUSTOS_LOG_FILE), are also appended to that file: the same lines, level and redaction.
 */
export function createLogger(options: {
  level: LogLevel;
  destination?: DestinationStream;
  file?: string | undefined;
}): Logger {
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
  if (options.file === undefined || options.level === "silent")
    return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
  // Both streams take every line the logger writes: the logger's level (or a child's) decides.
  return pino(
    loggerOptions,
    pino.multistream([
      { level: "trace", stream: options.destination ?? pino.destination(1) },
      { level: "trace", stream: fileDestination(options.file) },
    ]),
  );
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

/**
 * Fastify's `childLoggerFactory`: the per-request logger (bound to the request id) is made only when
 * something is actually logged at an enabled level. pino would otherwise build — and redact — the
 * child's bindings on every request, even when nothing below warn is written (as in production at
 * LOG_LEVEL=warn). Output is identical: the first enabled call creates the real child.
 */
export function lazyChildLogger(parent: Logger, bindings: Bindings, options: ChildLoggerOptions): Logger {
  // Route-level log options (level, serializers…) change the child: build it as pino would.
  for (const _ in options) return parent.child(bindings, options);
  return new LazyChildLogger(parent, bindings) as unknown as Logger;
}

class LazyChildLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  #real(): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }

  #log(level: Level, args: unknown[]): void {
    if (this.#child === undefined && !this.#parent.isLevelEnabled(level)) return;
    (this.#real()[level] as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    this.#log("trace", args);
  }
  debug(...args: unknown[]): void {
    this.#log("debug", args);
  }
  info(...args: unknown[]): void {
    this.#log("info", args);
  }
  warn(...args: unknown[]): void {
    this.#log("warn", args);
  }
  error(...args: unknown[]): void {
    this.#log("error", args);
  }
  fatal(...args: unknown[]): void {
    this.#log("fatal", args);
  }
  silent(): void {}

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  get levels(): Logger["levels"] {
    return this.#parent.levels;
  }
  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#real().child(bindings, options);
  }
  bindings(): Bindings {
    return this.#real().bindings();
  }
  setBindings(bindings: Bindings): void {
    this.#real().setBindings(bindings);
  }
  flush(cb?: (err?: Error) => void): void {
    this.#parent.flush(cb);
  }
}
