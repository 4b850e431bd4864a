import en from "./en.json";
import zhCN from "./zh-CN.json";

/**
 * UI strings: the shared `en.json` / `zh-CN.json`, plus one pair of files per feature
 * (`<feature>.en.json`, `<feature>.zh-CN.json`) whose top-level keys are that feature's namespace,
 * so features add strings without editing each other's files.
 */
const featureEn = import.meta.glob<Record<string, unknown>>("./*.en.json", {
  eager: true,
  import: "default",
});
const featureZh = import.meta.glob<Record<string, unknown>>("./*.zh-CN.json", {
  eager: true,
  import: "default",
});

const merge = (base: Record<string, unknown>, parts: Record<string, Record<string, unknown>>) => {
  const out: Record<string, unknown> = { ...base };
  for (const [file, part] of Object.entries(parts))
    for (const [key, value] of Object.entries(part)) {
      if (key in out) throw new Error(`${file}: the UI string namespace "${key}" is defined twice`);
      out[key] = value;
    }
  return out;
};

export const resources = {
  en: merge(en, featureEn),
  "zh-CN": merge(zhCN, featureZh),
};
