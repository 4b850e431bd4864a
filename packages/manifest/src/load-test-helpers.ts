import { readFileSync } from "node:fs";
import { DEFAULT_MANIFEST_PATH, ManifestError, parseManifest } from "./load.ts";

/** Helpers for tests that break the default manifest on purpose (MAN-3). */

export const DEFAULT_SOURCE = readFileSync(DEFAULT_MANIFEST_PATH, "utf8");
export const FILE = "mumuplayer-pro.yaml";

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** 1-based line of the only occurrence of `needle` in `text`. */
export function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0 || text.indexOf(needle, at + 1) >= 0)
    throw new Error(`expected exactly one "${needle}" in the text`);
  return lineAt(text, at);
}

/** Replaces the only occurrence of `search`; throws when it is missing or ambiguous, so a test cannot go stale. */
export function replaceOnce(text: string, search: string, replacement: string): string {
  const at = text.indexOf(search);
  if (at < 0) throw new Error(`"${search}" not found in the manifest text`);
  if (text.indexOf(search, at + 1) >= 0)
    throw new Error(`"${search}" occurs more than once in the manifest text`);
  return text.slice(0, at) + replacement + text.slice(at + search.length);
}

/** Parses `text` and returns the ManifestError it must throw. */
export function errorOf(text: string, file = FILE): ManifestError {
  try {
    parseManifest(text, file);
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw e;
  }
  throw new Error("expected the manifest to be refused, but it loaded");
}
