import { describe, expect, it } from "vitest";
import { parseManifest } from "./load.ts";
import { checkManifest, isRealIdentityCategory } from "./load-checks.ts";
import { DEFAULT_SOURCE, errorOf, FILE, lineOf, replaceOnce } from "./load-test-helpers.ts";

/** CON-15: recommendation and advertising purposes (those with a `setting`) never get real-name or ID data. */

const base = parseManifest(DEFAULT_SOURCE, FILE).manifest;
const purposeAt = (id: string) => {
  const i = base.purposes.findIndex((p) => p.id === id);
  if (i < 0) throw new Error(`no purpose ${id} in the default manifest`);
  return i;
};
const ADS_CATEGORIES = "categories: [device, location, advertising-profile]\n";

describe("personalisation purposes and real identity (CON-15)", () => {
  it("CON-15: the default manifest passes: no purpose with a setting lists a real-name or ID category", () => {
    expect(checkManifest(base)).toEqual([]);
    const settingPurposes = base.purposes.filter((p) => p.setting);
    expect(settingPurposes.map((p) => p.id).sort()).toEqual(["personalised-ads", "personalised-content"]);
    const realName = new Set(base.children.realNameCategories);
    expect(realName.size).toBeGreaterThan(0);
    for (const p of settingPurposes)
      for (const cid of p.categories) {
        const c = base.categories.find((x) => x.id === cid);
        expect(c, cid).toBeDefined();
        expect(realName.has(cid), `${p.id} uses ${cid}`).toBe(false);
        expect(isRealIdentityCategory(c as NonNullable<typeof c>), `${p.id} uses ${cid}`).toBe(false);
      }
  });

  it("CON-15: a category listed in children.realNameCategories is refused for advertising, with file and line", () => {
    const text = replaceOnce(
      DEFAULT_SOURCE,
      "realNameCategories: [real-name]",
      "realNameCategories: [real-name, advertising-profile]",
    );
    const issues = errorOf(text).issues;
    expect(issues).toEqual([
      {
        file: FILE,
        line: lineOf(text, ADS_CATEGORIES),
        column: expect.any(Number),
        path: `purposes[${purposeAt("personalised-ads")}].categories[2]`,
        message:
          'the personalised-ads purpose must not use real-name or ID data ("advertising-profile"): personalisation works on pseudonymous ids only',
      },
    ]);
    expect(errorOf(text).message).toContain(`${FILE}:${lineOf(text, ADS_CATEGORIES)}`);
  });

  it("CON-15: a category with an ID-number field is refused for recommendation and advertising", () => {
    const tagsField =
      '      - { id: tags, name: { en: "Interest tags", zh-CN: "兴趣标签" }, kind: text }\n\n  - id: cookie-identifiers';
    const text = replaceOnce(
      DEFAULT_SOURCE,
      tagsField,
      tagsField.replace(
        "\n\n",
        '\n      - { id: id-card, name: { en: "ID card", zh-CN: "身份证" }, kind: id-number }\n\n',
      ),
    );
    expect(errorOf(text).issues).toMatchObject([
      {
        line: lineOf(text, ADS_CATEGORIES),
        path: `purposes[${purposeAt("personalised-ads")}].categories[2]`,
        message: expect.stringMatching(/must not use real-name or ID data \("advertising-profile"\)/),
      },
    ]);
  });
});
