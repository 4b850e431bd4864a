import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/**
 * SEC-6, literally: the log lines of a whole test run are searched for every demo subject's email,
 * phone, ID number and name, for the personal values the tests themselves write, and for the
 * master keys the tests made. Hits name the file, the line and the kind of value, never the value.
 */

export type Needle = { kind: string; value: string };
export type ScanHit = { file: string; line: number; kind: string };
export type ScanResult = { files: number; lines: number; hits: ScanHit[] };

/** Log files end in .ndjson; the master keys the tests registered sit beside them in keys-*.txt. */
export const LOG_FILE_SUFFIX = ".ndjson";
export const KEYS_FILE_PREFIX = "keys-";

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
/** Whether the digits just before `at` are a China country code (`86`, as in `+8613800001111`). */
const afterCountryCode = (text: string, at: number) =>
  text.slice(at - 2, at) === "86" && !isDigit(text[at - 3]);

/**
 * Finds every needle in `text` (case-insensitively, as an email can be written in any case).
 * One indexOf pass per needle over the whole text: cheap even for large logs.
 */
export function scanText(text: string, needles: readonly Needle[], file: string): ScanHit[] {
  const lower = text.toLowerCase();
  const lineStarts: number[] = [0];
  for (let i = lower.indexOf("\n"); i !== -1; i = lower.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const hits: ScanHit[] = [];
  const seen = new Set<string>();
  for (const { kind, value } of needles) {
    const needle = value.toLowerCase();
    if (needle.length < 2) continue;
    for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + needle.length)) {
      // A phone or ID number inside a longer run of digits (a timestamp, a duration) is not that value.
      if (isDigit(needle[0]) && isDigit(lower[at - 1]) && !afterCountryCode(lower, at)) continue;
      if (isDigit(needle[needle.length - 1]) && isDigit(lower[at + needle.length])) continue;
      const line = lineOf(at);
      const key = `${line}:${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hits.push({ file, line, kind });
    }
  }
  return hits.sort((a, b) => a.line - b.line || a.kind.localeCompare(b.kind));
}

/** Scans every log file in `dir`. */
export async function scanLogDir(dir: string, needles: readonly Needle[]): Promise<ScanResult> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(LOG_FILE_SUFFIX)).sort();
  const result: ScanResult = { files: 0, lines: 0, hits: [] };
  for (const name of names) {
    const text = await readFile(path.join(dir, name), "utf8");
    result.files++;
    result.lines += text.split("\n").filter((l) => l.length > 0).length;
    result.hits.push(...scanText(text, needles, name));
  }
  return result;
}

/** The master keys registered by the tests of this run (test/run-log.ts), as base64 and as hex. */
export async function registeredKeys(dir: string): Promise<Needle[]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(KEYS_FILE_PREFIX));
  const keys = new Set<string>();
  for (const name of names)
    for (const line of (await readFile(path.join(dir, name), "utf8")).split("\n"))
      if (line.trim()) keys.add(line.trim());
  return [...keys].flatMap((key) => [
    { kind: "master key", value: key },
    { kind: "master key (hex)", value: Buffer.from(key, "base64").toString("hex") },
  ]);
}

const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const MOBILE_RE = /(?<!\d)1[3-9]\d{9}(?!\d)/g;
const RESIDENT_ID_RE = /(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])/g;

/** Addresses the tests write that are configuration, not a person's (the sender of mail). */
const NOT_PERSONAL = new Set(["privacy@example.com", "no-reply@example.com"]);

/**
 * The emails, mobile numbers and resident ID numbers written literally in test sources: the
 * personal values the tests send through the apps (values built at run time are not found).
 */
export function literalTestValues(source: string): Needle[] {
  const out: Needle[] = [];
  for (const m of source.matchAll(EMAIL_RE))
    if (!NOT_PERSONAL.has(m[0].toLowerCase())) out.push({ kind: "test email", value: m[0] });
  for (const m of source.matchAll(MOBILE_RE)) out.push({ kind: "test phone", value: m[0] });
  for (const m of source.matchAll(RESIDENT_ID_RE)) out.push({ kind: "test ID number", value: m[0] });
  return out;
}

const TEST_FILE_RE = /\.test\.tsx?$|[/\\]test[/\\][^/\\]+\.ts$|[/\\]e2e[/\\][^/\\]+\.ts$/;

/** Test sources under the repository (e2e/, apps/x/test/, *.test.ts[x]), node_modules left out. */
export async function testSources(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (TEST_FILE_RE.test(full)) out.push(full);
    }
  };
  for (const top of ["apps", "packages", "bench", "e2e"]) await walk(path.join(root, top)).catch(() => {});
  return out.sort();
}

/** Needles without repeats (the first kind named wins). */
export function uniqueNeedles(needles: readonly Needle[]): Needle[] {
  const byValue = new Map<string, Needle>();
  for (const n of needles) if (!byValue.has(n.value.toLowerCase())) byValue.set(n.value.toLowerCase(), n);
  return [...byValue.values()];
}

/** The report: one summary line, then one line per hit (file, line, kind; never the value). */
export function formatScan(result: ScanResult, dir: string): string {
  const lines = [`SEC-6 log scan: ${result.files} files, ${result.lines} lines, ${result.hits.length} hits`];
  for (const hit of result.hits.slice(0, 50))
    lines.push(`  SEC-6 leak: ${hit.kind} in ${path.join(dir, hit.file)}:${hit.line}`);
  if (result.hits.length > 50) lines.push(`  … and ${result.hits.length - 50} more`);
  return lines.join("\n");
}
