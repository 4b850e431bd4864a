import { appendFileSync } from "node:fs";
import path from "node:path";
import { type DestinationStream, pino } from "pino";
import { KEYS_FILE_PREFIX } from "./log-scan.ts";

/**
 * Test-only: where the apps a test builds copy their log lines for the run's SEC-6 scan. The
 * directory is made by test/global-setup.ts (CUSTOS_TEST_LOG_DIR); test/setup-run-log.ts names this
 * process's file in CUSTOS_LOG_FILE, which the server's config reads like any other setting, so
 * apps started through the CLI (in this process or a child) write there too.
 */
export const runLogFile = (): string | undefined => process.env.CUSTOS_LOG_FILE || undefined;

let fileStream: DestinationStream | undefined;

/** This process's run log as a pino destination (for a logger that writes only there), if any. */
export function runLogDestination(): DestinationStream | undefined {
  const file = runLogFile();
  if (!file) return undefined;
  fileStream ??= pino.destination({ dest: file, append: true, mkdir: true, sync: true });
  return fileStream;
}

/** Registers a master key a test made, so the run's scan looks for it too (the key is never printed). */
export function registerRunSecret(masterKey: string | undefined): void {
  const dir = process.env.CUSTOS_TEST_LOG_DIR;
  if (!dir || !masterKey) return;
  appendFileSync(path.join(dir, `${KEYS_FILE_PREFIX}${process.pid}.txt`), `${masterKey}\n`, { mode: 0o600 });
}
