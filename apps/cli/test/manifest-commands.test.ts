import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_MANIFEST_PATH } from "@custos/manifest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "custos-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("custos manifest", () => {
  it("MAN-1: `manifest check` accepts the default manifest and summarises it", async () => {
    const result = await runCli("manifest", "check");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/valid manifest, version 2024-03-26/);
    expect(result.stdout).toMatch(/25 data categories \(5 sensitive\)/);
  });

  it("MAN-3: `manifest check` refuses a broken manifest with file:line and path of each error", async () => {
    const source = await readFile(DEFAULT_MANIFEST_PATH, "utf8");
    const broken = source
      .replace(/legalBasis: contract/, "legalBasis: contrakt")
      .replace(/grade: 3/, "grade: 9");
    const lineOf = (needle: string) => broken.slice(0, broken.indexOf(needle)).split("\n").length;
    const file = path.join(dir, "broken.yaml");
    await writeFile(file, broken);
    const result = await runCli("manifest", "check", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/The manifest is invalid \(2 problems\)/);
    expect(result.stderr).toContain(`broken.yaml:${lineOf("contrakt")} purposes[`);
    expect(result.stderr).toMatch(/\.legalBasis: expected one of consent, contract/);
    expect(result.stderr).toContain(`broken.yaml:${lineOf("grade: 9")} categories[`);
  });

  it("MAN-4: `manifest render` writes every document in both languages as HTML and Markdown", async () => {
    const out = path.join(dir, "rendered");
    const result = await runCli("manifest", "render", "--out", out);
    expect(result.code).toBe(0);
    const files = (await readdir(path.join(out, "2024-03-26"))).sort();
    const expected = [
      "privacy-policy",
      "children-rules",
      "personal-information",
      "third-parties",
      "processing-record",
    ]
      .flatMap((doc) => ["en", "zh-CN"].flatMap((lang) => ["html", "md"].map((f) => `${doc}.${lang}.${f}`)))
      .sort();
    expect(files).toEqual(expected);
    const zh = await readFile(path.join(out, "2024-03-26", "privacy-policy.zh-CN.html"), "utf8");
    expect(zh).toContain('lang="zh-CN"');
    expect(zh).toContain("2024-03-26");
  });

  it("`manifest render` refuses an unknown language or format and says what exists", async () => {
    const result = await runCli("manifest", "render", "--out", path.join(dir, "x"), "--lang", "fr");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unknown language: fr\. Choose from en, zh-CN\./);
  });
});

describe("custos --help", () => {
  it.each([
    [],
    ["start"],
    ["migrate"],
    ["manifest"],
    ["manifest", "check"],
    ["manifest", "render"],
    ["demo"],
    ["bench"],
  ])("prints usage for %j", async (...words) => {
    const result = await runCli(...(words as string[]), "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: custos/);
  });
});
