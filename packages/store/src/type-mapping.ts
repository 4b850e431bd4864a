/**
 * One mapping of PostgreSQL types to JavaScript values for both engines (docs/adr/0001):
 * - int8 / bigserial / count(*) → number (values beyond 2^53 are refused rather than rounded);
 * - numeric → string (exact);
 * - timestamptz → Date; date → "YYYY-MM-DD" string (no time-zone shift);
 * - json / jsonb → parsed value (write with `JSON.stringify`, see `jsonb()` in db-types.ts);
 * - bytea → Buffer.
 */
export const OID = {
  BYTEA: 17,
  INT8: 20,
  DATE: 1082,
} as const;

export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number`);
  return n;
}

export function parseDate(text: string): string {
  return text;
}

/** PostgreSQL bytea text output ("\x0a0b…", hex format) → Buffer. */
export function parseByteaHex(text: string): Buffer {
  if (text.startsWith("\\x")) return Buffer.from(text.slice(2), "hex");
  throw new Error("unexpected bytea output format; bytea_output must be 'hex'");
}
