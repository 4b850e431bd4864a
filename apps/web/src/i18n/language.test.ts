import { describe, expect, it } from "vitest";
import { matchLanguage, pickLanguage } from "./language.ts";
import { resources } from "./resources.ts";

const en = resources.en;
const zhCN = resources["zh-CN"];

const flatKeys = (obj: object, prefix = ""): string[] =>
  Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" ? flatKeys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );

describe("web language selection", () => {
  it("MAN-4: any Chinese browser language maps to zh-CN, English to en", () => {
    expect(matchLanguage("zh")).toBe("zh-CN");
    expect(matchLanguage("zh-TW")).toBe("zh-CN");
    expect(matchLanguage("zh-Hans-CN")).toBe("zh-CN");
    expect(matchLanguage("en-GB")).toBe("en");
    expect(matchLanguage("fr-FR")).toBeUndefined();
  });

  it("MAN-4: a remembered choice wins over the browser, then the first language we speak, then English", () => {
    expect(pickLanguage("en", ["zh-CN"])).toBe("en");
    expect(pickLanguage(null, ["fr", "zh-HK", "en"])).toBe("zh-CN");
    expect(pickLanguage("de", ["fr", "de"])).toBe("en");
    expect(pickLanguage(undefined, [])).toBe("en");
  });

  it("MAN-4: English and Simplified Chinese have exactly the same UI strings, none empty", () => {
    const enKeys = flatKeys(en).sort();
    expect(flatKeys(zhCN).sort()).toEqual(enKeys);
    const values = (obj: object): string[] =>
      Object.values(obj).flatMap((v) => (v && typeof v === "object" ? values(v as object) : [String(v)]));
    expect(values(en).every((v) => v.trim().length > 0)).toBe(true);
    expect(values(zhCN).every((v) => v.trim().length > 0)).toBe(true);
  });
});
