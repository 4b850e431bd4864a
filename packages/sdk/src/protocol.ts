import type { DecisionReason } from "@custos/core";

/**
 * The wire format of the decision routes (apps/server/src/consent/decision-stream-routes.ts,
 * docs/CONTRACTS.md "SDK and decision stream"). Masks are lower-case hexadecimal without a prefix:
 * bit i (least significant = 0) is element i of the schema's list, i.e. `BigInt("0x" + mask)`.
 */

export const PROTOCOL_VERSION = 1;

export type SchemaPurpose = {
  id: string;
  legalBasis: string;
  consent: "policy" | "separate" | "none";
  function: "basic" | "extended";
  categories: string[];
  setting: string | null;
  permissions: string[];
  features: string[];
};

/** `GET /api/v1/decisions/schema`. The order of each list is the bit order of every mask. */
export type DecisionSchema = {
  protocol: number;
  manifestVersion: string;
  manifestHash: string;
  schemaHash: string;
  purposes: SchemaPurpose[];
  categories: { id: string; sensitivity: "general" | "sensitive" }[];
  permissions: { id: string; categories: string[] }[];
  marketingChannels: string[];
};

/**
 * One subject: `a` the purposes allowed at purpose level (decide() with no categories); `d` the
 * denied purposes per reason for every reason but `consent-missing`; `p` switched-off device
 * permissions; `m` unsubscribed marketing channels. `s` (the subject id) is absent on the default.
 */
export type WireEntry = {
  s?: string;
  a: string;
  d?: Partial<Record<DecisionReason, string>>;
  p?: string;
  m?: string;
};

/** `GET /api/v1/decisions/snapshot` (one page). */
export type SnapshotPage = {
  schemaHash: string;
  at: string;
  defaultEntry: WireEntry;
  entries: WireEntry[];
  nextCursor: string | null;
};

/** `event: hello` of the stream. */
export type HelloEvent = { epoch: string; seq: number; schemaHash: string; heartbeatMs: number };
/** `event: change` of the stream. */
export type ChangeEvent = { entries: WireEntry[] };
/** `event: reset` of the stream: reload the snapshot. */
export type ResetEvent = { reason: string; schemaHash: string };

/** `POST /api/v1/decisions/report`. */
export type DecisionReport = {
  counts: { purposeId: string; category: string; minute: string; count: number }[];
  decisions: ReportedDecision[];
  dropped: number;
};

export type ReportedDecision = {
  subjectId: string;
  purposeId: string;
  categories: string[];
  channel?: string;
  allow: boolean;
  reason: DecisionReason;
  basis: string | null;
  sensitive: boolean;
  at: string;
};

/** The 32-bit words of a hex mask, least significant first. */
export function maskWords(hex: string): Int32Array {
  if (!/^[0-9a-f]{1,256}$/.test(hex)) throw new Error(`not a hexadecimal mask: ${hex.slice(0, 40)}`);
  const words = new Int32Array(Math.ceil(hex.length / 8));
  for (let w = 0, end = hex.length; end > 0; w++, end -= 8)
    words[w] = Number.parseInt(hex.slice(Math.max(0, end - 8), end), 16) | 0;
  return words;
}

/** Whether bit `i` is set in `words`. */
export function hasBit(words: Int32Array, i: number): boolean {
  const w = i >> 5;
  return w < words.length && (((words[w] as number) >>> (i & 31)) & 1) === 1;
}
