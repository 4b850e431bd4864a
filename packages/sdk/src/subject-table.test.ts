import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_SLOT_NUMBER, SubjectTable } from "./subject-table.ts";

/**
 * The subject table answers exactly as a Map of the same keys (MAN-5: the SDK's in-process decisions
 * read it): lower-case UUIDs go to its typed slots, every other id to its Map.
 */

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Obj = { tag: string };

/** Ids of every shape: canonical UUIDs, and strings that resemble one but must not be parsed as one. */
function ids(random: () => number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = randomUUID();
    const r = random();
    if (r < 0.7) out.push(u);
    else if (r < 0.76) out.push(u.toUpperCase());
    else if (r < 0.8)
      out.push(`${u.slice(0, 35)}G`); // not a hex digit
    else if (r < 0.83)
      out.push(`${u.slice(0, 35)}\u0661`); // an Arabic-Indic digit one
    else if (r < 0.86)
      out.push(`${u.slice(0, 8)}_${u.slice(9)}`); // no dash where one belongs
    else if (r < 0.89)
      out.push(u.replaceAll("-", "").padEnd(36, "0")); // 36 hex digits, no dashes
    else if (r < 0.92) out.push(u.slice(0, 35));
    else if (r < 0.95) out.push(`${u}0`);
    else out.push(`user-${i}`);
  }
  return out;
}

describe("SubjectTable (MAN-5: the SDK snapshot's subjects)", () => {
  it("answers as a Map of the same keys through inserts, overwrites and growth", () => {
    const random = rng(11);
    const table = new SubjectTable<Obj>();
    const model = new Map<string, number | Obj>();
    const keys = ids(random, 6000);
    const objects: Obj[] = [{ tag: "a" }, { tag: "b" }, { tag: "c" }];
    // Grows from 1,024 slots to 16,384 along the way; a third of the writes overwrite a key.
    for (let i = 0; i < 9000; i++) {
      const key = keys[i < 6000 ? i : Math.floor(random() * keys.length)] as string;
      const value = random() < 0.7 ? Math.floor(random() * MAX_SLOT_NUMBER) : (objects[i % 3] as Obj);
      table.set(key, value);
      model.set(key, value);
      if (i % 997 === 0) for (const [k, v] of model) expect(table.get(k)).toBe(v);
    }
    expect(table.size).toBe(model.size);
    for (const [k, v] of model) expect(table.get(k)).toBe(v);
    // Ids never stored: absent, whatever their shape.
    for (const k of ids(random, 2000)) expect(table.get(k)).toBe(model.get(k));
  });

  it("keeps a lower-case UUID and its upper-case form apart, as a Map does", () => {
    const table = new SubjectTable<Obj>();
    const id = randomUUID();
    table.set(id, 5);
    expect(table.get(id)).toBe(5);
    expect(table.get(id.toUpperCase())).toBeUndefined();
    table.set(id.toUpperCase(), 6);
    expect(table.get(id)).toBe(5);
    expect(table.get(id.toUpperCase())).toBe(6);
    expect(table.size).toBe(2);
  });

  it("holds the nil and max UUIDs and the smallest and largest numbers", () => {
    const table = new SubjectTable<Obj>();
    const nil = "00000000-0000-0000-0000-000000000000";
    const max = "ffffffff-ffff-ffff-ffff-ffffffffffff";
    expect(table.get(nil)).toBeUndefined();
    table.set(nil, 0);
    table.set(max, MAX_SLOT_NUMBER - 1);
    expect(table.get(nil)).toBe(0);
    expect(table.get(max)).toBe(MAX_SLOT_NUMBER - 1);
    expect(table.size).toBe(2);
  });

  it("switches a subject between a number and an object", () => {
    const table = new SubjectTable<Obj>(10);
    const id = randomUUID();
    const entry = { tag: "entry" };
    table.set(id, 3);
    table.set(id, entry);
    expect(table.get(id)).toBe(entry);
    table.set(id, 4);
    expect(table.get(id)).toBe(4);
    expect(table.size).toBe(1);
  });

  it("refuses numbers it cannot hold, and keeps what it had", () => {
    const table = new SubjectTable<Obj>();
    const id = randomUUID();
    table.set(id, 1);
    for (const bad of [-1, 0.5, MAX_SLOT_NUMBER, Number.NaN])
      expect(() => table.set(id, bad)).toThrow(/integers from 0 to 2\^30 - 1/);
    expect(table.get(id)).toBe(1);
    expect(table.size).toBe(1);
  });
});
