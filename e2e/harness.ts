/**
 * Browser-test harness: builds the web app once, starts the real server in-process on a random
 * port (fresh test database, default manifest), and drives Debian's Chromium with playwright-core.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type LoadedManifest, loadDefaultManifest, parseManifest } from "@custos/manifest";
import {
  type AppDeps,
  createApp,
  createLogger,
  createNotifier,
  loadConfig,
  type SendInput,
} from "@custos/server";
import {
  createJobQueue,
  createTestDatabase,
  createVault,
  type Database,
  envKeyProvider,
} from "@custos/store";
import type { FastifyInstance } from "fastify";
import { generate } from "otplib";
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import YAML from "yaml";
import { registerRunSecret, runLogDestination } from "../test/run-log.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);

if (!hasChromium) {
  const why = `Browser tests need Debian's Chromium at ${CHROMIUM_PATH}; install it with: apt-get install -y chromium`;
  if (process.env.CI)
    throw new Error(`${why} (CI is set, so the browser tests fail instead of being skipped).`);
  console.warn(`[e2e] skipped: ${why}`);
}

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const webRoot = path.join(repoRoot, "apps/web");
export const WEB_DIST = path.join(webRoot, "dist");
const LOCK_DIR = path.join(os.tmpdir(), "custos-web-build.lock");

const newestMtime = (target: string): number => {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
};

const isDistFresh = (): boolean => {
  const index = path.join(WEB_DIST, "index.html");
  if (!existsSync(index)) return false;
  const sources = ["src", "index.html", "vite.config.ts"]
    .map((p) => path.join(webRoot, p))
    .filter(existsSync);
  return statSync(index).mtimeMs >= Math.max(...sources.map(newestMtime));
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Build apps/web once (vite's JS API), or reuse apps/web/dist when it is newer than every source.
 * Test files run in parallel processes, so a lock directory makes the others wait for one build.
 */
export async function ensureWebBuilt(): Promise<string> {
  if (isDistFresh()) return WEB_DIST;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      // Someone else is building; a lock older than five minutes is from a crashed run.
      if (existsSync(LOCK_DIR) && Date.now() - statSync(LOCK_DIR).mtimeMs > 300_000)
        rmSync(LOCK_DIR, { recursive: true, force: true });
      await sleep(250);
      if (isDistFresh()) return WEB_DIST;
    }
  }
  try {
    if (!isDistFresh()) {
      const { build } = await import("vite");
      await build({ configFile: path.join(webRoot, "vite.config.ts"), logLevel: "warn" });
    }
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
  return WEB_DIST;
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export type AxeViolation = {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
};

/**
 * Run axe-core on the page. The script is evaluated through the DevTools protocol, so the page's own
 * strict CSP (which forbids injected script tags) stays on while it runs.
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

/** Serious and critical violations, each printed with where it is and how to fix it. */
/** Once the page's main heading is there: no serious or critical axe violations (`where` names the page). */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  await page.locator("main h1").first().waitFor();
  expect(seriousViolations(await runAxe(page), where)).toEqual([]);
}

export function seriousViolations(violations: AxeViolation[], where: string): AxeViolation[] {
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of serious) {
    console.error(
      `[axe] ${where}: ${v.impact} ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes
        .slice(0, 5)
        .map((n) => `    at ${JSON.stringify(n.target)}: ${n.failureSummary ?? ""}`)
        .join("\n")}`,
    );
  }
  return serious;
}

export type Harness = {
  baseUrl: string;
  app: FastifyInstance;
  browser: Browser;
  /** A fresh browser context whose navigator.languages is `[locale]`, and a page in it. */
  /** A new browser context and page; `signedInAs`: another context whose cookies it starts with. */
  newPage(
    locale?: string,
    signedInAs?: BrowserContext,
  ): Promise<{ context: BrowserContext; page: Page; problems: string[] }>;
  close(): Promise<void>;
};

/**
 * The default manifest with some recipients switched off (their kill switch), parsed and checked like
 * any manifest file, so tests see how the web app marks them.
 */
export async function defaultManifestWith(change: { disableRecipients?: string[] }): Promise<LoadedManifest> {
  const base = await loadDefaultManifest();
  const doc = YAML.parseDocument(base.source);
  const recipients = doc.get("recipients") as YAML.YAMLSeq<YAML.YAMLMap> | undefined;
  for (const item of recipients?.items ?? [])
    if (change.disableRecipients?.includes(String(item.get("id")))) item.set("enabled", false);
  return parseManifest(doc.toString(), base.file);
}

/**
 * Start the real server and Chromium. `dev` (default on) turns the dev outbox on (CUSTOS_DEV);
 * `manifest` replaces the default manifest; `outbox` messages are sent (to the dev outbox) first.
 */
export type HarnessOptions = NonNullable<Parameters<typeof startHarness>[0]>;

export async function startHarness(
  options: {
    dev?: boolean;
    manifest?: LoadedManifest;
    outbox?: SendInput[];
    /** A fixed port (default: a random one), e.g. when a callback URL must be known in advance. */
    port?: number;
    /** Extra dependencies for createApp (e.g. oidcProviders). */
    deps?: Partial<AppDeps>;
    /** Extra configuration, as environment variables (e.g. CUSTOS_SERVICE_KEYS). */
    env?: Record<string, string>;
  } = {},
): Promise<Harness> {
  const distDir = await ensureWebBuilt();
  const database: Database = await createTestDatabase();
  const manifest = options.manifest ?? (await loadDefaultManifest());
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(options.port ?? 0),
    CUSTOS_DEV: options.dev === false ? "0" : "1",
    CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
    CUSTOS_DATA_DIR: path.join(os.tmpdir(), `custos-e2e-${randomBytes(4).toString("hex")}`),
    LOG_LEVEL: "silent",
    RATE_LIMIT_MAX: "100000",
    ...options.env,
  });
  registerRunSecret(config.masterKey);
  // Log lines go only to the run's log file, scanned for personal information when the run ends
  // (SEC-6, test/global-setup.ts); without one (another runner), nothing is logged.
  const runLog = runLogDestination();
  const logger = runLog ? createLogger({ level: "info", destination: runLog }) : undefined;
  // The real vault and notifier, wired here so the test can put messages in the dev outbox.
  const vault = createVault({ db: database.db, keyProvider: envKeyProvider(config.masterKey ?? "") });
  const notifier = createNotifier({ db: database.db, vault, jobs: createJobQueue(database.db) });
  const app = await createApp({
    config,
    database,
    manifest,
    vault,
    notifier,
    ...(logger ? { logger } : {}),
    webDistDir: distDir,
    ...options.deps,
  });
  for (const message of options.outbox ?? []) await notifier.send(message);
  await app.listen({ host: "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("the server did not report a TCP port");
  const baseUrl = `http://127.0.0.1:${address.port}`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });

  return {
    baseUrl,
    app,
    browser,
    async newPage(locale = "en-US", signedInAs?: BrowserContext) {
      const context = await browser.newContext({
        baseURL: baseUrl,
        locale,
        viewport: { width: 1280, height: 900 },
        // No colour transitions: axe measures contrast mid-transition otherwise.
        reducedMotion: "reduce",
        ...(signedInAs ? { storageState: await signedInAs.storageState() } : {}),
      });
      // Fail a step in seconds with Playwright's own message rather than at the test's timeout.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      // Anything the strict CSP blocks, and any uncaught error, is a problem the test can assert on.
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text()))
          problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      return { context, page, problems };
    },
    async close() {
      await browser.close().catch(() => undefined);
      await app.close().catch(() => undefined);
      await database.close().catch(() => undefined);
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One harness for the tests of the calling file or describe block: started before them (then handed
 * to `ready`) and closed after them. `options` may be a function, called when the harness starts.
 */
export function useHarness(
  ready: (h: Harness) => void,
  options?: HarnessOptions | (() => HarnessOptions),
): void {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(typeof options === "function" ? options() : options);
    ready(started);
  }, 240_000);
  afterAll(async () => {
    await started?.close();
  });
}

/** A server clock at real time plus an offset that a test moves on (e.g. past a code cool-down). */
export function offsetClock(): { now: () => Date; advance: (ms: number) => void } {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

/** The text a person sees in an element (Playwright's innerText: rendered text, hidden parts left out). */
/**
 * The first console sign-in of staff made with a one-time password: the password, TOTP enrolment
 * (the secret read from the page; codes at `nowMs`, default real time), then the forced change of
 * password to `<password> mine`, which it returns.
 */
export async function firstStaffSignIn(
  page: Page,
  staff: { email: string; password: string },
  nowMs: () => number = Date.now,
): Promise<string> {
  await page.goto("/console/sign-in");
  await page.getByLabel("Work email").fill(staff.email);
  await page.getByLabel("Password").fill(staff.password);
  await page.getByRole("button", { name: "Continue" }).click();
  const secret = (await textOf(page.getByTestId("totp-secret"))).trim();
  await page
    .getByLabel("Authenticator code")
    .fill(await generate({ secret, epoch: Math.floor(nowMs() / 1000) }));
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Your password" }).waitFor();
  const changed = `${staff.password} mine`;
  await page.getByLabel("Current password").fill(staff.password);
  await page.getByLabel("New password", { exact: true }).fill(changed);
  await page.getByLabel("New password again").fill(changed);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByRole("heading", { level: 1, name: "Your password" }).waitFor({ state: "detached" });
  return changed;
}

export const textOf = (locator: Locator): Promise<string> =>
  // biome-ignore lint/performance/useDomNodeTextContent: this is Playwright's Locator.innerText (visible text), not the DOM property
  locator.innerText();

/** The newest verification code in the dev outbox (the harness runs with CUSTOS_DEV on). */
export async function latestCode(h: Harness): Promise<string> {
  const res = await fetch(`${h.baseUrl}/api/v1/dev/outbox?limit=20`);
  const { messages } = (await res.json()) as { messages: { template: string; body: string }[] };
  const body = messages.find((m) => m.template === "verification-code")?.body ?? "";
  const code = /\b(\d{6})\b/.exec(body)?.[1];
  if (!code) throw new Error("no verification code in the dev outbox");
  return code;
}

/** What a person types into the sign-up form, or what a test registers through the API. */
export type NewAccount = { contact: string; username: string; password: string };

/**
 * Registers a subject account through the API and verifies its contact with the code from the dev
 * outbox; the request context (a page's or a context's) is then signed in as it. Returns the subject id.
 */
export async function registerAccount(
  h: Harness,
  request: APIRequestContext,
  account: NewAccount,
): Promise<string> {
  const res = await request.post("/api/v1/accounts/register", {
    data: {
      ...account,
      policyVersion: h.app.custos.manifest.manifest.version,
      acceptPolicy: true,
    },
  });
  if (res.status() !== 202) throw new Error(`registration answered ${res.status()}: ${await res.text()}`);
  const { verificationId } = (await res.json()) as { verificationId: string };
  const verified = await request.post("/api/v1/accounts/register/verify", {
    data: { verificationId, code: await latestCode(h) },
  });
  if (verified.status() !== 201)
    throw new Error(`verification answered ${verified.status()}: ${await verified.text()}`);
  return ((await verified.json()) as { subjectId: string }).subjectId;
}

/**
 * Fills the sign-up form in `scope` (a page, or the part of it that holds the form) and sends it
 * twice: first without the policy box, which must start unticked and be required (CON-2), then with
 * it ticked. The form then asks for the verification code.
 */
export async function sendSignUpForm(scope: Page | Locator, account: NewAccount): Promise<void> {
  const box = scope.getByRole("checkbox");
  if (await box.isChecked()) throw new Error("the privacy policy box is ticked before the person ticks it");
  await scope.getByLabel("Mobile number or email").fill(account.contact);
  await scope.getByLabel("Username").fill(account.username);
  await scope.locator('input[name="password"]').fill(account.password);
  await scope.getByRole("button", { name: "Send verification code" }).click();
  await scope.getByText("Tick the box to accept the privacy policy").waitFor();
  await box.check();
  await scope.getByRole("button", { name: "Send verification code" }).click();
}
