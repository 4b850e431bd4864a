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
import { DecisionTable, type PreparedDecision, type PurposeHandle } from "./decision-table.ts";
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

function entryOf(
  subjectId: string,
  state: SubjectConsentState | undefined,
  of: DecisionManifest = manifest,
): WireEntry {
  const allowed: number[] = [];
  const denied = new Map<DecisionReason, number[]>();
  of.purposes.forEach((p, i) => {
    const d = decide(of, state, { purposeId: p.id, categories: [] });
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

/** The same manifest cut to 20 purposes: masks fit a small integer, so plain subjects take the fast path. */
const smallManifest: typeof manifest = {
  ...manifest,
  version: "synthetic-small",
  purposes: manifest.purposes.slice(0, 20),
};
const smallSchema: DecisionSchema = {
  ...schema,
  manifestVersion: smallManifest.version,
  schemaHash: "synthetic-small",
  purposes: schema.purposes.slice(0, 20),
};

/** Every request the handles are compared on: purposes (and an undeclared one) × categories × channels. */
function requests(m: typeof manifest) {
  const out: { purposeId: string; categories: string[]; channel: string | undefined }[] = [];
  for (const p of [...m.purposes, { id: "nope", categories: ["c0"] }]) {
    const general = p.categories.find((c) => !["c7", "c8", "c9"].includes(c));
    const outside = categories.map((c) => c.id).find((c) => !p.categories.includes(c));
    const sets = [
      [],
      [...p.categories],
      ...p.categories.map((c) => [c]),
      general ? [general, general] : [],
      outside ? [outside] : [],
      ["c9", "c8"],
      ["zz"],
      [p.categories[0] as string, "zz"],
      ...permissions.map((k) => k.categories),
    ];
    for (const cats of sets)
      for (const channel of [undefined, "sms", "email", "fax"])
        out.push({ purposeId: p.id, categories: cats, channel });
  }
  return out;
}

/** Subjects of every kind: random states (plain masks and entries), none at all, upper-case ids. */
function subjectsFor(m: typeof manifest, count: number) {
  const ids = Array.from(
    { length: count },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  );
  const states = new Map<string, SubjectConsentState | undefined>(
    ids.map((s, i) => [s, i % 4 === 0 ? { purposes: {} } : randomState()]),
  );
  const entries = ids.map((s) => entryOf(s, states.get(s), m));
  const asked = [...ids, ids[1]?.toUpperCase() as string, "00000000-0000-4000-8000-999999999999"];
  return { ids, states, entries, asked };
}

function once<K, V>(made: Map<K, V>, key: K, make: () => V): V {
  let v = made.get(key);
  if (v === undefined) {
    v = make();
    made.set(key, v);
  }
  return v;
}

describe("DecisionTable purpose handles", () => {
  for (const [name, m, sch] of [
    ["40 purposes, entries", manifest, schema],
    ["20 purposes, small integers", smallManifest, smallSchema],
  ] as const) {
    it(`MAN-5 CON-1 CON-8 CON-9 CON-10: purpose(id).decide and .categories([...]).decide answer exactly as decide() (${name})`, () => {
      const { states, entries, asked } = subjectsFor(m, 40);
      const table = new DecisionTable(sch);
      table.replaceAll(entries.slice(0, 20), entryOf("", undefined, m));
      table.apply(entries.slice(20));
      const handles = new Map<string, PurposeHandle>();
      const prepared = new Map<string, PreparedDecision>();
      const reasons = new Set<string>();
      let compared = 0;
      for (const { purposeId, categories: cats, channel } of requests(m)) {
        // One handle per purpose and per category list, reused across calls as a service would.
        const h = once(handles, purposeId, () => table.purpose(purposeId));
        const key = `${purposeId} ${cats.join(",")}`;
        const ph = once(prepared, key, () => h.categories(cats));
        for (const s of asked) {
          const expected = table.decide(s, purposeId, cats, channel);
          const viaHandle = h.decide(s, cats, channel);
          const viaPrepared = ph.decide(s, channel);
          // The same shared frozen objects; one assertion per mismatch only (vitest's cost per call).
          if (viaHandle !== expected || viaPrepared !== expected) {
            expect(viaHandle, `handle ${s} ${key} ${channel}`).toBe(expected);
            expect(viaPrepared, `prepared ${s} ${key} ${channel}`).toBe(expected);
          }
          if (cats.length === 0 && channel === undefined && h.decide(s) !== expected)
            expect(h.decide(s), `handle ${s} ${purposeId} (no categories)`).toBe(expected);
          // And decide() itself still equals core decide().
          const core = decide(m, states.get(s.toLowerCase()), { purposeId, categories: cats, channel });
          if (JSON.stringify(expected) !== JSON.stringify(core))
            expect(expected, `${s} ${key} ${channel}`).toEqual(core);
          reasons.add(expected.reason);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(20_000);
      expect(handles.get("nope")?.declared).toBe(false);
      expect(handles.get(m.purposes[0]?.id as string)?.declared).toBe(true);
      expect([...reasons]).toEqual(
        expect.arrayContaining([
          "basis",
          "category-not-in-purpose",
          "consent-given",
          "consent-missing",
          "permission-off",
          "setting-off",
          "undeclared-category",
          "undeclared-purpose",
          "unsubscribed",
        ]),
      );
    });

    it(`MAN-5: handles count and report exactly as decide() (${name})`, () => {
      let now = Date.UTC(2025, 3, 1, 8, 0, 30);
      const clock = { now: () => now, maxPendingDecisions: 100_000 };
      const { entries, asked } = subjectsFor(m, 24);
      const byDecide = new DecisionTable(sch, clock);
      const byHandle = new DecisionTable(sch, clock);
      const byPrepared = new DecisionTable(sch, clock);
      for (const t of [byDecide, byHandle, byPrepared]) t.replaceAll(entries, entryOf("", undefined, m));
      const handles = new Map<string, PurposeHandle>();
      for (const { purposeId, categories: cats, channel } of requests(m)) {
        const h = once(handles, purposeId, () => byHandle.purpose(purposeId));
        const ph = byPrepared.purpose(purposeId).categories(cats);
        for (const s of asked) {
          now += 1;
          byDecide.decide(s, purposeId, cats, channel);
          h.decide(s, cats, channel);
          ph.decide(s, channel);
        }
      }
      const expected = byDecide.drain();
      expect(expected.counts.length).toBeGreaterThan(10);
      expect(expected.decisions.length).toBeGreaterThan(1000);
      expect(byHandle.drain()).toEqual(expected);
      expect(byPrepared.drain()).toEqual(expected);
    });
  }

  it("MAN-5: a bounded report drops the same decisions through handles as through decide()", () => {
    const now = () => Date.UTC(2025, 3, 1, 8, 0, 0);
    const byDecide = new DecisionTable(smallSchema, { now, maxPendingDecisions: 2 });
    const byHandle = new DecisionTable(smallSchema, { now, maxPendingDecisions: 2 });
    const many = Array.from({ length: 60 }, (_, i) => (i % 2 ? "c0" : "zz"));
    for (const t of [byDecide, byHandle]) t.replaceAll([], { a: "0" });
    for (let i = 0; i < 5; i++) byDecide.decide("s", "p1", many);
    const prepared = byHandle.purpose("p1").categories(many);
    for (let i = 0; i < 5; i++) prepared.decide("s");
    const expected = byDecide.drain();
    expect(expected.dropped).toBe(3);
    expect(expected.decisions[0]?.categories).toHaveLength(50);
    expect(byHandle.drain()).toEqual(expected);
  });

  it("MAN-5: an undeclared purpose gives undeclared-purpose on each call, not an error", () => {
    const table = new DecisionTable(smallSchema, { now: () => 0 });
    table.replaceAll([{ s: "a", a: "fffff" }], { a: "0" });
    const handle = table.purpose("not-declared");
    const expected = table.decide("a", "not-declared", ["c0"]);
    expect(expected).toMatchObject({ allow: false, reason: "undeclared-purpose" });
    expect(handle.decide("a", ["c0"])).toBe(expected);
    expect(handle.decide("a")).toBe(expected);
    expect(handle.categories(["c0", "zz"]).decide("a")).toBe(expected);
    expect(table.drain().decisions.map((d) => d.reason)).toEqual(Array(4).fill("undeclared-purpose"));
  });

  it("handles read the current snapshot after replaceAll and apply", () => {
    const table = new DecisionTable(smallSchema);
    const p1 = smallSchema.purposes[1] as DecisionSchema["purposes"][number];
    const general = p1.categories.find((c) => !["c7", "c8", "c9"].includes(c)) as string;
    const handle = table.purpose(p1.id);
    const prepared = handle.categories([general]);
    const allowed = (s: string) => [handle.decide(s, [general]).allow, prepared.decide(s).allow];
    table.replaceAll([{ s: "a", a: "2" }], { a: "0" });
    expect(allowed("a")).toEqual([true, true]);
    expect(allowed("b")).toEqual([false, false]);
    table.apply([
      { s: "a", a: "0" },
      { s: "b", a: "2" },
    ]);
    expect(allowed("a")).toEqual([false, false]);
    expect(allowed("b")).toEqual([true, true]);
    table.replaceAll([], { a: "2" });
    expect(allowed("a")).toEqual([true, true]); // the default entry
    for (const s of ["a", "b", "c"])
      expect(handle.decide(s, [general])).toBe(table.decide(s, p1.id, [general]));
  });

  it("a prepared decision keeps its own copy of the categories", () => {
    const table = new DecisionTable(smallSchema);
    table.replaceAll([{ s: "a", a: "fffff" }], { a: "0" });
    const p1 = smallSchema.purposes[1] as DecisionSchema["purposes"][number];
    const cats = [p1.categories[0] as string];
    const prepared = table.purpose(p1.id).categories(cats);
    const before = prepared.decide("a");
    cats[0] = "zz";
    expect(prepared.decide("a")).toBe(before);
    expect(prepared.categories).toEqual([p1.categories[0]]);
    expect(Object.isFrozen(prepared.categories)).toBe(true);
  });
});
