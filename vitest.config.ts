import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "apps/*/src/**/*.test.{ts,tsx}",
      "apps/*/test/**/*.test.ts",
      "bench/src/**/*.test.ts",
      "e2e/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // SEC-6: every app a test builds copies its log lines into the run's log directory, scanned at the end.
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/setup-run-log.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
