import { AppError, type ErrorCode, HTTP_STATUS, isAppError, isErrorCode } from "@custos/core";
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { z } from "zod";
import { serializeError } from "./logging.ts";

/**
 * The one error handler: every failure leaves the server as
 * `{ error: { code, message, details?, requestId } }` with a message saying what was wrong and what
 * to do. Unexpected faults become a bare 500 `internal` with the request id only (SEC-6).
 */

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().max(64),
      message: z.string().max(2000),
      details: z.unknown().optional(),
      requestId: z.string().max(100),
    }),
  })
  .meta({ id: "ErrorBody", description: "Every error answer has this shape." });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Response schemas to spread into a route's `response`, documenting the error model in OpenAPI. */
export const errorResponses = {
  400: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
} as const;

type Issue = { field: string; message: string };

const CONTEXT_NAMES: Record<string, string> = {
  querystring: "query",
  params: "path",
  body: "body",
  headers: "header",
};

function validationIssues(err: FastifyError): Issue[] {
  const context = CONTEXT_NAMES[err.validationContext ?? ""] ?? err.validationContext ?? "request";
  return (err.validation ?? []).map((v) => {
    const pointer = v.instancePath.replace(/^\//, "").replace(/\//g, ".");
    // Zod reports a missing key at the parent; name it from params when it says so.
    return { field: pointer ? `${context}.${pointer}` : context, message: v.message ?? "is invalid" };
  });
}

const INTERNAL_MESSAGE =
  "Something went wrong on our side. Try again later; if it keeps happening, report it with the request id.";

/** Maps a Fastify built-in error (by its code or status) onto our closed set, with our own wording. */
function fromFastifyError(err: FastifyError): AppError | undefined {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new AppError("payload_too_large", {
        message: "The request body is too large. Send a smaller body (at most 1 MiB).",
      });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new AppError("unsupported_media_type", {
        message: "This content type is not accepted. Send the body as application/json.",
      });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new AppError("validation_failed", {
        message:
          "The request body is not valid JSON. Send a JSON object, or no content-type header with no body.",
      });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new AppError("validation_failed", {
        message: "The Content-Length header does not match the body. Resend the request.",
      });
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status === 429)
    return new AppError("rate_limited", { message: "Too many requests. Wait a moment and try again." });
  if (status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 401
        ? "unauthorized"
        : status === 403
          ? "forbidden"
          : status === 404
            ? "not_found"
            : status === 409
              ? "conflict"
              : "validation_failed";
    return new AppError(code, {
      message: "The request could not be understood. Check the method, path and body.",
    });
  }
  return undefined;
}

function send(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  error: Omit<ErrorBody["error"], "requestId">,
) {
  const body: ErrorBody = { error: { ...error, requestId: request.id } };
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

/**
 * The answer to a failure that is not a schema validation: an AppError (or a Fastify built-in
 * error mapped onto one) below 500 says what was wrong; anything else is a bare 500 `internal`
 * with the request id only, its details in the log (scrubbed).
 */
export function errorAnswer(
  err: unknown,
  requestId: string,
  log: Pick<FastifyBaseLogger, "info" | "error">,
): { status: number; body: ErrorBody } {
  const appError = isAppError(err)
    ? err
    : err instanceof Error
      ? fromFastifyError(err as FastifyError)
      : undefined;
  if (appError && appError.statusCode < 500) {
    log.info({ code: appError.code, status: appError.statusCode }, "request refused");
    const details = appError.details;
    return {
      status: appError.statusCode,
      body: {
        error: {
          code: appError.code,
          message: appError.message,
          ...(details === undefined ? {} : { details }),
          requestId,
        },
      },
    };
  }
  log.error({ err: serializeError(err) }, "unexpected error");
  return { status: 500, body: { error: { code: "internal", message: INTERNAL_MESSAGE, requestId } } };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = validationIssues(err);
      const summary = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
      return send(reply, request, 400, {
        code: "validation_failed",
        message: `The request is invalid (${summary}). Correct the listed fields and try again.`.slice(
          0,
          2000,
        ),
        details: { issues },
      });
    }
    const { status, body } = errorAnswer(err, request.id, request.log);
    return reply.code(status).type("application/json; charset=utf-8").send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, request, 404, {
      code: "not_found",
      message: `Nothing is served at ${request.method} on this path. See /docs for the API or /center for the privacy center.`,
    }),
  );
}

/** Status for an error code, for routes that document it. */
export function statusOf(code: string): number {
  return isErrorCode(code) ? HTTP_STATUS[code] : 500;
}

/**
 * A resource that belongs to someone else is indistinguishable from one that does not exist:
 * both answer 404, so ids cannot be probed.
 */
export function assertOwned<T extends { subjectId: string }>(
  resource: T | undefined | null,
  subjectId: string,
  what: string,
): asserts resource is T {
  if (!resource || resource.subjectId !== subjectId)
    throw new AppError("not_found", {
      message: `No ${what} with this id exists for your account. Check the id, or list your ${what}s first.`,
    });
}
