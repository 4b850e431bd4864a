import { describe, expect, it } from "vitest";
import { stateFor } from "./use-api.ts";

// The separate-consent dialog (CON-4) loads its lists each time it opens: it must never show the
// lists of the last time, even for one frame.
describe("useApi's state per request", () => {
  const ok = { status: "ok" as const, data: { items: ["a"] } };

  it("CON-4: gives the data only for the path, language and query it was fetched for", () => {
    const held = { key: "/api/v1/me/consents\u0000en\u0000{}", value: ok };
    expect(stateFor(held, "/api/v1/me/consents\u0000en\u0000{}")).toBe(ok);
    // Another path, language or query: loading until its own answer, never the last one's data.
    expect(stateFor(held, "/api/v1/me/settings\u0000en\u0000{}")).toEqual({ status: "loading" });
    expect(stateFor(held, "/api/v1/me/consents\u0000zh-CN\u0000{}")).toEqual({ status: "loading" });
    expect(stateFor(held, '/api/v1/me/consents\u0000en\u0000{"page":"2"}')).toEqual({ status: "loading" });
  });

  it("CON-4: is loading while it waits for a path (a closed dialog keeps nothing to flash on reopening)", () => {
    expect(stateFor({ key: "/x\u0000en\u0000{}", value: ok }, null)).toEqual({ status: "loading" });
    expect(stateFor({ key: null, value: { status: "loading" } }, null)).toEqual({ status: "loading" });
  });
});
