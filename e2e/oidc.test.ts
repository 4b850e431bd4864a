import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OidcProviderConfig } from "../apps/server/src/accounts/oidc-config.ts";
import { type OidcFixture, startOidcProvider } from "../apps/server/test/oidc-provider-fixture.ts";
import { type Harness, hasChromium, runAxe, seriousViolations, startHarness, textOf } from "./harness.ts";

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

describe.runIf(hasChromium)("third-party sign-in in Chromium", () => {
  let h: Harness;
  let fx: OidcFixture;

  beforeAll(async () => {
    const port = await freePort();
    fx = await startOidcProvider({
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
    h = await startHarness({ port, deps: { oidcProviders: [provider] } });
  }, 240_000);
  afterAll(async () => {
    await h?.close();
    await fx?.close();
  });

  it("ACC-2: the sign-in page offers the provider; its login and consent pages bring the person back signed in", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center/account/sign-in");
      const button = page.getByRole("link", { name: "Sign in with Test IdP" });
      await button.waitFor();
      // The policy accepted by continuing is shown next to the button, with its version.
      const notice = page.getByTestId("oidc-policy-notice");
      expect(await textOf(notice)).toMatch(/accept the privacy policy \(version [^)]+\)/);
      expect(seriousViolations(await runAxe(page), "/center/account/sign-in (providers)")).toEqual([]);

      await button.click();
      // The provider's own pages: sign in, then choose what to share.
      await page.getByRole("heading", { name: "Test provider: sign in" }).waitFor();
      expect(new URL(page.url()).origin).toBe(fx.issuer);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Test provider: allow access?" }).waitFor();
      await page.getByLabel("Share email").uncheck();
      await page.getByRole("button", { name: "Allow" }).click();

      await page.waitForURL((url) => url.origin === h.baseUrl && url.pathname === "/center");
      await page.locator("main h1").first().waitFor();
      const me = await context.request.get("/api/v1/me/providers");
      expect(me.status()).toBe(200);
      const body = (await me.json()) as { providers: { provider: string; storedFields: string[] }[] };
      expect(body.providers).toEqual([
        expect.objectContaining({ provider: "test-idp", storedFields: ["external-id", "nickname"] }),
      ]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("ACC-2: refusing at the provider returns to the sign-in page with a message and no session", async () => {
    const { context, page, problems } = await h.newPage("zh-CN");
    try {
      await page.goto("/center/account/sign-in");
      await page.getByRole("link", { name: "使用测试账号登录" }).click();
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: "Deny" }).click();
      await page.waitForURL((url) => url.origin === h.baseUrl && url.pathname === "/center/account/sign-in");
      expect(new URL(page.url()).searchParams.get("oidc")).toBe("denied");
      const message = page.getByText("您未允许第三方账号提供您的信息");
      await message.waitFor();
      expect(seriousViolations(await runAxe(page), "/center/account/sign-in?oidc=denied")).toEqual([]);
      expect((await context.request.get("/api/v1/me/providers")).status()).toBe(401);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** Linking from the security page, with a provider user no other account has linked. */
describe.runIf(hasChromium)("linking a provider in Chromium", () => {
  let h: Harness;
  let fx: OidcFixture;

  beforeAll(async () => {
    const port = await freePort();
    fx = await startOidcProvider({
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
    h = await startHarness({ port, deps: { oidcProviders: [provider] } });
  }, 240_000);
  afterAll(async () => {
    await h?.close();
    await fx?.close();
  });

  it("ACC-2, ACC-4: the security page links a provider after the person confirms it is them", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      const res = await page.request.post("/api/v1/accounts/register", {
        data: {
          contact: "link.me@example.com",
          username: "link_me",
          password: "Link-Me-Pass-42",
          policyVersion: h.app.custos.manifest.manifest.version,
          acceptPolicy: true,
        },
      });
      const { verificationId } = (await res.json()) as { verificationId: string };
      const outbox = (await (await fetch(`${h.baseUrl}/api/v1/dev/outbox?limit=20`)).json()) as {
        messages: { template: string; body: string }[];
      };
      const code = /\b(\d{6})\b/.exec(
        outbox.messages.find((m) => m.template === "verification-code")?.body ?? "",
      )?.[1];
      const verified = await page.request.post("/api/v1/accounts/register/verify", {
        data: { verificationId, code },
      });
      expect(verified.status()).toBe(201);
      await page.goto("/center/account");
      await page.getByRole("button", { name: "Link Test IdP" }).click();
      const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
      await dialog.waitFor();
      expect(seriousViolations(await runAxe(page), "/center/account (link: confirm)")).toEqual([]);
      await dialog.getByLabel("Your password").fill("Link-Me-Pass-42");
      await dialog.getByRole("button", { name: "Confirm with password" }).click();
      await page.getByRole("heading", { name: "Test provider: sign in" }).waitFor();
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Test provider: allow access?" }).waitFor();
      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL((url) => url.origin === h.baseUrl && url.pathname === "/center/account");
      expect(new URL(page.url()).searchParams.get("oidc")).toBe("linked");
      await page.getByTestId("providers").getByRole("heading", { name: "test-idp" }).waitFor();
      // Linked now: no link button for it any more.
      expect(await page.getByRole("button", { name: "Link Test IdP" }).count()).toBe(0);
      expect(seriousViolations(await runAxe(page), "/center/account?oidc=linked")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
