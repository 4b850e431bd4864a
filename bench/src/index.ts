import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { auditVerifyBenchmark } from "./audit-verify.ts";
import { bannerSizeBenchmark } from "./banner-size.ts";
import { consentWritesBenchmark } from "./consent-writes.ts";
import { fieldEncryptionBenchmark } from "./field-encryption.ts";
import { healthzBenchmark } from "./healthz.ts";
import { httpDecisionsBenchmark } from "./http-decisions.ts";
import { repoRoot } from "./processes.ts";
import { sdkDecisionsBenchmark } from "./sdk-decisions.ts";
import type { Benchmark, BenchResult } from "./types.ts";

export type { Benchmark, BenchResult } from "./types.ts";

/** Every benchmark, in the order `npm run bench` runs them. */
export const benchmarks: Benchmark[] = [
  healthzBenchmark,
  httpDecisionsBenchmark,
  fieldEncryptionBenchmark,
  auditVerifyBenchmark,
  bannerSizeBenchmark,
  sdkDecisionsBenchmark,
  consentWritesBenchmark,
];

export async function runBenchmarks(options: {
  names: string[];
  json: boolean;
  quick: boolean;
  out?: (line: string) => void;
}): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const unknown = options.names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) {
    out(
      `Unknown benchmark(s): ${unknown.join(", ")}. Available: ${benchmarks.map((b) => b.name).join(", ")}.`,
    );
    return 2;
  }
  const selected = options.names.length
    ? benchmarks.filter((b) => options.names.includes(b.name))
    : benchmarks;
  // Progress goes to stderr in JSON mode so that stdout stays one JSON object a line.
  const log = options.json ? (line: string) => process.stderr.write(`${line}\n`) : out;
  let failed = 0;
  if (selected.length > 1) {
    // Each in a process of its own, as when it is run alone: what one leaves behind (heap, JIT
    // state, a load generator's buffers) must not weigh on the next one's measurements.
    for (const bench of selected) if (!(await runInChild(bench.name, options, out))) failed++;
    return failed ? 1 : 0;
  }
  for (const bench of selected) {
    log(`${bench.name}: ${bench.description}`);
    try {
      const results = await bench.run({ quick: options.quick, log });
      for (const r of results) out(options.json ? JSON.stringify(r) : formatResult(r));
    } catch (error) {
      failed++;
      log(`  failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}

/**
 * Runs one benchmark as `custos bench <name>` in a child process: its results (stdout) go to
 * `out`, its progress (stderr) to this process's stderr. True when it succeeded.
 */
export async function runInChild(
  name: string,
  options: { json: boolean; quick: boolean },
  out: (line: string) => void,
): Promise<boolean> {
  const args = [path.join(repoRoot, "apps/cli/bin/custos.mjs"), "bench", name];
  if (options.json) args.push("--json");
  if (options.quick) args.push("--quick");
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  for await (const line of createInterface({ input: child.stdout })) out(line);
  const code = await exited;
  if (code !== 0) process.stderr.write(`  ${name} failed (exit code ${code})\n`);
  return code === 0;
}

function formatResult(r: BenchResult): string {
  return `  ${r.metric}: ${r.value} ${r.unit} vs ${r.peer} ${r.peerValue} ${r.unit} → ratio ${r.ratio}${r.target ? ` (target ${r.target})` : ""}`;
}
