import { describe, expect, it } from "vitest";
import { AppError, assertThat, ERROR_CODES, HTTP_STATUS, isAppError, isErrorCode } from "./app-error.ts";
import { fixedClock, nowMsOf, systemClock } from "./clock.ts";
import { isUuid, newId } from "./ids.ts";

describe("AppError", () => {
  it("maps every code to an HTTP status", () => {
    expect(new AppError("validation_failed", { message: "x" }).statusCode).toBe(400);
    expect(new AppError("not_found", { message: "x" }).statusCode).toBe(404);
    expect(new AppError("conflict", { message: "x" }).statusCode).toBe(409);
    expect(new AppError("rate_limited", { message: "x" }).statusCode).toBe(429);
    expect(new AppError("internal", { message: "x" }).statusCode).toBe(500);
    for (const code of ERROR_CODES) expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
  });

  it("carries message, details and userMessage, and serialises without the user message", () => {
    const err = new AppError("validation_failed", {
      message: "limit must be between 1 and 100",
      details: { field: "limit" },
      userMessage: "Please pick a smaller page size.",
    });
    expect(err).toBeInstanceOf(Error);
    expect(isAppError(err)).toBe(true);
    expect(err.userMessage).toBe("Please pick a smaller page size.");
    expect(err.toJSON()).toEqual({
      code: "validation_failed",
      message: "limit must be between 1 and 100",
      details: { field: "limit" },
    });
  });

  it("assertThat throws the given code when the condition fails", () => {
    expect(() => assertThat(true, "not_found", "no")).not.toThrow();
    expect(() => assertThat(false, "not_found", "subject not found")).toThrowError(
      expect.objectContaining({ code: "not_found", statusCode: 404 }),
    );
    expect(isErrorCode("forbidden")).toBe(true);
    expect(isErrorCode("teapot")).toBe(false);
  });
});

describe("clock and ids", () => {
  it("fixedClock stays put until moved", () => {
    const clock = fixedClock("2025-01-01T00:00:00Z");
    expect(clock.now().toISOString()).toBe("2025-01-01T00:00:00.000Z");
    clock.advance(1000);
    expect(clock.now().toISOString()).toBe("2025-01-01T00:00:01.000Z");
    expect(() => fixedClock("nope")).toThrow();
    expect(Math.abs(systemClock.now().getTime() - Date.now())).toBeLessThan(1000);
  });

  it("nowMsOf reads a clock's time without a Date where it can, and agrees with now()", () => {
    const clock = fixedClock("2025-01-01T00:00:00Z");
    clock.advance(250);
    expect(nowMsOf(clock)).toBe(clock.now().getTime());
    const onlyNow = { now: () => new Date("2025-06-01T00:00:00Z") };
    expect(nowMsOf(onlyNow)).toBe(Date.parse("2025-06-01T00:00:00Z"));
    expect(Math.abs(nowMsOf(systemClock) - Date.now())).toBeLessThan(1000);
  });

  it("newId returns distinct UUID v4 values", () => {
    const a = newId();
    expect(isUuid(a)).toBe(true);
    expect(a[14]).toBe("4");
    expect(newId()).not.toBe(a);
  });
});
