import path from "node:path";

/**
 * Runs in each test worker before its test files (vitest `setupFiles`): names this process's log
 * file in the run's log directory (test/global-setup.ts). The server reads CUSTOS_LOG_FILE through
 * its config, so every app this process builds, and any CLI child it starts, appends its lines there.
 */
const dir = process.env.CUSTOS_TEST_LOG_DIR;
if (dir) process.env.CUSTOS_LOG_FILE = path.join(dir, `${process.pid}.ndjson`);
