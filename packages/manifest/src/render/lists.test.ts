import { describe, expect, it } from "vitest";
import { loadDefaultManifest } from "../load.ts";
import type { Manifest } from "../schema.ts";
import { buildDocument, personalInformationList, renderDocument, thirdPartyList } from "./index.ts";
import { buildTestManifest } from "./test-manifest.ts";

const manifests: [string, () => Promise<Manifest>][] = [
  ["test manifest", async () => buildTestManifest()],
  ["default manifest", async () => (await loadDefaultManifest()).manifest],
];

describe.each(manifests)("lists and record (%s)", (_name, load) => {
  it("MAN-4: the personal-information list has one entry per category, localised and JSON-friendly", async () => {
    const manifest = await load();
    for (const lang of ["en", "zh-CN"] as const) {
      const list = personalInformationList(manifest, lang);
      expect(list.categories.map((c) => c.id)).toEqual(manifest.categories.map((c) => c.id));
      expect(list.version).toBe(manifest.version);
      expect(JSON.parse(JSON.stringify(list))).toEqual(list);
      for (const [i, entry] of list.categories.entries()) {
        const c = manifest.categories[i];
        expect(entry.name).toBe(c?.name[lang]);
        expect(entry.items).toEqual(c?.items.map((x) => x[lang]));
        expect(entry.purposes.map((p) => p.id)).toEqual(
          manifest.purposes.filter((p) => p.categories.includes(entry.id)).map((p) => p.id),
        );
        expect(entry.sensitive).toBe(c?.sensitivity === "sensitive");
        if (entry.storage === "server") expect(entry.retention?.summary).toBeTruthy();
      }
      const doc = buildDocument(manifest, "personal-information", lang);
      expect(doc.sections.map((s) => s.id)).toEqual(manifest.categories.map((c) => `category-${c.id}`));
      for (const s of doc.sections) expect(s.blocks.some((b) => b.kind === "table")).toBe(true);
    }
  });

  it("MAN-4: the third-party list has one entry per recipient with its facts", async () => {
    const manifest = await load();
    for (const lang of ["en", "zh-CN"] as const) {
      const list = thirdPartyList(manifest, lang);
      expect(list.recipients.map((r) => r.id)).toEqual(manifest.recipients.map((r) => r.id));
      expect(JSON.parse(JSON.stringify(list))).toEqual(list);
      for (const [i, entry] of list.recipients.entries()) {
        const r = manifest.recipients[i];
        expect(entry.company).toBe(r?.company[lang]);
        expect(entry.relationship).toBe(r?.relationship);
        expect(entry.categories.map((c) => c.id)).toEqual(r?.categories);
        expect(entry.sdkPurposes.map((s) => s.id)).toEqual(r?.sdkPurposes);
        expect(entry.contact).toBe(r?.contact);
        expect(entry.enabled).toBe(r?.enabled);
      }
      const doc = buildDocument(manifest, "third-parties", lang);
      expect(doc.sections.map((s) => s.id)).toEqual(manifest.recipients.map((r) => `recipient-${r.id}`));
    }
  });

  it("SEC-7, MAN-4: the record of processing activities has one entry per purpose, after the controller", async () => {
    const manifest = await load();
    const doc = buildDocument(manifest, "processing-record", "en");
    expect(doc.sections[0]?.id).toBe("controller");
    expect(doc.sections.slice(1).map((s) => s.id)).toEqual(manifest.purposes.map((p) => `purpose-${p.id}`));
    const html = renderDocument(manifest, "processing-record", "en", "html");
    expect(html).toContain(manifest.contact.email);
    for (const heading of [
      "Legal basis",
      "Data subjects",
      "Recipients",
      "Transfer abroad",
      "Retention",
      "Security measures",
    ])
      expect(html.split(`<th scope="row">${heading}</th>`).length - 1, heading).toBe(
        manifest.purposes.length,
      );
  });
});

describe("switched-off recipients", () => {
  it("MAN-4: a disabled recipient is shown as switched off in the list and the document", () => {
    const manifest = buildTestManifest();
    const en = thirdPartyList(manifest, "en").recipients.find((r) => r.id === "old-ads-sdk");
    expect(en?.enabled).toBe(false);
    expect(en?.statusLabel).toMatch(/^Switched off/);
    expect(
      thirdPartyList(manifest, "zh-CN").recipients.find((r) => r.id === "old-ads-sdk")?.statusLabel,
    ).toMatch(/^已关闭/);
    const active = thirdPartyList(manifest, "en").recipients.find((r) => r.id === "map-sdk");
    expect(active?.enabled).toBe(true);
    expect(active?.statusLabel).not.toMatch(/Switched off/);
    const doc = buildDocument(manifest, "third-parties", "en");
    expect(doc.sections.find((s) => s.id === "recipient-old-ads-sdk")?.heading).toBe(
      "Old Ads SDK (switched off)",
    );
    expect(doc.sections.find((s) => s.id === "recipient-map-sdk")?.heading).toBe("Map SDK");
    expect(renderDocument(manifest, "third-parties", "zh-CN", "md")).toContain("旧广告SDK（已关闭）");
    // The record of processing says so too.
    expect(renderDocument(manifest, "processing-record", "en", "md")).toContain(
      "Old Ads SDK (Ads Co.), switched off",
    );
  });

  it("MAN-4: the same recipient switched on again is shown as active", () => {
    const manifest = buildTestManifest((m) => {
      const r = m.recipients?.find((x) => x.id === "old-ads-sdk");
      if (r) r.enabled = true;
    });
    expect(thirdPartyList(manifest, "en").recipients.every((r) => r.enabled)).toBe(true);
    expect(renderDocument(manifest, "third-parties", "en", "html")).not.toContain("switched off)");
  });
});
