import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { checkManifest, formatPath, type ManifestPath } from "./load-checks.ts";
import { Manifest } from "./schema.ts";

/** The MuMuPlayer Pro privacy policy and children's rules, as a manifest (MAN-2). */
export const DEFAULT_MANIFEST_PATH = fileURLToPath(
  new URL("../default/mumuplayer-pro.yaml", import.meta.url),
);

/** A manifest larger than this is refused before parsing. */
export const MAX_MANIFEST_BYTES = 2 * 1024 * 1024;

export type LoadedManifest = {
  manifest: Manifest;
  /** sha256 hex of the canonical (sorted-key) JSON of the parsed manifest. */
  hash: string;
  /** The YAML text as read. */
  source: string;
  file: string;
};

export type ManifestIssue = { file: string; line: number; column: number; path: string; message: string };

export function formatIssue(issue: ManifestIssue): string {
  return issue.path === ""
    ? `${issue.file}:${issue.line}: ${issue.message}`
    : `${issue.file}:${issue.line} ${issue.path}: ${issue.message}`;
}

/** An invalid manifest (MAN-3): every problem with its file, line, column and path. */
export class ManifestError extends Error {
  readonly issues: ManifestIssue[];

  constructor(issues: ManifestIssue[]) {
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(
      `Invalid privacy manifest (${count}); fix each one and load it again:\n${issues.map(formatIssue).join("\n")}`,
    );
    this.name = "ManifestError";
    this.issues = issues;
  }
}

type Position = { line: number; column: number; found: boolean };

/**
 * Parses and validates manifest YAML. Throws ManifestError listing every problem: YAML syntax first; then every
 * schema problem; then (on a schema-valid manifest) every cross-reference problem.
 */
export function parseManifest(text: string, file: string): LoadedManifest {
  if (Buffer.byteLength(text, "utf8") > MAX_MANIFEST_BYTES)
    throw new ManifestError([
      {
        file,
        line: 1,
        column: 1,
        path: "",
        message: `the file is larger than ${MAX_MANIFEST_BYTES} bytes: split out what does not belong in a manifest`,
      },
    ]);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { file, line, column: col, path: "", message: `YAML syntax error: ${firstLine(e.message)}` };
      }),
    );
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ManifestError([
      { file, line: 1, column: 1, path: "", message: `YAML could not be read: ${firstLine(String(e))}` },
    ]);
  }

  const locate = (path: readonly PropertyKey[]): Position => locateNode(doc.contents, path, lineCounter);
  const result = Manifest.safeParse(data);
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue) => describeZodIssue(issue, data, locate));
    throw new ManifestError(sortIssues(issues.map((i) => ({ file, ...i }))));
  }

  const problems = checkManifest(result.data);
  if (problems.length > 0) {
    throw new ManifestError(
      sortIssues(
        problems.map((p) => {
          const pos = locate(p.path);
          return { file, line: pos.line, column: pos.column, path: formatPath(p.path), message: p.message };
        }),
      ),
    );
  }

  return { manifest: result.data, hash: manifestHash(result.data), source: text, file };
}

export async function loadManifestFile(path: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unknown error";
    throw new ManifestError([
      { file: path, line: 0, column: 0, path: "", message: `cannot read the file (${code}): check the path` },
    ]);
  }
  return parseManifest(text, path);
}

export function loadDefaultManifest(): Promise<LoadedManifest> {
  return loadManifestFile(DEFAULT_MANIFEST_PATH);
}

/** sha256 hex of the canonical JSON (object keys sorted at every level). */
export function manifestHash(manifest: Manifest): string {
  return createHash("sha256").update(canonicalJson(manifest)).digest("hex");
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "").trim();
}

function sortIssues(issues: ManifestIssue[]): ManifestIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column || a.path.localeCompare(b.path));
}

/**
 * Finds the YAML node at `path`; when part of the path is missing, the position of the nearest existing
 * parent. A map entry is located at its key, so `legalBasis: foo` reports the line of `legalBasis`.
 */
function locateNode(root: unknown, path: readonly PropertyKey[], lc: LineCounter): Position {
  let node: unknown = root;
  let offset = isNode(root) && root.range ? root.range[0] : 0;
  let found = true;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && scalarKey(p.key) === String(seg));
      if (!pair) {
        found = false;
        break;
      }
      const keyNode = pair.key;
      if (isNode(keyNode) && keyNode.range) offset = keyNode.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) {
        found = false;
        break;
      }
      if (isNode(item) && item.range) offset = item.range[0];
      node = item;
    } else {
      found = false;
      break;
    }
  }
  const { line, col } = lc.linePos(offset);
  return { line, column: col, found };
}

function scalarKey(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === "string" ? key : undefined;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return "null (an empty value)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return `the text "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  object: "a map of fields",
  array: "a list",
  string: "text",
  number: "a number",
  boolean: "true or false",
};

function describeZodIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  locate: (path: readonly PropertyKey[]) => Position,
): Omit<ManifestIssue, "file">[] {
  const at = (path: readonly PropertyKey[], message: string) => {
    const pos = locate(path);
    return { line: pos.line, column: pos.column, path: formatPath(path), message };
  };
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) =>
        at([...issue.path, key], `unknown field "${key}": remove it or check its spelling`),
      );
    case "invalid_value": {
      const values = issue.values.map((v) => String(v));
      const expected = values.length === 1 ? `expected ${values[0]}` : `expected one of ${values.join(", ")}`;
      const actual = valueAt(data, issue.path);
      return [
        at(
          issue.path,
          actual === undefined ? `missing: ${expected}` : `${expected}; got ${typeName(actual)}`,
        ),
      ];
    }
    case "invalid_type": {
      const actual = valueAt(data, issue.path);
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (actual === undefined) return [at(issue.path, `required field is missing: add it (${expected})`)];
      return [at(issue.path, `expected ${expected}; got ${typeName(actual)}`)];
    }
    default:
      return [at(issue.path, issue.message)];
  }
}

export type { ManifestPath };
