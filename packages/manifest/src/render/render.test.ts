import { marked } from "marked";
import { describe, expect, it } from "vitest";
import { loadDefaultManifest } from "../load.ts";
import { buildDocument, DOCUMENT_IDS, type DocumentId, renderDocument } from "./index.ts";
import { buildTestManifest } from "./test-manifest.ts";

const FORMATS = ["html", "md", "fragment"] as const;
const LANGS = ["en", "zh-CN"] as const;

describe("renderDocument", () => {
  it("MAN-4: exports the five documents in the contract's order", () => {
    expect(DOCUMENT_IDS).toEqual([
      "privacy-policy",
      "children-rules",
      "personal-information",
      "third-parties",
      "processing-record",
    ]);
  });

  it("MAN-4: every format of every document shows the version and the last-updated date", async () => {
    const test = buildTestManifest();
    const def = (await loadDefaultManifest()).manifest;
    for (const manifest of [test, def]) {
      for (const docId of DOCUMENT_IDS) {
        for (const lang of LANGS) {
          const model = buildDocument(manifest, docId, lang);
          expect(model.lastUpdated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          for (const format of FORMATS) {
            const out = renderDocument(manifest, docId, lang, format);
            expect(out, `${docId} ${lang} ${format} version`).toContain(manifest.version);
            expect(out, `${docId} ${lang} ${format} date`).toContain(model.lastUpdated);
          }
        }
      }
    }
  });

  it("MAN-4: a document's own dates come from its manifest entry", () => {
    const manifest = buildTestManifest();
    expect(buildDocument(manifest, "children-rules", "en").lastUpdated).toBe("2024-03-25");
    expect(buildDocument(manifest, "privacy-policy", "en").lastUpdated).toBe("2024-03-26");
    // Lists derive from the whole manifest and carry its latest date.
    expect(buildDocument(manifest, "third-parties", "en").lastUpdated).toBe("2024-03-26");
    expect(buildDocument(manifest, "children-rules", "zh-CN").title).toBe("测试应用儿童个人信息保护规则");
  });

  it("MAN-4: html is a complete standalone page with lang, title, print CSS; fragment is the body only", () => {
    const manifest = buildTestManifest();
    for (const lang of LANGS) {
      const page = renderDocument(manifest, "privacy-policy", lang, "html");
      expect(page.startsWith("<!doctype html>")).toBe(true);
      expect(page).toContain(`<html lang="${lang}">`);
      expect(page).toMatch(/<title>[^<]*(Privacy Policy|隐私政策)[^<]*<\/title>/);
      expect(page).toContain("<style>");
      expect(page).toContain("@media print");
      expect(page).toContain(".sensitive");
      expect(page.trimEnd().endsWith("</html>")).toBe(true);
      const fragment = renderDocument(manifest, "privacy-policy", lang, "fragment");
      expect(fragment).not.toMatch(/<html|<head>|<body|<style|<h1/);
      expect(page).toContain("<h1>");
      expect(fragment).toContain(`<article class="custos-doc" lang="${lang}"`);
      // Links to other documents: downloads link side by side, the web app to its routes.
      expect(page).toContain(`href="third-parties.${lang}.html"`);
      expect(fragment).toContain('href="/center/third-parties"');
      expect(renderDocument(manifest, "privacy-policy", lang, "md")).toContain(`(third-parties.${lang}.md)`);
    }
  });

  it("MAN-4: HTML and Markdown escape all text, so a category named <script> renders inert", async () => {
    const evil = `<script>alert("x")</script> & <img src=x onerror=alert(1)>`;
    const manifest = buildTestManifest((m) => {
      const c = m.categories.find((x) => x.id === "location");
      if (c) c.name = { en: evil, "zh-CN": evil };
      const r = m.recipients?.find((x) => x.id === "map-sdk");
      if (r) r.privacyPolicyUrl = "javascript:alert(1)";
      m.product.name = { en: "**bold** [link](http://evil.example) | pipe", "zh-CN": "测试<b>应用</b>" };
    });
    for (const docId of DOCUMENT_IDS) {
      for (const lang of LANGS) {
        for (const format of ["html", "fragment"] as const) {
          const out = renderDocument(manifest, docId, lang, format);
          expect(out).not.toContain("<script");
          expect(out).not.toContain("<img");
          expect(out).not.toContain("<b>");
          expect(out).not.toContain('href="javascript:');
        }
        const md = renderDocument(manifest, docId, lang, "md");
        const html = await marked.parse(md);
        expect(html).not.toContain("<script");
        expect(html).not.toContain("<img");
        expect(html).not.toContain("<b>");
        expect(html).not.toContain('href="javascript:');
        expect(html).not.toContain(">link</a>");
      }
    }
    const policy = renderDocument(manifest, "privacy-policy", "en", "html");
    expect(policy).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img");
    const md = renderDocument(manifest, "personal-information", "en", "md");
    expect(md).toContain("\\<script\\>");
    expect(renderDocument(manifest, "privacy-policy", "en", "md")).toContain("\\*\\*bold\\*\\* \\[link\\]");
  });

  it("MAN-4: Markdown tables keep a pipe in a cell inside its cell", async () => {
    const manifest = buildTestManifest((m) => {
      const c = m.categories.find((x) => x.id === "account");
      if (c) c.items = [{ en: "a | b", "zh-CN": "甲 | 乙" }];
    });
    const html = await marked.parse(renderDocument(manifest, "personal-information", "en", "md"));
    expect(html).toContain("<td>a | b</td>");
  });

  it("MAN-4: an unknown document, language or format is refused with a clear message", () => {
    const manifest = buildTestManifest();
    expect(() => buildDocument(manifest, "cookie-policy" as DocumentId, "en")).toThrow(
      /Unknown document.*privacy-policy/,
    );
    expect(() => buildDocument(manifest, "privacy-policy", "fr" as "en")).toThrow(/Unknown language/);
    expect(() => renderDocument(manifest, "privacy-policy", "en", "pdf" as "md")).toThrow(/Unknown format/);
  });

  it("MAN-4: rendering is deterministic", () => {
    const manifest = buildTestManifest();
    for (const docId of DOCUMENT_IDS)
      expect(renderDocument(manifest, docId, "zh-CN", "html")).toBe(
        renderDocument(manifest, docId, "zh-CN", "html"),
      );
  });

  it("MAN-4: the wording is our own, not sentences copied from the seed", async () => {
    const { readFileSync } = await import("node:fs");
    const path = await import("node:path");
    const { repoRoot } = await import("./test-helpers.ts");
    const seed = readFileSync(
      path.resolve(repoRoot, "../shared/seed/mumuplayer-pro-privacy-policy.txt"),
      "utf8",
    )
      .toLowerCase()
      .replace(/\s+/g, " ");
    const manifest = buildTestManifest();
    for (const docId of ["privacy-policy", "children-rules"] as const) {
      const md = renderDocument(manifest, docId, "en", "md").toLowerCase().replace(/[*\\]/g, "");
      // Any run of 12 words of our own text found verbatim in the seed is a copied sentence.
      const words = md.replace(/\s+/g, " ").split(" ");
      for (let i = 0; i + 12 <= words.length; i++) {
        const run = words.slice(i, i + 12).join(" ");
        expect(seed.includes(run), `copied from the seed: "${run}"`).toBe(false);
      }
    }
  });
});
