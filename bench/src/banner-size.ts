import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { BANNER_GZIP_BUDGET, buildBanner } from "@custos/banner";
import type { Benchmark, BenchResult } from "./types.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Peer consent banners, measured only when installed (their shipped browser files, JS + CSS). */
const PEERS: { name: string; files: string[] }[] = [
  {
    name: "vanilla-cookieconsent",
    files: [
      "node_modules/vanilla-cookieconsent/dist/cookieconsent.umd.js",
      "node_modules/vanilla-cookieconsent/dist/cookieconsent.css",
    ],
  },
  { name: "klaro", files: ["node_modules/klaro/dist/klaro.js"] },
];

const gz = (text: Buffer | string): number => gzipSync(text, { level: 9 }).length;

/**
 * The consent banner's gzipped size (CON-11 issue target: at most 8 KB), against the target and
 * against peer banners that happen to be in node_modules. Lower is better: ratio = peer / ours.
 */
export const bannerSizeBenchmark: Benchmark = {
  name: "banner-size",
  description: "Gzipped bytes of the consent banner script against the 8 KB target and installed peers",
  async run({ log }) {
    const built = await buildBanner();
    log(`  custos-banner.js: ${built.bytes} bytes, ${built.gzipBytes} bytes gzipped`);
    const result = (peer: string, peerValue: number): BenchResult => ({
      bench: "banner-size",
      metric: "gzipped bytes",
      value: built.gzipBytes,
      unit: "B",
      peer,
      peerValue,
      ratio: Math.round((peerValue / built.gzipBytes) * 100) / 100,
      target: `≤ ${BANNER_GZIP_BUDGET} B gzipped`,
    });
    const results = [result("target-8KB", BANNER_GZIP_BUDGET)];
    for (const peer of PEERS) {
      const files = peer.files.map((f) => path.join(repoRoot, f));
      if (!files.every((f) => existsSync(f))) {
        log(`  ${peer.name}: not installed, not measured`);
        continue;
      }
      results.push(
        result(
          peer.name,
          files.reduce((sum, f) => sum + gz(readFileSync(f)), 0),
        ),
      );
    }
    return results;
  },
};
