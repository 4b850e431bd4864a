import { marked } from "marked";
import { describe, expect, it } from "vitest";
import { loadDefaultManifest } from "../load.ts";
import type { Manifest } from "../schema.ts";
import { personalInformationList, renderDocument } from "./index.ts";
import { buildTestManifest } from "./test-manifest.ts";

/** The markup of each list item, paragraph or table row marked class="sensitive", up to its first closing tag. */
function sensitiveChunks(html: string): string[] {
  return html
    .split(/(?=<(?:li|p|tr) class="sensitive">)/)
    .slice(1)
    .map((chunk) => chunk.slice(0, chunk.search(/<\/(li|p|tr)>/)));
}

const manifests: [string, () => Promise<Manifest>][] = [
  ["test manifest", async () => buildTestManifest()],
  ["default manifest", async () => (await loadDefaultManifest()).manifest],
];

describe.each(manifests)("MAN-7 highlighting (%s)", (_name, load) => {
  it("MAN-7: every sensitive category is highlighted in HTML with its necessity and impact", async () => {
    const manifest = await load();
    const sensitive = manifest.categories.filter((c) => c.sensitivity === "sensitive");
    expect(sensitive.length).toBeGreaterThan(0);
    for (const lang of ["en", "zh-CN"] as const) {
      const marker = lang === "en" ? "⚠ Sensitive" : "⚠ 敏感";
      const policy = renderDocument(manifest, "privacy-policy", lang, "html");
      const list = renderDocument(manifest, "personal-information", lang, "html");
      for (const c of sensitive) {
        const name = c.name[lang].replace(/&/g, "&amp;").replace(/'/g, "&#39;").replace(/"/g, "&quot;");
        const usedByPurpose = manifest.purposes.some((p) => p.categories.includes(c.id));
        if (usedByPurpose) {
          const hit = sensitiveChunks(policy).find((chunk) => chunk.includes(name));
          expect(hit, `${c.id} (${lang}) highlighted in the policy`).toBeDefined();
          expect(hit).toContain(`<span class="sensitive-marker">${marker}</span>`);
          expect(hit).toMatch(/^<(li|p|tr) class="sensitive">(<th scope="row">)?<strong><span/);
        }
        // The personal-information list highlights the category's section and its rows.
        const section = list.slice(list.indexOf(`<section id="category-${c.id}"`));
        expect(
          section.startsWith(`<section id="category-${c.id}" class="sensitive">`),
          `${c.id} section`,
        ).toBe(true);
        const necessity = c.necessity?.[lang] ?? "";
        const impact = c.impact?.[lang] ?? "";
        expect(necessity).not.toBe("");
        expect(impact).not.toBe("");
        const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/'/g, "&#39;").replace(/"/g, "&quot;");
        expect(section.slice(0, section.indexOf("</section>"))).toContain(esc(necessity));
        expect(section.slice(0, section.indexOf("</section>"))).toContain(esc(impact));
        expect(policy).toContain(esc(necessity));
      }
    }
  });

  it("MAN-7: every purpose that uses a sensitive category is highlighted, and only those", async () => {
    const manifest = await load();
    const html = renderDocument(manifest, "privacy-policy", "en", "html");
    const record = renderDocument(manifest, "processing-record", "en", "html");
    const sensitiveIds = new Set(
      manifest.categories.filter((c) => c.sensitivity === "sensitive").map((c) => c.id),
    );
    for (const p of manifest.purposes) {
      const usesSensitive = p.categories.some((id) => sensitiveIds.has(id));
      const open = `<section id="collect-and-use--purpose-${p.id}" class="sensitive">`;
      expect(html.includes(open), `${p.id} highlighted in the policy`).toBe(usesSensitive);
      expect(
        record.includes(`<section id="purpose-${p.id}" class="sensitive">`),
        `${p.id} in the record`,
      ).toBe(usesSensitive);
    }
  });

  it("MAN-7: sensitive items are bold with a visible marker in Markdown", async () => {
    const manifest = await load();
    for (const lang of ["en", "zh-CN"] as const) {
      const md = renderDocument(manifest, "privacy-policy", lang, "md");
      const html = await marked.parse(md);
      const marker = lang === "en" ? "[⚠ Sensitive]" : "[⚠ 敏感]";
      expect(md).toContain(`**\\${marker.slice(0, -1)}\\]**`);
      for (const c of manifest.categories.filter((x) => x.sensitivity === "sensitive")) {
        if (!manifest.purposes.some((p) => p.categories.includes(c.id))) continue;
        const name = c.name[lang].replace(/&/g, "&amp;").replace(/'/g, "&#39;").replace(/"/g, "&quot;");
        // After Markdown rendering the marker and the category name are both in bold on one line.
        const line = html.split("\n").find((l) => l.includes(`<strong>${marker}</strong> <strong>${name}`));
        expect(line, `${c.id} (${lang}) bold with marker in Markdown`).toBeDefined();
      }
      expect(html).not.toContain("**");
    }
  });

  it("MAN-7: a general category is not highlighted", async () => {
    const manifest = await load();
    const general = manifest.categories.find((c) => c.sensitivity === "general" && c.storage === "server");
    expect(general).toBeDefined();
    const html = renderDocument(manifest, "personal-information", "en", "html");
    expect(html).toContain(`<section id="category-${general?.id}">`);
  });

  it("MAN-7: the clipboard is shown as processed on the device only, never stored", async () => {
    const manifest = await load();
    const deviceOnly = manifest.categories.filter((c) => c.storage === "device-only");
    expect(deviceOnly.map((c) => c.id)).toContain("clipboard");
    for (const [lang, text] of [
      ["en", "Processed on the device only, never stored"],
      ["zh-CN", "仅在设备本地处理，不会存储"],
    ] as const) {
      const entry = personalInformationList(manifest, lang).categories.find((c) => c.id === "clipboard");
      expect(entry?.storage).toBe("device-only");
      expect(entry?.storageLabel).toBe(text);
      expect(entry?.region).toBeNull();
      expect(entry?.retention).toBeNull();
      const html = renderDocument(manifest, "personal-information", lang, "html");
      const section = html.slice(html.indexOf('<section id="category-clipboard"'));
      expect(section.slice(0, section.indexOf("</section>"))).toContain(text);
      expect(renderDocument(manifest, "personal-information", lang, "md")).toContain(text);
      expect(renderDocument(manifest, "privacy-policy", lang, "md").toLowerCase()).toContain(
        lang === "en" ? "processed on the device only, never stored" : "仅在设备本地处理，不会存储",
      );
    }
  });
});
