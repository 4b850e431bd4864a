import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponses } from "../errors.ts";
import type { Metrics } from "./metrics.ts";

type Deps = {
  /** Resolves when the database answers; rejects when it does not. */
  pingDatabase: () => Promise<void>;
  manifest: { version: string; hash: string };
  metrics: Metrics;
};

const Health = z.object({
  status: z.enum(["ok", "unavailable"]),
  database: z.enum(["up", "down"]),
  manifest: z.object({ version: z.string().max(40), hash: z.string().max(128) }),
});

/**
 * Health checks are polled hard (load balancers, orchestrators, benchmarks): concurrent checks share one
 * database ping, and a result is reused for `ttlMs`, so the answer is at most that old and a flood of
 * checks never queues on the database (PGlite serves one query at a time).
 */
export function sharedPing(ping: () => Promise<void>, ttlMs: number, now: () => number = Date.now) {
  let inFlight: Promise<boolean> | undefined;
  let last: { at: number; up: boolean } | undefined;
  return (): Promise<boolean> => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.up);
    inFlight ??= Promise.race([
      ping().then(() => true),
      new Promise<boolean>((_, reject) =>
        setTimeout(() => reject(new Error("database ping timed out")), 2000).unref(),
      ),
    ])
      .catch(() => false)
      .then((up) => {
        last = { at: now(), up };
        inFlight = undefined;
        return up;
      });
    return inFlight;
  };
}

export function registerSystemRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const checkDatabase = sharedPing(deps.pingDatabase, 1000);
  // The two possible answers, validated and serialised once: a JSON string is sent as it is.
  const answer = (up: boolean) =>
    JSON.stringify(
      Health.parse({
        status: up ? "ok" : "unavailable",
        database: up ? "up" : "down",
        manifest: deps.manifest,
      }),
    );
  const upBody = answer(true);
  const downBody = answer(false);

  r.get(
    "/healthz",
    {
      config: { rateLimit: false },
      schema: {
        tags: ["system"],
        operationId: "getHealth",
        summary: "Health check",
        description:
          "200 when the database answered (checked at most once a second), 503 when it did not. Names the manifest version in force.",
        response: { 200: Health, 503: Health, 500: errorResponses[500] },
      },
    },
    async (request, reply) => {
      const up = await checkDatabase();
      if (!up) request.log.warn("database ping failed or timed out");
      reply.header("cache-control", "no-store");
      return (
        reply
          .code(up ? 200 : 503)
          .type("application/json; charset=utf-8")
          // Already serialised (typed as the object it encodes): Fastify sends a JSON string as it is.
          .send((up ? upBody : downBody) as unknown as z.infer<typeof Health>)
      );
    },
  );

  r.get(
    "/metrics",
    {
      config: { rateLimit: false },
      schema: {
        tags: ["system"],
        operationId: "getMetrics",
        summary: "Prometheus metrics",
        description:
          "Text exposition format: process metrics and HTTP request durations by route and status.",
        produces: ["text/plain"],
        response: { 200: z.string().describe("Prometheus text exposition format") },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).header("cache-control", "no-store").send(text);
    },
  );

  r.get(
    "/openapi.json",
    { schema: { hide: true }, config: { rateLimit: false } },
    async (_request, reply) => {
      return reply.type("application/json; charset=utf-8").send(JSON.stringify(app.swagger()));
    },
  );
}
