import { describe, expect, it } from "vitest";
import {
  EVERYTHING,
  effectiveChoices,
  isAllowed,
  languageOf,
  NOTHING,
  parseStored,
  type Stored,
  scriptsToActivate,
  withGpc,
} from "./state.ts";

const ID = "0b0e7a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const stored = (c = EVERYTHING, v = "2024-03-26"): Stored => ({ id: ID, v, c, t: 1 });

describe("banner choice state", () => {
  it("CON-2: nothing is pre-ticked: without a stored choice every non-necessary category is off and undecided", () => {
    expect(effectiveChoices(null, "2024-03-26", false)).toEqual({ choices: NOTHING, decided: false });
    expect(isAllowed("identity", NOTHING)).toBe(true);
    expect(isAllowed("analytics", NOTHING)).toBe(false);
    expect(isAllowed("advertising", NOTHING)).toBe(false);
  });

  it("CON-2: a stored choice for the current notice applies; one for an older notice asks again", () => {
    expect(effectiveChoices(stored(), "2024-03-26", false)).toEqual({ choices: EVERYTHING, decided: true });
    expect(effectiveChoices(stored(EVERYTHING, "2023-01-01"), "2024-03-26", false)).toEqual({
      choices: NOTHING,
      decided: false,
    });
  });

  it("CON-11: GPC takes precedence over a stored opt-in and over any switch", () => {
    expect(effectiveChoices(stored(), "2024-03-26", true)).toEqual({ choices: NOTHING, decided: true });
    expect(effectiveChoices(null, "2024-03-26", true)).toEqual({ choices: NOTHING, decided: false });
    expect(withGpc(EVERYTHING, true)).toEqual(NOTHING);
    expect(withGpc({ analytics: true, advertising: false }, false)).toEqual({
      analytics: true,
      advertising: false,
    });
  });

  it("CON-11: only allowed, not yet activated tagged scripts are activated; unknown categories never", () => {
    const scripts = [
      { category: "identity", done: false },
      { category: "analytics", done: false },
      { category: "advertising", done: false },
      { category: "analytics", done: true },
      { category: "marketing", done: false },
    ];
    expect(scriptsToActivate(scripts, NOTHING)).toEqual([0]);
    expect(scriptsToActivate(scripts, { analytics: true, advertising: false })).toEqual([0, 1]);
    expect(scriptsToActivate(scripts, EVERYTHING)).toEqual([0, 1, 2]);
  });

  it("CON-2: a malformed or tampered stored record counts as no choice", () => {
    expect(parseStored(JSON.stringify(stored()))).toEqual(stored());
    expect(parseStored("{not json")).toBeNull();
    expect(parseStored(JSON.stringify({ ...stored(), id: "not-a-uuid" }))).toBeNull();
    expect(
      parseStored(JSON.stringify({ ...stored(), c: { analytics: "yes", advertising: true } })),
    ).toBeNull();
    expect(parseStored(null)).toBeNull();
  });

  it("CON-11: the language comes from the element, else the page; Chinese variants map to zh-CN", () => {
    expect(languageOf("zh-CN", "en")).toBe("zh-CN");
    expect(languageOf(null, "zh-Hans")).toBe("zh-CN");
    expect(languageOf("", "en-GB")).toBe("en");
    expect(languageOf(null, "")).toBe("en");
  });
});
