import { mkdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, hasChromium, runAxe, seriousViolations, startHarness } from "./harness.ts";

/** Screenshots go to /tmp, never into the repository. */
const SHOTS = "/tmp/custos-e2e-shots";

const PAGES = [
  { path: "/center", name: "center" },
  { path: "/center/policy/privacy-policy", name: "privacy-policy" },
  { path: "/center/policy/children-rules", name: "children-rules" },
  { path: "/center/policy/processing-record", name: "processing-record" },
  { path: "/center/personal-information", name: "personal-information" },
  { path: "/center/third-parties", name: "third-parties" },
  { path: "/console", name: "console" },
  { path: "/console/outbox", name: "outbox" },
  { path: "/console/design", name: "design" },
  { path: "/center/nowhere", name: "not-found" },
] as const;

describe.runIf(hasChromium)("accessibility of every page (axe-core, serious and critical)", () => {
  let h: Harness;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await startHarness();
  }, 240_000);
  afterAll(async () => {
    await h?.close();
  });

  for (const locale of ["en-US", "zh-CN"] as const) {
    it(`MAN-4: every page in ${locale} has no serious or critical axe violations and nothing blocked by the CSP`, async () => {
      const { context, page, problems } = await h.newPage(locale);
      const failures: string[] = [];
      try {
        for (const p of PAGES) {
          await page.goto(p.path);
          await page.locator("main h1").first().waitFor();
          // Wait until data has arrived: no loading state left.
          await page.waitForFunction(() => document.querySelectorAll(".ui-state").length === 0, undefined, {
            timeout: 15_000,
          });
          expect(await page.evaluate(() => document.documentElement.lang)).toBe(
            locale === "zh-CN" ? "zh-CN" : "en",
          );
          const serious = seriousViolations(await runAxe(page), `${p.path} (${locale})`);
          failures.push(...serious.map((v) => `${p.path} (${locale}): ${v.id}`));
          await page.screenshot({ path: `${SHOTS}/${p.name}-${locale}.png`, fullPage: true });
        }
        expect(failures).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    }, 120_000);
  }

  it("MAN-4: the narrow (phone) layout also passes, with tables stacked", async () => {
    const context = await h.browser.newContext({
      baseURL: h.baseUrl,
      locale: "en-US",
      viewport: { width: 390, height: 844 },
      reducedMotion: "reduce",
    });
    try {
      const page = await context.newPage();
      for (const p of ["/center", "/center/third-parties"]) {
        await page.goto(p);
        await page.locator("main h1").first().waitFor();
        await page.waitForFunction(() => document.querySelectorAll(".ui-state").length === 0);
        expect(seriousViolations(await runAxe(page), `${p} (phone)`)).toEqual([]);
        // Nothing wider than the screen: no horizontal scrolling of the whole page.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(
          true,
        );
        await page.screenshot({ path: `${SHOTS}/phone${p.replaceAll("/", "-")}.png`, fullPage: true });
      }
    } finally {
      await context.close();
    }
  }, 60_000);
});
