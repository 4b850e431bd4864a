import { describe, expect, it } from "vitest";
import { hasChromium, registerAccount, runAxe, seriousViolations, textOf } from "./harness.ts";
import { useOidcHarness } from "./oidc-setup.ts";

describe.runIf(hasChromium)("third-party sign-in in Chromium", () => {
  const oidc = useOidcHarness();

  it("ACC-2: the sign-in page offers the provider; its login and consent pages bring the person back signed in", async () => {
    const { h, fx } = oidc();
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
    const { h } = oidc();
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
  const oidc = useOidcHarness();

  it("ACC-2, ACC-4: the security page links a provider after the person confirms it is them", async () => {
    const { h } = oidc();
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await registerAccount(h, page.request, {
        contact: "link.me@example.com",
        username: "link_me",
        password: "Link-Me-Pass-42",
      });
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
