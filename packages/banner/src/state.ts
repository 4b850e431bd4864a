/**
 * The pure part of the consent banner (CON-2, CON-11): choice state, GPC precedence, which tagged
 * scripts may run. Shared by the browser bundle and the server; no DOM, no I/O.
 */

export const CATEGORIES = ["identity", "analytics", "advertising"] as const;
export type Category = (typeof CATEGORIES)[number];
/** The switchable categories; identity is necessary and always on. */
export type Choices = { analytics: boolean; advertising: boolean };
export type Language = "en" | "zh-CN";
/** What the browser keeps (localStorage): consent id, notice version, choices, time. */
export type Stored = { id: string; v: string; c: Choices; t: number };

/** Nothing pre-ticked (CON-2): every non-necessary category starts off. */
export const NOTHING: Choices = { analytics: false, advertising: false };
export const EVERYTHING: Choices = { analytics: true, advertising: true };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const isConsentId = (value: unknown): value is string =>
  typeof value === "string" && UUID_RE.test(value);

/** A stored record, or null when it is missing, malformed or tampered with. */
export function parseStored(text: string | null | undefined): Stored | null {
  if (!text || text.length > 500) return null;
  try {
    const s = JSON.parse(text) as Partial<Stored>;
    const c = s.c as Partial<Choices> | undefined;
    if (
      isConsentId(s.id) &&
      typeof s.v === "string" &&
      s.v.length <= 40 &&
      typeof s.t === "number" &&
      typeof c?.analytics === "boolean" &&
      typeof c.advertising === "boolean"
    )
      return { id: s.id, v: s.v, c: { analytics: c.analytics, advertising: c.advertising }, t: s.t };
  } catch {}
  return null;
}

/**
 * The choices in force. GPC wins over everything (CON-11): with the signal on, analytics and
 * advertising are off whatever was stored. A record for another notice version does not count
 * (the notice changed, so the visitor is asked again).
 */
export function effectiveChoices(
  stored: Stored | null,
  noticeVersion: string,
  gpc: boolean,
): { choices: Choices; decided: boolean } {
  const current = stored && stored.v === noticeVersion ? stored : null;
  if (gpc) return { choices: { ...NOTHING }, decided: current !== null };
  return current ? { choices: { ...current.c }, decided: true } : { choices: { ...NOTHING }, decided: false };
}

/** A choice made in the banner, with GPC applied on top (the switches cannot override the signal). */
export const withGpc = (choices: Choices, gpc: boolean): Choices => (gpc ? { ...NOTHING } : { ...choices });

/** Whether a tag of this category may run; unknown categories never run. */
export function isAllowed(category: string, choices: Choices): boolean {
  if (category === "identity") return true;
  if (category === "analytics") return choices.analytics;
  if (category === "advertising") return choices.advertising;
  return false;
}

/** Indexes of the tagged scripts to activate now: allowed and not yet activated. */
export function scriptsToActivate(
  scripts: { category: string; done: boolean }[],
  choices: Choices,
): number[] {
  const out: number[] = [];
  scripts.forEach((s, i) => {
    if (!s.done && isAllowed(s.category, choices)) out.push(i);
  });
  return out;
}

/** The banner's language: its own `lang` attribute, else the page's `<html lang>`; Chinese or English. */
export function languageOf(...candidates: (string | null | undefined)[]): Language {
  const lang =
    candidates
      .find((c) => c?.trim())
      ?.trim()
      .toLowerCase() ?? "";
  return lang.startsWith("zh") ? "zh-CN" : "en";
}
