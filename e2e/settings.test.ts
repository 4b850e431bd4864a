import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@custos/server";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  type Harness,
  hasChromium,
  registerAccount,
  runAxe,
  seriousViolations,
  textOf,
  useHarness,
} from "./harness.ts";

const SERVICE_KEY = "e2e-settings-service-key-0123456789";
const service = { "x-custos-service-key": SERVICE_KEY };

/**
 * CON-8 and CON-15 in the privacy center: a player turns personalised ads off (the decision API then
 * denies), sees the interest tags a service inferred, deletes one and then all; axe in en and zh-CN.
 */
describe.runIf(hasChromium)("personalisation settings in Chromium", () => {
  let h: Harness;
  useHarness(
    (started) => {
      h = started;
    },
    // The harness's configuration plus one service key, for the app backend this test plays.
    () => ({
      deps: {
        config: loadConfig({
          HOST: "127.0.0.1",
          PORT: "0",
          CUSTOS_DEV: "1",
          CUSTOS_DATA_DIR: path.join(os.tmpdir(), `custos-e2e-settings-${randomBytes(4).toString("hex")}`),
          LOG_LEVEL: "silent",
          RATE_LIMIT_MAX: "100000",
          CUSTOS_SERVICE_KEYS: JSON.stringify([
            { name: "game-server", keyHash: createHash("sha256").update(SERVICE_KEY).digest("hex") },
          ]),
        }),
      },
    }),
  );

  const post = async (url: string, data: unknown) => {
    const res = await fetch(`${h.baseUrl}${url}`, {
      method: "POST",
      headers: { ...service, "content-type": "application/json" },
      body: JSON.stringify(data),
    });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, body };
  };

  const decide = async (subjectId: string, purposeId: string) => {
    const res = await post("/api/v1/decisions", {
      subjectId,
      purposeId,
      categories: ["advertising-profile"],
    });
    expect(res.status).toBe(200);
    return res.body as { allow: boolean; reason: string };
  };

  /** Registers through the API in the page's context (so its browser is signed in); returns the subject. */
  const register = (page: Page, contact: string, username: string): Promise<string> =>
    registerAccount(h, page.request, { contact, username, password: "Mine-Own-Pass-42" });

  it("CON-8, CON-15: turn personalised ads off (decisions deny), see the inferred tags, delete one and all; axe in en and zh-CN", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      const subjectId = await register(page, "xiao.ming@example.com", "xiao_ming");
      const noticeVersion = h.app.custos.manifest.manifest.version;
      // The app's backend relays the player's separate consents and posts the tags it inferred.
      for (const purposeId of ["personalised-ads", "personalised-content"]) {
        const given = await post("/api/v1/consents", {
          subjectId,
          purposeId,
          state: "given",
          noticeVersion,
          language: "en",
          method: "app",
        });
        expect(given.status).toBe(201);
      }
      const content = await post("/api/v1/interest-tags", {
        subjectId,
        purposeId: "personalised-content",
        tags: [
          { id: "racing-games", label: { en: "Racing games", "zh-CN": "赛车游戏" } },
          { id: "puzzle-games", label: { en: "Puzzle games", "zh-CN": "益智游戏" } },
        ],
      });
      expect(content.status).toBe(201);
      const ads = await post("/api/v1/interest-tags", {
        subjectId,
        purposeId: "personalised-ads",
        tags: [{ id: "sports-shoes", label: { en: "Sports shoes", "zh-CN": "运动鞋" } }],
      });
      expect(ads.status).toBe(201);
      expect(await decide(subjectId, "personalised-ads")).toMatchObject({
        allow: true,
        reason: "consent-given",
      });

      // From the privacy-center home to the settings page.
      await page.goto("/center");
      await page.getByRole("link", { name: "Manage personalisation" }).click();
      await page.waitForURL(/\/center\/settings$/);
      await page.getByRole("heading", { level: 1, name: "Personalisation settings" }).waitFor();
      const adsSwitch = page.getByRole("switch", { name: "Personalised advertising" });
      await adsSwitch.waitFor();
      expect(await adsSwitch.isChecked()).toBe(true);
      const tags = page.getByTestId("interest-tags");
      await tags.waitFor();
      const before = await textOf(tags);
      for (const label of ["Racing games", "Puzzle games", "Sports shoes"]) expect(before).toContain(label);
      // What turning it off means, next to the switch (its description).
      const description = await adsSwitch.getAttribute("aria-describedby");
      expect(await textOf(page.locator(`[id="${description}"]`))).toMatch(/still see adverts/);
      expect(seriousViolations(await runAxe(page), "settings (en)")).toEqual([]);

      // Off: the decision denies at once, and the tags inferred for advertising are gone.
      await adsSwitch.click();
      await page.getByText("Personalised advertising is now off.").waitFor();
      expect(await adsSwitch.isChecked()).toBe(false);
      expect(await decide(subjectId, "personalised-ads")).toMatchObject({
        allow: false,
        reason: "setting-off",
      });
      await page.getByText("Sports shoes").waitFor({ state: "detached" });
      const why = page.getByTestId("settings-why");
      await why.getByText("you switched Personalised advertising off").waitFor();
      const whyText = await textOf(why);
      expect(whyText).toMatch(/Interest tags used: .*Racing games/);
      expect(whyText).toMatch(/Interest tags used: .*Puzzle games/);

      // Delete one tag: gone from the page and from the API.
      await page.getByRole("button", { name: "Delete the tag Racing games" }).click();
      await page.getByText("The tag “Racing games” was deleted.").waitFor();
      await page.getByRole("button", { name: "Delete the tag Racing games" }).waitFor({ state: "detached" });
      const listed = (await (await page.request.get("/api/v1/me/interest-tags?lang=en")).json()) as {
        tags: { tagId: string }[];
      };
      expect(listed.tags.map((x) => x.tagId)).toEqual(["puzzle-games"]);
      expect(seriousViolations(await runAxe(page), "settings (en, after changes)")).toEqual([]);
      expect(problems).toEqual([]);

      // The same page in Simplified Chinese, same session.
      const zh = await h.newPage("zh-CN");
      try {
        await zh.context.addCookies(await context.cookies());
        await zh.page.goto("/center/settings");
        await zh.page.getByRole("heading", { level: 1, name: "个性化设置" }).waitFor();
        const zhAds = zh.page.getByRole("switch", { name: "个性化广告" });
        await zhAds.waitFor();
        expect(await zhAds.isChecked()).toBe(false);
        expect(await zh.page.getByRole("switch", { name: "个性化内容推荐" }).isChecked()).toBe(true);
        await zh.page.getByTestId("interest-tags").getByText("益智游戏").waitFor();
        expect(seriousViolations(await runAxe(zh.page), "settings (zh-CN)")).toEqual([]);
        await zh.page.getByRole("button", { name: "删除全部标签" }).click();
        await zh.page.getByText("已删除 1 个标签。").waitFor();
        await zh.page.getByText("目前没有保存关于您的兴趣标签。").waitFor();
        expect(seriousViolations(await runAxe(zh.page), "settings (zh-CN, no tags)")).toEqual([]);
        expect(zh.problems).toEqual([]);
      } finally {
        await zh.context.close();
      }
    } finally {
      await context.close();
    }
  }, 180_000);

  it("CON-8: signed out, the page asks to sign in (axe)", async () => {
    const { context, page, problems } = await h.newPage("en-US");
    try {
      await page.goto("/center/settings");
      // The header's own sign-in link can come before the page has heard it is signed out.
      await page.getByRole("main").getByText("Sign in to manage personalisation").waitFor();
      await page.getByRole("main").getByRole("link", { name: "Sign in" }).waitFor();
      expect(seriousViolations(await runAxe(page), "settings (signed out)")).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
