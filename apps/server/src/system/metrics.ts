import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Prometheus metrics: process defaults plus request duration by route and status. One registry per app. */
export type Metrics = {
  registry: Registry;
  /** Records one request that did not pass through Fastify's hooks (the decision fast path). */
  observe(method: string, route: string, statusCode: number, seconds: number): void;
};

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type Labels = { method: string; route: string; status_code: string };
/** Observations of one label set not yet handed to prom-client. */
type Pending = { labels: Labels; buckets: number[]; sum: number; count: number };
/** prom-client's stored series of a histogram (not in its typings; pinned by the lockfile, tested). */
type Series = { labels: Labels; bucketValues: Record<number, number>; sum: number; count: number };

export function registerMetrics(app: FastifyInstance): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "custos_" });

  // Every request is observed, so observing is kept cheap: a map lookup and a bucket add here,
  // and the label hashing and validation of prom-client once per label set when it is scraped.
  const pending = new Map<string, Pending>();
  const duration = new Histogram({
    name: "custos_http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: BUCKETS,
    registers: [registry],
    collect() {
      fold();
    },
  });

  // Consecutive requests mostly share their labels (the decision route): the last set is kept.
  let last: { method: string; route: string; statusCode: number; p: Pending } | undefined;
  function observe(method: string, route: string, statusCode: number, seconds: number): void {
    let p: Pending | undefined;
    if (
      last !== undefined &&
      last.method === method &&
      last.route === route &&
      last.statusCode === statusCode
    )
      p = last.p;
    else {
      p = pendingFor(method, route, statusCode);
      last = { method, route, statusCode, p };
    }
    p.sum += seconds;
    p.count += 1;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= (BUCKETS[i] as number)) {
        p.buckets[i] = (p.buckets[i] as number) + 1;
        break;
      }
    }
  }

  /** The pending observations of a label set (kept for good: fold zeroes them in place). */
  function pendingFor(method: string, route: string, statusCode: number): Pending {
    const key = `${method} ${statusCode} ${route}`;
    let p = pending.get(key);
    if (p === undefined) {
      p = {
        labels: { method, route, status_code: String(statusCode) },
        buckets: new Array<number>(BUCKETS.length).fill(0),
        sum: 0,
        count: 0,
      };
      pending.set(key, p);
    }
    return p;
  }

  /** Adds the pending observations to prom-client's series (zeroed first when new). */
  function fold(): void {
    const store = (duration as unknown as { hashMap: Record<string, Series> }).hashMap;
    for (const p of pending.values()) {
      if (p.count === 0) continue;
      let series = seriesOf(store, p.labels);
      if (series === undefined) {
        duration.zero(p.labels);
        series = seriesOf(store, p.labels);
        if (series === undefined) throw new Error("prom-client did not store the zeroed series");
      }
      series.sum += p.sum;
      series.count += p.count;
      for (let i = 0; i < BUCKETS.length; i++) {
        const bound = BUCKETS[i] as number;
        series.bucketValues[bound] = (series.bucketValues[bound] ?? 0) + (p.buckets[i] as number);
        p.buckets[i] = 0;
      }
      p.sum = 0;
      p.count = 0;
    }
  }

  app.addHook("onResponse", (request, reply, done) => {
    // The route pattern, never the concrete URL: bounded label values and no identifiers.
    observe(
      request.method,
      request.routeOptions.url ?? "unmatched",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  return { registry, observe };
}

function seriesOf(store: Record<string, Series>, labels: Labels): Series | undefined {
  for (const s of Object.values(store))
    if (
      s.labels.method === labels.method &&
      s.labels.route === labels.route &&
      s.labels.status_code === labels.status_code
    )
      return s;
  return undefined;
}
