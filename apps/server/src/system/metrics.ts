import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Prometheus metrics: process defaults plus request duration by route and status. One registry per app. */
export type Metrics = {
  registry: Registry;
  /** Records one request that did not pass through Fastify's hooks (the decision fast path). */
  observe(method: string, route: string, statusCode: number, seconds: number): void;
};

export function registerMetrics(app: FastifyInstance): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "custos_" });
  const duration = new Histogram({
    name: "custos_http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook("onResponse", (request, reply, done) => {
    // The route pattern, never the concrete URL: bounded label values and no identifiers.
    const route = request.routeOptions.url ?? "unmatched";
    duration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  return {
    registry,
    observe: (method, route, statusCode, seconds) =>
      duration.observe({ method, route, status_code: String(statusCode) }, seconds),
  };
}
