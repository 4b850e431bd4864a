import { describe, expect, it } from "vitest";
import { runBenchmarks, runInChild } from "./index.ts";

describe("benchmark runner", () => {
  it("runs a benchmark in a child process of its own and passes its JSON results through", async () => {
    const lines: string[] = [];
    expect(await runInChild("banner-size", { json: true, quick: true }, (line) => lines.push(line))).toBe(
      true,
    );
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const result = JSON.parse(line) as Record<string, unknown>;
      expect(result).toMatchObject({ bench: "banner-size", unit: "B", peer: "target-8KB" });
      expect(typeof result.ratio).toBe("number");
    }
  }, 60_000);

  it("reports a child that fails, and names the benchmarks there are for an unknown one", async () => {
    const lines: string[] = [];
    expect(await runInChild("no-such-bench", { json: true, quick: true }, (line) => lines.push(line))).toBe(
      false,
    );
    expect(lines.join("\n")).toContain("Available: http-healthz, http-decisions");
    const direct: string[] = [];
    expect(
      await runBenchmarks({ names: ["no-such-bench"], json: true, quick: true, out: (l) => direct.push(l) }),
    ).toBe(2);
    expect(direct).toEqual(lines);
  }, 60_000);
});
