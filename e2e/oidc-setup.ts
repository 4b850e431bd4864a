import { createServer } from "node:net";
import { afterAll, beforeAll } from "vitest";
import type { OidcProviderConfig } from "../apps/server/src/accounts/oidc-config.ts";
import { type OidcFixture, startOidcProvider } from "../apps/server/test/oidc-provider-fixture.ts";
import { type Harness, startHarness } from "./harness.ts";

/** A free localhost port, so the provider can register our callback URL before the server starts. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

export type OidcHarness = { h: Harness; fx: OidcFixture; close(): Promise<void> };

/**
 * The browser harness with one approved OpenID Connect provider, `test-idp` ("Test IdP" /
 * "测试账号"): a real oidc-provider in this process (ACC-2), whose client knows the server's callback
 * URL, storing the subject and nickname claims under third-party-login.
 */
export async function startOidcHarness(): Promise<OidcHarness> {
  const port = await freePort();
  const fx = await startOidcProvider({
    redirectUris: [`http://127.0.0.1:${port}/api/v1/auth/oidc/test-idp/callback`],
  });
  const provider: OidcProviderConfig = {
    id: "test-idp",
    name: { en: "Test IdP", "zh-CN": "测试账号" },
    issuer: fx.issuer,
    clientId: fx.clientId,
    clientSecret: fx.clientSecret,
    scopes: ["openid", "email", "profile"],
    claims: { sub: "third-party-login.external-id", nickname: "third-party-login.nickname" },
  };
  let h: Harness;
  try {
    h = await startHarness({ port, deps: { oidcProviders: [provider] } });
  } catch (error) {
    await fx.close();
    throw error;
  }
  return {
    h,
    fx,
    async close() {
      await h.close();
      await fx.close();
    },
  };
}

/**
 * In a describe block: one OIDC harness for its tests, started before them and closed after.
 * Returns a getter (the harness exists only once beforeAll has run).
 */
export function useOidcHarness(): () => OidcHarness {
  let oidc: OidcHarness | undefined;
  beforeAll(async () => {
    oidc = await startOidcHarness();
  }, 240_000);
  afterAll(async () => {
    await oidc?.close();
  });
  return () => {
    if (!oidc) throw new Error("the OIDC harness has not started (use it inside a test)");
    return oidc;
  };
}
