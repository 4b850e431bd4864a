import type { Reporter, TestModule } from "vitest/node";
import { scanRun } from "./run-scan.ts";

/**
 * Prints one plain closing line, `Tests: N passed, N failed, N skipped`, after vitest's own summary,
 * so that any tool reading the end of the output sees the counts in a fixed format. Just before it,
 * the SEC-6 scan of the run's logs (test/global-setup.ts): a hit counts as one failure and fails the run.
 */
export default class SummaryReporter implements Reporter {
  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (mod.state() === "failed" && [...mod.children.allTests()].length === 0) failed++;
    }
    const dir = process.env.CUSTOS_TEST_LOG_DIR;
    if (dir) {
      const scan = await scanRun(dir);
      process.stdout.write(`\n${scan.report}`);
      if (scan.failed) {
        failed++;
        process.exitCode = 1;
      }
    }
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
