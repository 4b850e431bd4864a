import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { scanFailed, scanRun, wasScanned } from "./run-scan.ts";

/**
 * SEC-6 for the whole run (vitest `globalSetup`): makes a log directory for the run, which every app
 * the tests build copies its log lines into (test/setup-run-log.ts, test/run-log.ts). The summary
 * reporter scans it when the tests end (test/summary-reporter.ts), so its verdict comes before the
 * closing `Tests:` line and counts there; with another reporter, the teardown scans instead. A hit
 * fails the run (exit code 1) and is reported by file, line and kind, never by value; the directory
 * is then kept for a look, and removed otherwise.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(tmpdir(), "custos-run-logs-"));
  process.env.CUSTOS_TEST_LOG_DIR = dir;
  return async () => {
    if (!wasScanned(dir)) {
      const { report, failed } = await scanRun(dir);
      (failed ? process.stderr : process.stdout).write(`${report}\n`);
    }
    // Thrown errors here are only printed (vitest still exits 0): the exit code is set instead.
    if (scanFailed(dir)) process.exitCode = 1;
    else await rm(dir, { recursive: true, force: true });
  };
}
