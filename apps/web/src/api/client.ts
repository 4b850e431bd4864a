/**
 * The web app's only door to the HTTP API. Errors keep the server's message and request id
 * (body `{ error: { code, message, details?, requestId } }`), so pages can show both.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: unknown;
  /** True when the server sent its own message (shown as-is); false for network or malformed answers. */
  readonly fromServer: boolean;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    requestId?: string | undefined;
    details?: unknown;
    fromServer: boolean;
  }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.fromServer = init.fromServer;
  }
}

type QueryValue = string | number | boolean | undefined | null;

/** Any thrown value as an ApiError, so pages show one kind of error state. */
export const asApiError = (e: unknown): ApiError =>
  e instanceof ApiError
    ? e
    : new ApiError({ status: 0, code: "unexpected", message: "unexpected", fromServer: false });

export const buildUrl = (path: string, query: Record<string, QueryValue> = {}): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** Turn a failed response body into an ApiError, whatever shape it came in. */
export const errorFromBody = (status: number, body: unknown, headerRequestId?: string | null): ApiError => {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message = typeof error?.message === "string" ? error.message : undefined;
  const requestId =
    typeof error?.requestId === "string" ? error.requestId : (headerRequestId ?? undefined) || undefined;
  return new ApiError({
    status,
    code: typeof error?.code === "string" ? error.code : `http-${status}`,
    message: message ?? `HTTP ${status}`,
    requestId,
    details: error?.details,
    fromServer: message !== undefined,
  });
};

export const apiGet = async <T>(
  path: string,
  query: Record<string, QueryValue> = {},
  signal?: AbortSignal,
): Promise<T> => {
  let response: Response;
  try {
    response = await fetch(buildUrl(path, query), {
      headers: { accept: "application/json" },
      credentials: "same-origin",
      signal: signal ?? null,
    });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new ApiError({ status: 0, code: "network", message: "network", fromServer: false });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) throw errorFromBody(response.status, body, response.headers.get("x-request-id"));
  if (body === undefined)
    throw new ApiError({
      status: response.status,
      code: "bad-response",
      message: "bad-response",
      fromServer: false,
    });
  return body as T;
};
