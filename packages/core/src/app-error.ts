/** The closed set of error codes the whole platform uses. */
export const ERROR_CODES = [
  "validation_failed",
  "not_found",
  "unauthorized",
  "forbidden",
  "conflict",
  "rate_limited",
  "payload_too_large",
  "unsupported_media_type",
  "manifest_invalid",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status for each error code. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  manifest_invalid: 422,
  rate_limited: 429,
  internal: 500,
};

export type AppErrorOptions = {
  /** What was wrong and what to do. Never contains personal information. */
  message: string;
  /** Structured, non-personal detail (e.g. the list of invalid fields). */
  details?: unknown;
  /** A message safe and meaningful to show an end user (may be localised by the caller). */
  userMessage?: string;
  cause?: unknown;
};

/** The one error type of the platform: a code from a closed set, mapped to an HTTP status. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details?: unknown;
  readonly userMessage?: string;

  constructor(code: ErrorCode, options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.statusCode = HTTP_STATUS[code];
    if (options.details !== undefined) this.details = options.details;
    if (options.userMessage !== undefined) this.userMessage = options.userMessage;
  }

  /** The `{ code, message, details? }` part of an HTTP error body. */
  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Throws a `validation_failed` AppError unless the condition holds. Reads like a sentence at the call site. */
export function assertThat(
  condition: unknown,
  code: ErrorCode,
  message: string,
  details?: unknown,
): asserts condition {
  if (!condition) throw new AppError(code, details === undefined ? { message } : { message, details });
}
