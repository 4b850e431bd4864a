import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Block, Inline, ListItem, Section } from "./model.ts";

/** The repository root (…/main); the shared seed sits beside it in ../shared. */
export const repoRoot = path.resolve(fileURLToPath(new URL("../../../../", import.meta.url)));

export type SeedSection = { document: string; heading: string; line: number };

/** Rows of ../shared/seed/sections.tsv: document id, seed heading, line in the seed body. */
export function readSeedSections(): SeedSection[] {
  const file = path.resolve(repoRoot, "../shared/seed/sections.tsv");
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const [document = "", heading = "", lineNo = "0"] = line.split("\t");
      return { document, heading, line: Number(lineNo) };
    });
}

const inlineText = (runs: Inline[]) => runs.map((r) => (typeof r === "string" ? r : r.text)).join("");
const itemText = (items: ListItem[]): string =>
  items.map((i) => `${inlineText(i.text)} ${i.children ? itemText(i.children) : ""}`).join(" ");

export function blockText(b: Block): string {
  if (b.kind === "paragraph") return inlineText(b.text);
  if (b.kind === "list") return itemText(b.items);
  return [b.caption ?? "", ...b.headers, ...b.rows.flatMap((r) => r.cells)].join(" ");
}

/** All the text of a section body, subsections included (headings of subsections too). */
export function sectionText(s: Section): string {
  return [
    ...s.blocks.map(blockText),
    ...s.subsections.map((sub) => `${sub.heading} ${sectionText(sub)}`),
  ].join(" ");
}

export function allSections(sections: Section[]): Section[] {
  return sections.flatMap((s) => [s, ...allSections(s.subsections)]);
}

export const HAN = /\p{Script=Han}/u;
