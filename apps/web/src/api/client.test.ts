import { describe, expect, it } from "vitest";
import { buildUrl, errorFromBody } from "./client.ts";

describe("web API client", () => {
  it("MAN-4: passes the language as ?lang= and drops empty parameters", () => {
    expect(buildUrl("/api/v1/policy/third-parties", { lang: "zh-CN", version: undefined, q: "" })).toBe(
      "/api/v1/policy/third-parties?lang=zh-CN",
    );
    expect(buildUrl("/api/v1/policy/versions")).toBe("/api/v1/policy/versions");
  });

  it("keeps the server's error message, code and request id", () => {
    const error = errorFromBody(404, {
      error: { code: "not_found", message: "No document called x. Use one of …", requestId: "req-7" },
    });
    expect(error.status).toBe(404);
    expect(error.code).toBe("not_found");
    expect(error.message).toBe("No document called x. Use one of …");
    expect(error.requestId).toBe("req-7");
    expect(error.fromServer).toBe(true);
  });

  it("falls back to the x-request-id header and marks a body without a message as not from the server", () => {
    const error = errorFromBody(502, "<html>bad gateway</html>", "hdr-1");
    expect(error.code).toBe("http-502");
    expect(error.requestId).toBe("hdr-1");
    expect(error.fromServer).toBe(false);
  });
});
