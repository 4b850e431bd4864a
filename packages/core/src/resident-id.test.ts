import { describe, expect, it } from "vitest";
import { convertResidentId15, makeResidentId, parseResidentId, residentIdCheckChar } from "./resident-id.ts";

const today = new Date("2026-11-28T00:00:00Z");

describe("resident ID numbers (GB 11643)", () => {
  it("CHD-1: accepts a number whose check character is right and reads birth date and sex", () => {
    // 11010519491231002X is the standard's published example.
    const result = parseResidentId("11010519491231002x", today);
    expect(result).toEqual({
      ok: true,
      info: { id: "11010519491231002X", regionCode: "110105", birthDate: "1949-12-31", sex: "female" },
    });
  });

  it("CHD-1: refuses a wrong check character", () => {
    expect(parseResidentId("110105194912310021", today)).toEqual({ ok: false, reason: "checksum" });
  });

  it("CHD-1: refuses impossible and future birth dates", () => {
    expect(parseResidentId(makeResidentId("110105", "2023-02-30", 12), today)).toEqual({
      ok: false,
      reason: "birth-date",
    });
    expect(parseResidentId(makeResidentId("110105", "2027-01-01", 12), today)).toEqual({
      ok: false,
      reason: "birth-date",
    });
  });

  it("CHD-1: converts a 15-digit number to 18 characters", () => {
    expect(convertResidentId15("110105491231002")).toBe("11010519491231002X");
    const result = parseResidentId("110105491231002", today);
    expect(result.ok && result.info.id).toBe("11010519491231002X");
  });

  it("CHD-1: refuses malformed input", () => {
    for (const bad of ["", "abc", "1101051949123100", "1101051949123100XX", "11010519491231002Y"])
      expect(parseResidentId(bad, today)).toEqual({ ok: false, reason: "format" });
  });

  it("makes numbers that validate", () => {
    const id = makeResidentId("310101", "2015-06-01", 37);
    expect(id[17]).toBe(residentIdCheckChar(id.slice(0, 17)));
    expect(parseResidentId(id, today).ok).toBe(true);
  });
});
