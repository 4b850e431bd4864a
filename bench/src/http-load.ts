import autocannon from "autocannon";

export type LoadResult = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
};

/** Runs autocannon against one URL and returns mean requests/s and latency percentiles. */
export async function httpLoad(
  url: string,
  options: {
    durationSeconds: number;
    connections: number;
    method?: "GET" | "POST";
    body?: string;
    headers?: Record<string, string>;
  },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    duration: options.durationSeconds,
    connections: options.connections,
    pipelining: 1,
    method: options.method ?? "GET",
    body: options.body,
    headers: options.headers,
  });
  return loadResult(result);
}

/** Mean requests/s, latency percentiles and failures of an autocannon run. */
export function loadResult(result: autocannon.Result): LoadResult {
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}
