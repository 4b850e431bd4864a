/** Languages the web app speaks; the same codes the API takes as `?lang=`. */
export const LANGUAGES = ["en", "zh-CN"] as const;
export type Language = (typeof LANGUAGES)[number];

export const LANGUAGE_STORAGE_KEY = "custos.lang";

export const isLanguage = (value: unknown): value is Language =>
  typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);

/** Map one browser language tag to ours: any zh* → zh-CN, any en* → en, anything else → undefined. */
export const matchLanguage = (tag: string): Language | undefined => {
  const lower = tag.trim().toLowerCase();
  if (lower === "zh" || lower.startsWith("zh-")) return "zh-CN";
  if (lower === "en" || lower.startsWith("en-")) return "en";
  return undefined;
};

/**
 * The language to start in: a remembered choice wins, then the first browser language we speak,
 * then English.
 */
export const pickLanguage = (stored: string | null | undefined, browser: readonly string[]): Language => {
  if (isLanguage(stored)) return stored;
  for (const tag of browser) {
    const match = matchLanguage(tag);
    if (match) return match;
  }
  return "en";
};
