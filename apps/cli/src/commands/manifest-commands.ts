import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  DEFAULT_MANIFEST_PATH,
  DOCUMENT_IDS,
  LANGUAGES,
  type Language,
  type LoadedManifest,
  loadManifestFile,
  ManifestError,
  renderDocument,
} from "@custos/manifest";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";

type DocumentId = (typeof DOCUMENT_IDS)[number];
const FORMATS = ["html", "md"] as const;
type Format = (typeof FORMATS)[number];

/** Loads a manifest for the CLI, turning validation errors into a file:line listing. */
export async function loadManifestForCli(file: string | undefined): Promise<LoadedManifest> {
  const target = path.resolve(file ?? DEFAULT_MANIFEST_PATH);
  try {
    return await loadManifestFile(target);
  } catch (error) {
    if (error instanceof ManifestError) {
      throw new CliError(
        `The manifest is invalid (${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}):\n${error.issues
          .map((i) => `  ${i.file}:${i.line} ${i.path}: ${i.message}`)
          .join("\n")}`,
      );
    }
    if (error instanceof Error && "code" in error && error.code === "ENOENT")
      throw new CliError(`No manifest file at ${target}. Give the path of a YAML manifest.`);
    throw error;
  }
}

function parseList<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const wrong = items.filter((i) => !allowed.includes(i as T));
  if (wrong.length || items.length === 0)
    throw new CliError(
      `Unknown ${what}: ${wrong.join(", ") || "(none given)"}. Choose from ${allowed.join(", ")}.`,
    );
  return items as T[];
}

export function registerManifestCommands(program: Command): void {
  const manifest = program.command("manifest").description("Check and render privacy manifests");

  manifest
    .command("check")
    .description("Validate a manifest file (schema and cross-references); errors name file:line and path")
    .argument("[file]", "manifest YAML file (default: the MuMuPlayer Pro manifest)")
    .action(async (file: string | undefined) => {
      const loaded = await loadManifestForCli(file);
      const m = loaded.manifest;
      process.stdout.write(
        `${path.relative(process.cwd(), loaded.file) || loaded.file}: valid manifest, version ${m.version}\n` +
          `  ${m.categories.length} data categories (${m.categories.filter((c) => c.sensitivity === "sensitive").length} sensitive), ` +
          `${m.purposes.length} purposes, ${m.permissions.length} permissions, ${m.cookies.length} cookie purposes, ` +
          `${m.recipients.length} recipients, ${m.rights.length} rights\n  sha256 ${loaded.hash}\n`,
      );
    });

  manifest
    .command("render")
    .description(
      "Render the policy documents of a manifest (privacy policy, children's rules, lists, record of processing)",
    )
    .argument("[file]", "manifest YAML file (default: the MuMuPlayer Pro manifest)")
    .option("-o, --out <dir>", "output folder", "policy-out")
    .option("--lang <list>", `languages, comma-separated (${LANGUAGES.join(", ")})`, LANGUAGES.join(","))
    .option("--format <list>", `formats, comma-separated (${FORMATS.join(", ")})`, FORMATS.join(","))
    .option("--doc <list>", `documents, comma-separated (${DOCUMENT_IDS.join(", ")})`, DOCUMENT_IDS.join(","))
    .action(
      async (file: string | undefined, opts: { out: string; lang: string; format: string; doc: string }) => {
        const langs = parseList<Language>(opts.lang, LANGUAGES, "language");
        const formats = parseList<Format>(opts.format, FORMATS, "format");
        const docs = parseList<DocumentId>(opts.doc, DOCUMENT_IDS, "document");
        const loaded = await loadManifestForCli(file);
        const outDir = path.resolve(opts.out, loaded.manifest.version);
        await mkdir(outDir, { recursive: true });
        const written: string[] = [];
        for (const doc of docs)
          for (const lang of langs)
            for (const format of formats) {
              const target = path.join(outDir, `${doc}.${lang}.${format}`);
              await writeFile(target, renderDocument(loaded.manifest, doc, lang, format));
              written.push(target);
            }
        process.stdout.write(
          `Rendered ${written.length} files for version ${loaded.manifest.version}:\n${written.map((w) => `  ${path.relative(process.cwd(), w)}`).join("\n")}\n`,
        );
      },
    );
}
