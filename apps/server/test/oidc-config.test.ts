import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

const good = {
  id: "example",
  name: { en: "Example ID", "zh-CN": "示例账号" },
  issuer: "https://id.example.com",
  clientId: "custos",
  clientSecret: "s3cret-value-never-echoed",
  scopes: ["openid", "profile"],
  claims: { sub: "third-party-login.external-id", nickname: "third-party-login.nickname" },
};

const load = (providers: unknown) =>
  loadConfig({
    CUSTOS_OIDC_PROVIDERS: typeof providers === "string" ? providers : JSON.stringify(providers),
  });

function problems(providers: unknown): string {
  try {
    load(providers);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("third-party sign-in providers configuration", () => {
  it("ACC-2: CUSTOS_OIDC_PROVIDERS is parsed into approved providers (none by default)", () => {
    expect(loadConfig({}).oidcProviders).toEqual([]);
    const config = load([good]);
    expect(config.oidcProviders).toEqual([good]);
    // Loopback http is allowed for local providers; scopes default to openid.
    const { scopes: _scopes, ...noScopes } = good;
    expect(load([{ ...noScopes, issuer: "http://127.0.0.1:9000" }]).oidcProviders[0]?.scopes).toEqual([
      "openid",
    ]);
  });

  it("ACC-2: an invalid provider list is refused naming what is wrong, never echoing the secret", () => {
    expect(problems("{not json")).toMatch(/CUSTOS_OIDC_PROVIDERS is not valid JSON/);
    expect(problems([{ ...good, issuer: "http://id.example.com" }])).toMatch(
      /0\.issuer: issuer must use https/,
    );
    expect(problems([{ ...good, scopes: ["profile"] }])).toMatch(/scopes must include openid/);
    // Claims may only map to fields of the manifest category third-party-login.
    const mapped = problems([{ ...good, claims: { email: "registration.email" } }]);
    expect(mapped).toMatch(/claims\.email: each claim maps to third-party-login\.<field>/);
    expect(problems([good, good])).toMatch(/provider id example is used twice/);
    expect(problems([{ ...good, id: "Bad Id" }])).toMatch(/0\.id: id must be 1-40 lower-case/);
    expect(problems([{ ...good, extra: true }])).toMatch(/CUSTOS_OIDC_PROVIDERS/);
    for (const bad of [[{ ...good, issuer: "nope" }], [{ ...good, claims: { sub: "x" } }], "{"])
      expect(problems(bad)).not.toContain(good.clientSecret);
  });
});
