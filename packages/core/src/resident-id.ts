/**
 * Mainland China resident identity numbers (GB 11643-1999): 18 characters, the last a check
 * character computed with ISO 7064 MOD 11-2; older 15-digit numbers convert by inserting "19"
 * into the birth year and appending the check character.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = "10X98765432";

export type ResidentIdInfo = {
  /** The normalised 18-character number. */
  id: string;
  /** Six-digit administrative division code of the place of registration. */
  regionCode: string;
  /** Date of birth as YYYY-MM-DD. */
  birthDate: string;
  sex: "male" | "female";
};

export type ResidentIdResult = { ok: true; info: ResidentIdInfo } | { ok: false; reason: ResidentIdProblem };
export type ResidentIdProblem = "format" | "birth-date" | "checksum";

/** The check character for the first 17 digits. */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error("expected 17 digits");
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number);
  return CHECK_CHARS[sum % 11] as string;
}

/** Converts a 15-digit number (issued before 1999, births in the 1900s) to 18 characters. */
export function convertResidentId15(id15: string): string {
  if (!/^\d{15}$/.test(id15)) throw new Error("expected 15 digits");
  const first17 = `${id15.slice(0, 6)}19${id15.slice(6)}`;
  return first17 + residentIdCheckChar(first17);
}

/** Validates format, birth date (a real date, not in the future) and check character. */
export function parseResidentId(input: string, today: Date = new Date()): ResidentIdResult {
  const raw = input.trim().toUpperCase();
  let id: string;
  if (/^\d{15}$/.test(raw)) id = convertResidentId15(raw);
  else if (/^\d{17}[\dX]$/.test(raw)) id = raw;
  else return { ok: false, reason: "format" };

  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(year, month - 1, day));
  const valid =
    year >= 1900 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getTime() <= today.getTime();
  if (!valid) return { ok: false, reason: "birth-date" };
  if (residentIdCheckChar(id.slice(0, 17)) !== id[17]) return { ok: false, reason: "checksum" };
  return {
    ok: true,
    info: {
      id,
      regionCode: id.slice(0, 6),
      birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
      sex: Number(id[16]) % 2 === 1 ? "male" : "female",
    },
  };
}

/** Builds a valid 18-character number; used by demo data and tests. */
export function makeResidentId(regionCode: string, birthDate: string, sequence: number): string {
  const first17 = `${regionCode}${birthDate.replaceAll("-", "")}${String(sequence).padStart(3, "0")}`;
  return first17 + residentIdCheckChar(first17);
}
