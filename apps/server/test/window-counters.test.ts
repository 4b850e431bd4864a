import { describe, expect, it } from "vitest";
import { WindowCounters } from "../src/security/window-counters.ts";

describe("rate-limit window counters (SEC-8)", () => {
  it("SEC-8: counts per key within a window and starts again in the next", () => {
    const c = new WindowCounters();
    expect(c.hit("a", 60_000, 1_000)).toEqual({ current: 1, ttl: 60_000 });
    expect(c.hit("a", 60_000, 2_000)).toEqual({ current: 2, ttl: 59_000 });
    expect(c.peek("a", 60_000, 3_000)).toEqual({ current: 2, ttl: 58_000 });
    expect(c.peek("b", 60_000, 3_000)).toEqual({ current: 0, ttl: 0 });
    expect([c.countOf("a", 60_000, 3_000), c.countOf("b", 60_000, 3_000)]).toEqual([2, 0]);
    expect(c.countOf("a", 60_000, 61_000)).toBe(0);
    expect(c.hit("a", 60_000, 61_000)).toEqual({ current: 1, ttl: 60_000 });
  });

  it("SEC-8: forgets the least recently counted key first, also after runs of one key", () => {
    const c = new WindowCounters(2);
    c.hit("a", 60_000, 0);
    c.hit("b", 60_000, 0);
    c.hit("b", 60_000, 0); // b again: still the most recent
    c.hit("a", 60_000, 0); // a becomes the most recent
    c.hit("a", 60_000, 0);
    c.hit("c", 60_000, 0); // over the limit: b goes
    expect(c.peek("b", 60_000, 0).current).toBe(0);
    expect(c.peek("a", 60_000, 0).current).toBe(3);
    expect(c.peek("c", 60_000, 0).current).toBe(1);
    // A key whose window rolled over is counted afresh and is the most recent again.
    c.hit("c", 60_000, 70_000);
    c.hit("d", 60_000, 70_000); // a goes, c stays
    expect(c.peek("a", 60_000, 70_000).current).toBe(0);
    expect(c.peek("c", 60_000, 70_000).current).toBe(1);
  });
});
