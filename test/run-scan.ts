import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { demoPersonalValues } from "../apps/server/src/demo/demo-people.ts";
import {
  formatScan,
  literalTestValues,
  type Needle,
  registeredKeys,
  scanLogDir,
  testSources,
  uniqueNeedles,
} from "./log-scan.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** Written into the run's log directory once it was scanned, and when the scan found something. */
const SCANNED = ".scanned";
const FAILED = ".failed";

/** Every value the run's logs must not contain: demo people and staff, test literals, master keys. */
export async function runNeedles(dir: string): Promise<Needle[]> {
  const needles: Needle[] = demoPersonalValues().map((v) => ({ kind: `demo ${v.kind}`, value: v.value }));
  for (const file of await testSources(repoRoot))
    needles.push(...literalTestValues(await readFile(file, "utf8")));
  needles.push(...(await registeredKeys(dir)));
  return uniqueNeedles(needles);
}

/**
 * Scans the run's log directory (SEC-6) and returns the report; `failed` when anything was found
 * or the scan could not run. Marks the directory as scanned (and failed), for the teardown.
 */
export async function scanRun(dir: string): Promise<{ report: string; failed: boolean }> {
  let report: string;
  let failed: boolean;
  try {
    const result = await scanLogDir(dir, await runNeedles(dir));
    failed = result.hits.length > 0;
    report = formatScan(result, dir);
    if (failed)
      report += `\nSEC-6: personal information or a master key in the logs fails the run; the logs are kept in ${dir}`;
  } catch (error) {
    failed = true;
    report = `SEC-6 log scan could not run: ${error instanceof Error ? error.message : String(error)}`;
  }
  await writeFile(path.join(dir, SCANNED), "");
  if (failed) await writeFile(path.join(dir, FAILED), "");
  return { report, failed };
}

export const wasScanned = (dir: string) => existsSync(path.join(dir, SCANNED));
export const scanFailed = (dir: string) => existsSync(path.join(dir, FAILED));
