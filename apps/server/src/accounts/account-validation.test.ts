import { describe, expect, it } from "vitest";
import {
  parseContact,
  parseIdentifier,
  passwordProblems,
  summariseUserAgent,
  truncateIp,
} from "./account-validation.ts";

describe("account input rules", () => {
  it("ACC-1: accepts mainland mobile numbers and emails, normalised", () => {
    expect(parseContact("+86 138-1234-5678")).toEqual({ kind: "phone", value: "13812345678" });
    expect(parseContact("12812345678")).toBeUndefined();
    expect(parseContact("1381234567")).toBeUndefined();
    expect(parseContact("Li.Lei@Example.COM")).toEqual({ kind: "email", value: "li.lei@example.com" });
    expect(parseContact("not-an-email@")).toBeUndefined();
  });

  it("ACC-1: identifiers are a phone, an email or a case-insensitive username", () => {
    expect(parseIdentifier("Player_One")).toEqual({ kind: "username", value: "player_one" });
    expect(parseIdentifier("13912345678")?.kind).toBe("phone");
    expect(parseIdentifier("a b")).toBeUndefined();
  });

  it("ACC-1: passwords need length, two character classes and must not contain the username", () => {
    expect(passwordProblems("short1")).toContain("length");
    expect(passwordProblems("alllowercase")).toEqual(["classes"]);
    expect(passwordProblems("12345678901")).toEqual(["classes"]);
    expect(passwordProblems("xxPlayer_one99", "player_one")).toEqual(["contains_username"]);
    expect(passwordProblems("Tiger-Lily-42", "player_one")).toEqual([]);
  });

  it("SEC-6: a user agent is reduced to browser and OS family; an IP to its network", () => {
    expect(
      summariseUserAgent(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
      ),
    ).toBe("Chrome on Linux");
    expect(truncateIp("203.0.113.77")).toBe("203.0.113.0/24");
  });
});
