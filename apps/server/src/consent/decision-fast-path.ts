import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { PurposeDecision } from "@custos/core";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { errorAnswer } from "../errors.ts";
import { lazyChildLogger } from "../logging.ts";
import {
  RATE_LIMIT_WINDOW_MS,
  rateLimitHeaders,
  rateLimitHeadersDue,
  type Security,
  serviceBucket,
} from "../security/security-plugins.ts";
import type { WindowCount } from "../security/window-counters.ts";
import type { Metrics } from "../system/metrics.ts";
import {
  DECISION_CHANNELS,
  DECISION_ID_RE,
  MAX_BATCH_DECISIONS,
  MAX_DECISION_CATEGORIES,
} from "./consent-routes.ts";
import type { ConsentService, DecisionItem } from "./consent-service.ts";
import {
  SERVICE_KEY_HEADER,
  type ServiceContext,
  type ServiceKey,
  serviceKeyMatcher,
} from "./service-auth.ts";

/**
 * The decision routes without the framework around them (issue 4, "HTTP decisions": a decision
 * should cost little more than the HTTP exchange itself).
 *
 * `POST /api/v1/decisions` is the one request services send before each use of personal
 * information, and `/api/v1/decisions/batch` its bulk form, so both are answered straight from
 * Node's request event, before Fastify. Only the plain, well-formed case is: a valid service key, a
 * JSON body the route's schema accepts, no cookie (so no CSRF question) and the service within its
 * rate limit. Everything else (a missing or wrong key, bad JSON, a failed validation, a limit
 * reached, a server closing) is handed to Fastify unchanged, or, once the body has been read,
 * replayed through `app.inject`, so every refusal is the route's own answer. The answer itself is
 * the route's: same headers (security, request id, rate limit), same body, same audit and counts,
 * same metrics and request log lines. Tests compare both paths request by request (ADR 0009).
 */

export const DECISION_PATH = "/api/v1/decisions";
export const BATCH_PATH = "/api/v1/decisions/batch";

/** A decision body is small: 50 categories of 64 characters fit in 4 KiB with room to spare. */
const MAX_FAST_BODY = 8192;
/** A batch of the usual size; larger ones (up to the body limit) go through the route. */
const MAX_FAST_BATCH_BODY = 512 * 1024;
const JSON_TYPE = /^application\/json\s*(?:;\s*charset=utf-8\s*)?$/i;
const HEX = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
const MAX_UUID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

/**
 * What `z.uuid()` accepts (versions 1 to 8 in RFC 9562's variant, any case, and the nil and max
 * ids), checked by character: a batch checks up to 1,000 of them. A test compares it with zod.
 */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (c > 127 || HEX[c] === 0) return false;
  }
  const version = s.charCodeAt(14);
  const variant = s.charCodeAt(19) | 0x20; // 8, 9, a, b in either case
  if (
    version >= 49 &&
    version <= 56 &&
    (variant === 56 || variant === 57 || variant === 97 || variant === 98)
  )
    return true;
  return s === NIL_UUID || s === MAX_UUID;
}
const CHANNELS: ReadonlySet<string> = new Set(DECISION_CHANNELS);
const FIELDS: ReadonlySet<string> = new Set(["subjectId", "purposeId", "categories", "channel"]);
const CONTENT_TYPE = "application/json; charset=utf-8";
/** Headers of a replayed answer that belong to that exchange, not to this one. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "date", "content-length"]);

type Deps = {
  service: ConsentService;
  serviceKeys: readonly ServiceKey[];
  security: Security;
  serviceRateLimitMax: number;
  metrics: Metrics;
  requestIdOf: (headers: IncomingMessage["headers"]) => string;
};

const isId = (v: unknown): v is string =>
  typeof v === "string" && v.length >= 1 && v.length <= 64 && DECISION_ID_RE.test(v);

/**
 * The item when the body is one the route's schema accepts as it stands, else undefined (the
 * route then says what is wrong). Never accepts what the schema refuses; a test checks both agree.
 */
export function plainDecisionItem(body: unknown): DecisionItem | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  // for…in: own keys only (JSON.parse makes plain objects), without the array Object.keys makes.
  for (const key in o) if (!FIELDS.has(key)) return undefined;
  const { subjectId, purposeId, categories, channel } = o;
  if (typeof subjectId !== "string" || !isUuid(subjectId) || !isId(purposeId)) return undefined;
  if (channel !== undefined && (typeof channel !== "string" || !CHANNELS.has(channel))) return undefined;
  if (categories !== undefined) {
    if (!Array.isArray(categories) || categories.length > MAX_DECISION_CATEGORIES) return undefined;
    for (const c of categories) if (!isId(c)) return undefined;
  }
  // The body itself when it has every field the item needs (the usual case: nothing to copy).
  if (categories !== undefined) return o as DecisionItem;
  return channel === undefined
    ? { subjectId, purposeId, categories: [] }
    : { subjectId, purposeId, categories: [], channel: channel as string };
}

/** The items of a batch body the route's schema accepts as it stands, else undefined. */
export function plainDecisionBatch(body: unknown): DecisionItem[] | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== "items") return undefined;
  const list = (body as { items: unknown }).items;
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_BATCH_DECISIONS) return undefined;
  const items: DecisionItem[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const item = plainDecisionItem(list[i]);
    if (!item) return undefined;
    items[i] = item;
  }
  return items;
}

const BATCH_OPEN = '{"decisions":[';
const BATCH_CLOSE = "]}";
/** A decision's response body, its length in bytes, and that length as content-length says it. */
type Body = { text: string; bytes: number; length: string };
/** The response body, as the route's response schema writes it (its fields, in its order). */
const bodies = new WeakMap<PurposeDecision, Body>();
function decisionBody(d: PurposeDecision): Body {
  let body = bodies.get(d);
  if (body === undefined) {
    const text = JSON.stringify({
      allow: d.allow,
      reason: d.reason,
      basis: d.basis,
      sensitive: d.sensitive,
      ...(d.validPurposes === undefined ? {} : { validPurposes: d.validPurposes }),
      ...(d.validCategories === undefined ? {} : { validCategories: d.validCategories }),
    });
    const bytes = Buffer.byteLength(text);
    body = { text, bytes, length: String(bytes) };
    bodies.set(d, body);
  }
  return body;
}

type RequestLog = ReturnType<typeof lazyChildLogger>;

/** How many requests the fast path answered itself, and how many it replayed through Fastify. */
export type FastPathStats = { answered: number; replayed: number };
const statsOf = new WeakMap<FastifyInstance, FastPathStats>();

/** The fast path's figures for an app (zeros when it is off: no service keys configured). */
export function decisionFastPathStats(app: FastifyInstance): FastPathStats {
  return statsOf.get(app) ?? { answered: 0, replayed: 0 };
}

/** Puts the fast path in front of Fastify's request handler. Call once, before `listen`. */
export function installDecisionFastPath(app: FastifyInstance, deps: Deps): void {
  if (deps.serviceKeys.length === 0) return;
  const match = serviceKeyMatcher(deps.serviceKeys);
  const server = app.server;
  const [fastify, ...others] = server.listeners("request") as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  if (!fastify || others.length > 0) throw new Error("expected Fastify's one request listener");
  server.removeListener("request", fastify);
  const stats: FastPathStats = { answered: 0, replayed: 0 };
  statsOf.set(app, stats);
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  const { counters, headers: securityHeaders } = deps.security;
  // The app's logger is pino (createLogger); Fastify types it by its smaller interface.
  const root = app.log as unknown as Logger;
  const max = deps.serviceRateLimitMax;
  // The answer's headers, filled in per answer. Node reads a header list once, while writeHead
  // runs (it keeps the text it builds, not the list), so one list serves every answer. The
  // rate-limit headers go in only when due (near the limit, ADR 0013), in a list of their own.
  const headers: string[] = [
    ...securityHeaders,
    "x-request-id",
    "",
    "content-type",
    CONTENT_TYPE,
    "content-length",
    "",
  ];
  const ID_AT = securityHeaders.length + 1;
  const LENGTH_AT = ID_AT + 4;
  const RATE_AT = LENGTH_AT + 1;
  const limited: string[] = [...headers, ...rateLimitHeaders(max, { current: 0, ttl: 0 })];

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (closing || !accept(req, res)) fastify(req, res);
  });

  // A service keeps its connection open and sends its key with every request: the key a
  // connection last proved is remembered on that connection, and a request presenting the same
  // text again skips the hash. The comparison can only tell a client about a key it sent itself.
  // With the caller goes its rate-limit key, made once.
  type Caller = { key: string; caller: ServiceContext; bucket: string };
  const proven = new WeakMap<Socket, Caller>();
  function callerOf(req: IncomingMessage): Caller | undefined {
    const header = req.headers[SERVICE_KEY_HEADER];
    const known = proven.get(req.socket);
    if (known && known.key === header) return known;
    const caller = match(header);
    if (!caller || typeof header !== "string") return undefined;
    const found = { key: header, caller, bucket: serviceBucket(caller.service) };
    proven.set(req.socket, found);
    return found;
  }

  /** Takes the request when it is the plain case; false hands it to Fastify untouched. */
  function accept(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== "POST") return false;
    const path = req.url;
    const batch = path === BATCH_PATH;
    if (!batch && path !== DECISION_PATH) return false;
    const h = req.headers;
    if (h.cookie !== undefined || h["transfer-encoding"] !== undefined) return false;
    const type = h["content-type"];
    if (type === undefined || (type !== "application/json" && !JSON_TYPE.test(type))) return false;
    const length = Number(h["content-length"]);
    if (!(length > 0 && length <= (batch ? MAX_FAST_BATCH_BODY : MAX_FAST_BODY))) return false;
    const known = callerOf(req);
    if (!known) return false;
    const { caller, bucket } = known;
    if (counters.countOf(bucket, RATE_LIMIT_WINDOW_MS) >= max) return false;

    const started = performance.now();
    const id = deps.requestIdOf(h);
    const log = root.isLevelEnabled("info") ? lazyChildLogger(root, { reqId: id }, {}) : undefined;
    // The body as bytes, decoded once at the end (a small body is one chunk: no copy at all).
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (first === undefined) first = chunk;
      else if (more === undefined) more = [first, chunk];
      else more.push(chunk);
    });
    req.on("error", () => {
      res.destroy();
    });
    req.on("end", () => {
      const text = (more ? Buffer.concat(more, received) : first)?.toString("utf8") ?? "";
      const items = received === length ? parseBody(text, batch) : undefined;
      const count = items ? counters.hit(bucket, RATE_LIMIT_WINDOW_MS) : undefined;
      // Fastify answers (and logs and measures) the replay as its own request.
      if (!items || !count || count.current > max) {
        stats.replayed += 1;
        replay(req, res, path, text);
        return;
      }
      log?.info({ req: { method: "POST", url: path, routeOptions: { url: path } } }, "incoming request");
      // The callbacks are inline (not named constants): a request creates only what it uses.
      if (batch) {
        deps.service.decideMany(caller.service, items, id).then(
          (decisions) => {
            // Its length is the parts' (ASCII punctuation around the decisions' cached bodies).
            let body = BATCH_OPEN;
            let bytes = BATCH_OPEN.length + BATCH_CLOSE.length + decisions.length - 1;
            for (let i = 0; i < decisions.length; i++) {
              const part = decisionBody(decisions[i] as PurposeDecision);
              body += i === 0 ? part.text : `,${part.text}`;
              bytes += part.bytes;
            }
            answer(res, path, 200, id, body + BATCH_CLOSE, count, started, log, String(bytes));
          },
          (error: unknown) => failed(res, path, error, id, count, started, log),
        );
        return;
      }
      let decided: PurposeDecision | Promise<PurposeDecision>;
      try {
        decided = deps.service.decideOne(caller.service, items[0] as DecisionItem, id);
      } catch (error) {
        decided = Promise.reject(error);
      }
      if (decided instanceof Promise)
        decided.then(
          (d) => {
            const { text, length } = decisionBody(d);
            answer(res, path, 200, id, text, count, started, log, length);
          },
          (error: unknown) => failed(res, path, error, id, count, started, log),
        );
      else {
        const { text, length } = decisionBody(decided);
        answer(res, path, 200, id, text, count, started, log, length);
      }
    });
    return true;
  }

  /** The route's error answer for a decision that failed (the error model, logged, no details leaked). */
  function failed(
    res: ServerResponse,
    path: string,
    error: unknown,
    id: string,
    count: WindowCount,
    started: number,
    log: RequestLog | undefined,
  ): void {
    const { status, body } = errorAnswer(error, id, log ?? root.child({ reqId: id }));
    answer(res, path, status, id, JSON.stringify(body), count, started, log);
  }

  /** The items of a plain body (one, or a batch's), else undefined (not JSON, or not plain). */
  function parseBody(text: string, batch: boolean): DecisionItem[] | undefined {
    try {
      const body: unknown = JSON.parse(text);
      if (batch) return plainDecisionBatch(body);
      const item = plainDecisionItem(body);
      return item ? [item] : undefined;
    } catch {
      return undefined;
    }
  }

  function answer(
    res: ServerResponse,
    path: string,
    status: number,
    id: string,
    body: string,
    count: WindowCount,
    started: number,
    log: RequestLog | undefined,
    length?: string,
  ): void {
    const due = rateLimitHeadersDue(true, count.current, max);
    const list = due ? limited : headers;
    list[ID_AT] = id;
    list[LENGTH_AT] = length ?? String(Buffer.byteLength(body));
    if (due) {
      const rate = rateLimitHeaders(max, count);
      for (let i = 0; i < rate.length; i++) list[RATE_AT + i] = rate[i] as string;
    }
    res.writeHead(status, list);
    res.end(body);
    stats.answered += 1;
    const ms = performance.now() - started;
    deps.metrics.observe("POST", path, status, ms / 1000);
    log?.info({ res: { statusCode: status }, responseTime: ms }, "request completed");
  }

  /** The route's own answer for a request whose body was read here (a refusal, or over the limit). */
  function replay(req: IncomingMessage, res: ServerResponse, path: string, payload: string): void {
    const headers = { ...req.headers };
    delete headers["content-length"];
    app
      .inject({
        method: "POST",
        url: path,
        headers,
        payload,
        remoteAddress: req.socket.remoteAddress ?? "127.0.0.1",
      })
      .then(
        (r) => {
          const out: string[] = [];
          for (const [name, value] of Object.entries(r.headers)) {
            if (HOP_HEADERS.has(name) || value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) out.push(name, String(v));
          }
          out.push("content-length", String(r.rawPayload.length));
          res.writeHead(r.statusCode, out);
          res.end(r.rawPayload);
        },
        () => res.destroy(),
      );
  }
}
