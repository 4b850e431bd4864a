import { describe, expect, it } from "vitest";
import { loadDefaultManifest } from "../load.ts";
import type { Manifest } from "../schema.ts";
import { buildDocument, DOCUMENT_IDS, type DocumentId } from "./index.ts";
import { allSections, HAN, readSeedSections, sectionText } from "./test-helpers.ts";
import { buildTestManifest } from "./test-manifest.ts";

const manifests: [string, () => Promise<Manifest>][] = [
  ["test manifest", async () => buildTestManifest()],
  ["default manifest", async () => (await loadDefaultManifest()).manifest],
];

describe.each(manifests)("seed sections (%s)", (_name, load) => {
  const rows = readSeedSections();

  it("MAN-4: sections.tsv is read and names only rendered documents", () => {
    expect(rows.length).toBeGreaterThanOrEqual(16);
    for (const row of rows) expect(DOCUMENT_IDS).toContain(row.document);
  });

  it("MAN-4: every seed section has its counterpart in both languages", async () => {
    const manifest = await load();
    for (const row of rows) {
      for (const lang of ["en", "zh-CN"] as const) {
        const doc = buildDocument(manifest, row.document as DocumentId, lang);
        const section = allSections(doc.sections).find((s) => s.seedRef === row.heading);
        expect(section, `${row.document} ${lang}: no section for "${row.heading}"`).toBeDefined();
        if (!section) continue;
        const body = sectionText(section);
        expect(section.heading.trim(), `${row.heading} (${lang}) heading`).not.toBe("");
        expect(body.trim().length, `${row.heading} (${lang}) body`).toBeGreaterThan(40);
        if (lang === "zh-CN") {
          expect(section.heading, `${row.heading} heading in Chinese`).toMatch(HAN);
          expect(body, `${row.heading} body in Chinese`).toMatch(HAN);
        } else {
          expect(`${section.heading} ${body}`, `${row.heading} in English`).not.toMatch(HAN);
        }
      }
    }
  });

  it("MAN-4: seed sections keep the seed's order within each document", async () => {
    const manifest = await load();
    for (const docId of ["privacy-policy", "children-rules"] as const) {
      const expected = rows.filter((r) => r.document === docId).map((r) => r.heading);
      const actual = buildDocument(manifest, docId, "en")
        .sections.map((s) => s.seedRef)
        .filter((ref): ref is string => ref !== null && expected.includes(ref));
      expect(actual).toEqual(expected);
    }
  });

  it("MAN-4: every document renders in both languages with unique section ids and no empty section", async () => {
    const manifest = await load();
    for (const docId of DOCUMENT_IDS) {
      for (const lang of ["en", "zh-CN"] as const) {
        const doc = buildDocument(manifest, docId, lang);
        expect(doc.lang).toBe(lang);
        expect(doc.version).toBe(manifest.version);
        expect(doc.title.trim()).not.toBe("");
        const sections = allSections(doc.sections);
        expect(sections.length).toBeGreaterThan(0);
        const ids = sections.map((s) => s.id);
        expect(new Set(ids).size, `${docId} ${lang} duplicate ids`).toBe(ids.length);
        for (const s of sections) {
          expect(s.heading.trim(), `${docId} ${lang} ${s.id}`).not.toBe("");
          expect(sectionText(s).trim(), `${docId} ${lang} ${s.id} is empty`).not.toBe("");
          if (lang === "zh-CN") expect(`${s.heading}${sectionText(s)}`).toMatch(HAN);
        }
      }
    }
  });

  it("MAN-4: section ids are stable across languages", async () => {
    const manifest = await load();
    for (const docId of DOCUMENT_IDS) {
      const en = allSections(buildDocument(manifest, docId, "en").sections).map((s) => s.id);
      const zh = allSections(buildDocument(manifest, docId, "zh-CN").sections).map((s) => s.id);
      expect(zh).toEqual(en);
    }
  });
});
