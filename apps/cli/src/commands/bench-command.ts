import { runBenchmarks } from "@custos/bench";
import type { Command } from "commander";

export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description(
      "Run benchmarks, each side by side with its named peer in the same run, and print the ratios",
    )
    .argument("[names...]", "benchmarks to run (default: all)")
    .option("--json", "print one JSON object a line: bench, metric, value, unit, peer, peerValue, ratio")
    .option("--quick", "shorter runs (for a smoke check; less precise)")
    .action(async (names: string[], opts: { json?: boolean; quick?: boolean }) => {
      process.exitCode = await runBenchmarks({ names, json: Boolean(opts.json), quick: Boolean(opts.quick) });
    });
}
