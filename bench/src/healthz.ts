import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { httpLoad } from "./http-load.ts";
import { startCustos, startHelloWorld } from "./processes.ts";
import type { Benchmark } from "./types.ts";

/**
 * Custos `GET /healthz` against a bare Fastify hello-world, one after the other in the same run,
 * each server in its own process and autocannon in this one (2 cores: one each).
 */
export const healthzBenchmark: Benchmark = {
  name: "http-healthz",
  description: "GET /healthz requests per second against a bare Fastify hello-world",
  async run({ quick, log }) {
    const durationSeconds = quick ? 3 : 10;
    const connections = 50;

    const peer = await startHelloWorld();
    let peerLoad: Awaited<ReturnType<typeof httpLoad>>;
    try {
      const url = `${peer.match[1]}/`;
      await httpLoad(url, { durationSeconds: 1, connections }); // warm-up
      peerLoad = await httpLoad(url, { durationSeconds, connections });
    } finally {
      await peer.stop();
    }
    log(`  hello-world: ${Math.round(peerLoad.requestsPerSecond)} req/s, p99 ${peerLoad.p99Ms} ms`);

    const dataDir = await mkdtemp(path.join(tmpdir(), "custos-bench-"));
    const server = await startCustos(dataDir, { LOG_LEVEL: "warn", RATE_LIMIT_MAX: "100000000" });
    let load: Awaited<ReturnType<typeof httpLoad>>;
    try {
      const url = `${server.match[1]}/healthz`;
      await httpLoad(url, { durationSeconds: 1, connections });
      load = await httpLoad(url, { durationSeconds, connections });
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
    log(`  custos /healthz: ${Math.round(load.requestsPerSecond)} req/s, p99 ${load.p99Ms} ms`);
    if (load.errors || load.non2xx)
      throw new Error(`/healthz answered ${load.errors} errors and ${load.non2xx} non-2xx`);

    return [
      {
        bench: "http-healthz",
        metric: "requests_per_second",
        value: Math.round(load.requestsPerSecond),
        unit: "req/s",
        peer: "fastify-hello-world",
        peerValue: Math.round(peerLoad.requestsPerSecond),
        ratio: round(load.requestsPerSecond / peerLoad.requestsPerSecond),
      },
      {
        bench: "http-healthz",
        metric: "p99_latency",
        value: load.p99Ms,
        unit: "ms",
        peer: "fastify-hello-world",
        peerValue: peerLoad.p99Ms,
        ratio: round(load.p99Ms > 0 ? peerLoad.p99Ms / load.p99Ms : 1),
      },
    ];
  },
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
