import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** The built banner script and what a page needs to load it safely. */
export type BuiltBanner = {
  code: string;
  /** Subresource Integrity value (sha384). */
  integrity: string;
  /** First 16 hex digits of the script's SHA-256: the cache-busting version in its URL. */
  hash: string;
  bytes: number;
  gzipBytes: number;
};

export const BANNER_ENTRY = fileURLToPath(new URL("./element.ts", import.meta.url));
/** The size budget (gzipped) the issue sets: smaller than vanilla-cookieconsent's JS alone. */
export const BANNER_GZIP_BUDGET = 8192;

/**
 * Bundles src/element.ts into one minified ES2020 script with esbuild (no other dependency; esbuild
 * comes with vite and tsx). Classic script (IIFE), so it can be loaded with `integrity`.
 */
export async function buildBanner(): Promise<BuiltBanner> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [BANNER_ENTRY],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    platform: "browser",
    write: false,
    legalComments: "none",
    charset: "utf8",
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error("esbuild produced no output for the consent banner");
  const code = file.text;
  const buf = Buffer.from(code, "utf8");
  return {
    code,
    integrity: `sha384-${createHash("sha384").update(buf).digest("base64")}`,
    hash: createHash("sha256").update(buf).digest("hex").slice(0, 16),
    bytes: buf.length,
    gzipBytes: gzipSync(buf, { level: 9 }).length,
  };
}

let cached: Promise<BuiltBanner> | undefined;

/** buildBanner() once per process (a failed build is retried on the next call). */
export function getBanner(): Promise<BuiltBanner> {
  cached ??= buildBanner().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
