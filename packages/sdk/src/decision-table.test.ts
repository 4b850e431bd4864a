import {
  type ConsentEntry,
  type DecisionManifest,
  type DecisionReason,
  decide,
  policyFingerprint,
  purposeFingerprint,
  type SubjectConsentState,
} from "@custos/core";
import { describe, expect, it } from "vitest";
import { DecisionTable } from "./decision-table.ts";
import { type DecisionSchema, hasBit, maskWords, type WireEntry } from "./protocol.ts";

/**
 * The decision table against @custos/core `decide()` on a synthetic manifest of 40 purposes (masks
 * beyond 32 bits, so every subject takes the Entry path) and random states. Entries are built here
 * from `decide()` exactly as the protocol defines them, independently of the server's encoder.
 */

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const random = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

const categories = Array.from({ length: 10 }, (_, i) => ({
  id: `c${i}`,
  sensitivity: (i >= 7 ? "sensitive" : "general") as "general" | "sensitive",
}));
const permissions = Array.from({ length: 4 }, (_, i) => ({
  id: `k${i}`,
  categories: [`c${i * 2}`, `c${i * 2 + 1}`],
}));
const manifest: DecisionManifest & { marketingChannels: string[] } = {
  version: "synthetic-1",
  categories,
  permissions,
  marketingChannels: ["sms", "email"],
  purposes: Array.from({ length: 40 }, (_, i) => {
    const consent = (["policy", "separate", "none"] as const)[i % 3] as "policy" | "separate" | "none";
    const cats = categories.filter(() => random() < 0.4).map((c) => c.id);
    return {
      id: `p${i}`,
      legalBasis: consent === "none" ? pick(["contract", "legal-obligation"]) : "consent",
      function: i % 2 ? "basic" : "extended",
      consent,
      categories: cats.length ? cats : ["c0"],
      permissions: permissions.filter(() => random() < 0.3).map((k) => k.id),
      setting: i % 7 === 0 ? "s0" : i % 11 === 0 ? "s1" : undefined,
      features: i % 5 === 0 ? ["marketing"] : ["other"],
    };
  }),
};

const schema: DecisionSchema = {
  protocol: 1,
  manifestVersion: manifest.version,
  manifestHash: "x",
  schemaHash: "synthetic",
  purposes: manifest.purposes.map((p) => ({
    id: p.id,
    legalBasis: p.legalBasis,
    consent: p.consent,
    function: p.function,
    categories: [...p.categories],
    setting: p.setting ?? null,
    permissions: [...(p.permissions ?? [])],
    features: [...(p.features ?? [])],
  })),
  categories: [...categories],
  permissions,
  marketingChannels: manifest.marketingChannels,
};

const hex = (bits: number[]) =>
  bits.length ? bits.reduce((m, b) => m | (1n << BigInt(b)), 0n).toString(16) : "0";
const off = (e: ConsentEntry | undefined) => e?.state === "refused" || e?.state === "withdrawn";

function entryOf(subjectId: string, state: SubjectConsentState | undefined): WireEntry {
  const allowed: number[] = [];
  const denied = new Map<DecisionReason, number[]>();
  manifest.purposes.forEach((p, i) => {
    const d = decide(manifest, state, { purposeId: p.id, categories: [] });
    if (d.allow) allowed.push(i);
    else if (d.reason !== "consent-missing") denied.set(d.reason, [...(denied.get(d.reason) ?? []), i]);
  });
  const e: WireEntry = { s: subjectId, a: hex(allowed) };
  if (denied.size) e.d = Object.fromEntries([...denied].map(([r, bits]) => [r, hex(bits)]));
  const p = permissions.flatMap((k, i) => (off(state?.permissions?.[k.id]) ? [i] : []));
  if (p.length) e.p = hex(p);
  const m = manifest.marketingChannels.flatMap((c, i) => (off(state?.marketing?.[c]) ? [i] : []));
  if (m.length) e.m = hex(m);
  return e;
}

function randomState(): SubjectConsentState {
  const entry = (fingerprint: string): ConsentEntry => ({
    state: pick(["given", "given", "refused", "withdrawn", "invalidated"] as const),
    fingerprint: random() < 0.85 ? fingerprint : "0".repeat(64),
    noticeVersion: manifest.version,
  });
  const purposes: Record<string, ConsentEntry> = {};
  for (const p of manifest.purposes)
    if (p.consent !== "none" && random() < 0.5) purposes[p.id] = entry(purposeFingerprint(p));
  const sw = (ids: string[]) =>
    Object.fromEntries(ids.filter(() => random() < 0.3).map((id) => [id, entry("f".repeat(64))]));
  return {
    purposes,
    policy: random() < 0.7 ? entry(policyFingerprint(manifest)) : undefined,
    settings: sw(["s0", "s1"]),
    permissions: sw(permissions.map((k) => k.id)),
    marketing: sw(manifest.marketingChannels),
  };
}

describe("DecisionTable", () => {
  it("MAN-5 CON-8 CON-9 CON-10: decides exactly as core decide() on masks wider than 32 bits", () => {
    const subjects = Array.from(
      { length: 60 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    const states = new Map(subjects.map((s) => [s, randomState()]));
    const table = new DecisionTable(schema);
    table.replaceAll(
      subjects.slice(0, 30).map((s) => entryOf(s, states.get(s))),
      entryOf("", undefined),
    );
    table.apply(subjects.slice(30).map((s) => entryOf(s, states.get(s))));
    expect(table.size).toBe(60);
    const reasons = new Set<string>();
    let compared = 0;
    for (const s of [...subjects, "00000000-0000-4000-8000-999999999999"]) {
      for (const p of [...manifest.purposes, { id: "nope", categories: ["c0"] }]) {
        const sets = [
          [],
          [...p.categories],
          [p.categories[0] as string],
          ["c9", "c8"],
          ["zz"],
          ...permissions.map((k) => k.categories),
        ];
        for (const cats of sets)
          for (const channel of [undefined, "sms", "email", "fax"]) {
            const expected = decide(manifest, states.get(s), { purposeId: p.id, categories: cats, channel });
            const actual = table.decide(s, p.id, cats, channel);
            // One assertion per mismatch only: vitest's per-call cost would dominate this test.
            if (JSON.stringify(actual) !== JSON.stringify(expected))
              expect(actual, `${s} ${p.id} ${cats} ${channel}`).toEqual(expected);
            reasons.add(expected.reason);
            compared++;
          }
      }
    }
    expect(compared).toBeGreaterThan(50_000);
    expect([...reasons].sort()).toEqual(
      [
        "basis",
        "category-not-in-purpose",
        "consent-given",
        "consent-invalidated",
        "consent-missing",
        "consent-withdrawn",
        "permission-off",
        "setting-off",
        "undeclared-category",
        "undeclared-purpose",
        "unsubscribed",
      ].sort(),
    );
  });

  it("keeps plain subjects as small integers and answers with shared frozen decisions", () => {
    const small = { ...schema, purposes: schema.purposes.slice(0, 20), schemaHash: "small" };
    const table = new DecisionTable(small);
    table.replaceAll([{ s: "a", a: "fffff" }], { a: "0" });
    const first = table.decide(
      "a",
      "p1",
      ["c0"].filter((c) => small.purposes[1]?.categories.includes(c)),
    );
    const again = table.decide("a", "p1", []);
    expect(first.allow).toBe(true);
    expect(Object.isFrozen(again)).toBe(true);
    expect(table.decide("a", "p1", [])).toBe(again);
    expect(table.decide("unknown", "p1", [])).toMatchObject({ allow: false, reason: "consent-missing" });
  });

  it("MAN-5: counts allowed non-sensitive decisions per purpose and category; keeps denials and sensitive ones", () => {
    let now = Date.UTC(2025, 3, 1, 8, 0, 30);
    const table = new DecisionTable(schema, { now: () => now, maxPendingDecisions: 3 });
    const basisPurpose = manifest.purposes.find(
      (p) =>
        p.consent === "none" &&
        p.categories.some((c) => !c.startsWith("c7") && !["c7", "c8", "c9"].includes(c)),
    ) as (typeof manifest.purposes)[number];
    const general = basisPurpose.categories.find((c) => !["c7", "c8", "c9"].includes(c)) as string;
    table.replaceAll([], entryOf("", undefined));
    for (let i = 0; i < 4; i++) table.decide("s", basisPurpose.id, [general]);
    table.decide("s", basisPurpose.id, []);
    for (let i = 0; i < 5; i++) table.decide("s", "nope", []);
    now += 60_000;
    const report = table.drain();
    expect(report.counts).toEqual([
      { purposeId: basisPurpose.id, category: general, minute: "2025-04-01T08:00:30.000Z", count: 4 },
      { purposeId: basisPurpose.id, category: "none", minute: "2025-04-01T08:00:30.000Z", count: 1 },
    ]);
    expect(report.decisions).toHaveLength(3);
    expect(report.decisions[0]).toMatchObject({
      subjectId: "s",
      purposeId: "nope",
      allow: false,
      reason: "undeclared-purpose",
    });
    expect(report.dropped).toBe(2);
    expect(table.drain()).toEqual({ counts: [], decisions: [], dropped: 0 });
  });

  it("reads hexadecimal masks of any width", () => {
    const words = maskWords("100000001");
    expect(hasBit(words, 0)).toBe(true);
    expect(hasBit(words, 32)).toBe(true);
    expect(hasBit(words, 31)).toBe(false);
    expect(hasBit(words, 200)).toBe(false);
    expect(hasBit(maskWords("80000000"), 31)).toBe(true);
    expect(() => maskWords("xyz")).toThrow(/hexadecimal/);
  });
});
