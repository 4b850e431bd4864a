import { randomBytes } from "node:crypto";
import { BANNER_TEXT, type BannerConfig, getBanner, NOTHING } from "@custos/banner";
import { AppError, type Clock } from "@custos/core";
import { LANGUAGES, type Language, type LoadedManifest } from "@custos/manifest";
import type { Database } from "@custos/store";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { errorResponses } from "../errors.ts";
import { CONTENT_SECURITY_POLICY } from "../security/security-plugins.ts";
import { createBannerRepo } from "./banner-repo.ts";

/**
 * The cookie-consent banner (CON-2, CON-11): the bundled `<custos-consent-banner>` script, its
 * integrity manifest, the localized configuration built from the manifest's `cookies`, the choice
 * log, and `/.well-known/gpc.json`. All of it is public and carries no session: the banner's
 * requests are made with `credentials: "omit"`, so the CSRF check (which applies to requests with
 * the session cookie) never sees a cookie here, and other sites may embed the banner (CORS `*`,
 * no credentials).
 */

/** When this deployment's GPC support statement last changed (served in /.well-known/gpc.json). */
export const GPC_LAST_UPDATE = "2026-11-28";
export const BANNER_SCRIPT_PATH = "/banner/v1/custos-banner.js";
const CHOICE_BODY_LIMIT = 2048;

type Deps = {
  db: Database["db"];
  clock: Clock;
  manifest: LoadedManifest;
  publicUrl: string;
  /** Serve the demo page (/banner/demo) too. */
  dev: boolean;
};

const tags = ["banner"];
const Lang = z.enum(LANGUAGES);
const Choices = z.strictObject({ analytics: z.boolean(), advertising: z.boolean() });

export const BannerManifest = z
  .object({ src: z.string().max(200), integrity: z.string().max(120), bytes: z.int(), gzipBytes: z.int() })
  .meta({ id: "BannerManifest" });

const BannerConfigSchema = z
  .object({
    noticeVersion: z.string().max(40),
    language: Lang,
    gpc: z.boolean(),
    policyUrl: z.string().max(500),
    categories: z.array(
      z.object({
        id: z.enum(["identity", "analytics", "advertising"]),
        necessary: z.boolean(),
        name: z.string().max(4000),
        description: z.string().max(4000),
      }),
    ),
    text: z.record(z.string().max(40), z.string().max(1000)),
  })
  .meta({ id: "BannerConfig" });

export const ChoiceBody = z
  .strictObject({
    consentId: z.uuid({ version: "v4" }).describe("A random UUID made by the browser; the only visitor key."),
    choices: Choices,
    gpc: z.boolean().describe("navigator.globalPrivacyControl as the page saw it"),
    language: Lang,
    noticeVersion: z.string().min(1).max(40),
    action: z.enum(["accept-all", "reject-all", "save", "gpc"]).default("save"),
  })
  .meta({ id: "BannerChoice" });

const ChoiceRecorded = z
  .object({ recorded: z.literal(true), choices: Choices, gpc: z.boolean() })
  .meta({ id: "BannerChoiceRecorded" });

/** `Sec-GPC: 1` is the only value the GPC specification defines. */
export const hasGpcHeader = (request: FastifyRequest): boolean => request.headers["sec-gpc"] === "1";

function publicCors(reply: FastifyReply): void {
  reply.header("access-control-allow-origin", "*");
  reply.header("cross-origin-resource-policy", "cross-origin");
  reply.header("vary", "Sec-GPC");
}

export function buildBannerConfig(manifest: LoadedManifest, lang: Language, gpc: boolean, publicUrl: string) {
  return {
    noticeVersion: manifest.manifest.version,
    language: lang,
    gpc,
    policyUrl: new URL("/center/policy/privacy-policy", publicUrl).toString(),
    categories: manifest.manifest.cookies.map((c) => ({
      id: c.id,
      necessary: c.necessary,
      name: c.name[lang],
      description: c.description[lang],
    })),
    text: BANNER_TEXT[lang],
  } satisfies BannerConfig;
}

export function registerBannerRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const repo = createBannerRepo(deps.db);

  r.get(
    BANNER_SCRIPT_PATH,
    {
      schema: {
        tags,
        operationId: "getBannerScript",
        summary: "The consent banner script",
        description:
          "One dependency-free ES2020 script defining `<custos-consent-banner>`. Cached for a year: load it with the `src` and `integrity` from /banner/v1/manifest.json (the `v` query changes with the content).",
      },
    },
    async (_request, reply) => {
      const banner = await getBanner();
      publicCors(reply);
      reply.header("cache-control", "public, max-age=31536000, immutable");
      reply.header("etag", `"${banner.hash}"`);
      return reply.type("text/javascript; charset=utf-8").send(banner.code);
    },
  );

  r.get(
    "/banner/v1/manifest.json",
    {
      schema: {
        tags,
        operationId: "getBannerManifest",
        summary: "Where the banner script is, with its integrity hash and size",
        response: { 200: BannerManifest, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const banner = await getBanner();
      publicCors(reply);
      reply.header("cache-control", "public, max-age=300");
      return {
        src: `${BANNER_SCRIPT_PATH}?v=${banner.hash}`,
        integrity: banner.integrity,
        bytes: banner.bytes,
        gzipBytes: banner.gzipBytes,
      };
    },
  );

  r.get(
    "/api/v1/banner/config",
    {
      schema: {
        tags,
        operationId: "getBannerConfig",
        summary: "Cookie categories and banner text in one language",
        description:
          "Built from the manifest's `cookies`. `gpc` is true when the request carried `Sec-GPC: 1` (CON-11): the banner then keeps analytics and advertising off.",
        querystring: z.strictObject({ lang: Lang.optional() }),
        response: { 200: BannerConfigSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      publicCors(reply);
      reply.header("cache-control", "no-cache");
      return buildBannerConfig(
        deps.manifest,
        request.query.lang ?? "en",
        hasGpcHeader(request),
        deps.publicUrl,
      );
    },
  );

  r.options(
    "/api/v1/banner/choices",
    {
      schema: {
        tags,
        operationId: "preflightBannerChoice",
        summary: "CORS preflight for recording a banner choice from another site",
      },
    },
    async (_request, reply) => {
      publicCors(reply);
      reply.header("access-control-allow-methods", "POST");
      reply.header("access-control-allow-headers", "content-type");
      reply.header("access-control-max-age", "86400");
      return reply.code(204).send();
    },
  );

  r.post(
    "/api/v1/banner/choices",
    {
      bodyLimit: CHOICE_BODY_LIMIT,
      onRequest: async (request) => {
        const type = request.headers["content-type"] ?? "";
        if (!/^application\/json\s*(;|$)/i.test(type))
          throw new AppError("unsupported_media_type", {
            message: "Send the banner choice as JSON (Content-Type: application/json).",
          });
      },
      schema: {
        tags,
        operationId: "recordBannerChoice",
        summary: "Record a cookie-banner choice",
        description:
          "Append-only and anonymous: only the browser's random consent id and the choice are stored, never the IP address or user agent. With `Sec-GPC: 1` or `gpc: true`, analytics and advertising are recorded as off whatever was sent (CON-11).",
        body: ChoiceBody,
        response: { 201: ChoiceRecorded, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const gpc = body.gpc || hasGpcHeader(request);
      const choices = gpc ? { ...NOTHING } : body.choices;
      await repo.append({
        consentId: body.consentId,
        recordedAt: deps.clock.now(),
        analytics: choices.analytics,
        advertising: choices.advertising,
        gpc,
        action: gpc && body.action !== "reject-all" ? "gpc" : body.action,
        language: body.language,
        noticeVersion: body.noticeVersion,
      });
      publicCors(reply);
      reply.header("cache-control", "no-store");
      return reply.code(201).send({ recorded: true as const, choices, gpc });
    },
  );

  r.get(
    "/.well-known/gpc.json",
    {
      schema: {
        tags,
        operationId: "getGpcSupport",
        summary: "Global Privacy Control support statement",
        response: {
          200: z.object({ gpc: z.literal(true), lastUpdate: z.string().max(10) }),
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => {
      publicCors(reply);
      reply.header("cache-control", "public, max-age=86400");
      return { gpc: true as const, lastUpdate: GPC_LAST_UPDATE };
    },
  );

  if (deps.dev) registerBannerDemo(app);
}

const DEMO_TEXT: Record<Language, { title: string; body: string }> = {
  en: {
    title: "Consent banner demo",
    body: "This page carries an analytics and an advertising tag that run only after you allow their category.",
  },
  "zh-CN": { title: "同意横幅演示", body: "本页面包含分析和广告标签，只有在您允许相应类别后才会运行。" },
};

/** A small page with tagged scripts, for trying the banner and for the browser tests (dev only). */
function registerBannerDemo(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/banner/demo",
    {
      schema: {
        tags,
        operationId: "getBannerDemo",
        summary: "Demo page with tagged scripts (development only)",
        querystring: z.strictObject({ lang: Lang.optional() }),
      },
    },
    async (request, reply) => {
      const banner = await getBanner();
      const lang = request.query.lang ?? "en";
      const nonce = randomBytes(16).toString("base64");
      const csp = Object.entries({
        ...CONTENT_SECURITY_POLICY,
        "script-src": [...CONTENT_SECURITY_POLICY["script-src"], `'nonce-${nonce}'`],
      })
        .map(([k, v]) => `${k} ${v.join(" ")}`)
        .join("; ");
      reply.header("content-security-policy", csp);
      reply.header("cache-control", "no-store");
      const t = DEMO_TEXT[lang];
      const html = `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title}</title>
<script src="${BANNER_SCRIPT_PATH}?v=${banner.hash}" integrity="${banner.integrity}" crossorigin="anonymous"></script>
<script type="text/plain" data-custos-category="analytics" src="/banner/demo/analytics.js"></script>
<script type="text/plain" data-custos-category="advertising" nonce="${nonce}">document.documentElement.dataset.advertising = "ran";</script>
<script type="text/plain" data-custos-category="identity" nonce="${nonce}">document.documentElement.dataset.identity = "ran";</script>
</head>
<body>
<main>
<h1>${t.title}</h1>
<p>${t.body}</p>
</main>
<custos-consent-banner></custos-consent-banner>
</body>
</html>
`;
      return reply.type("text/html; charset=utf-8").send(html);
    },
  );
  r.get(
    "/banner/demo/analytics.js",
    {
      schema: {
        tags,
        operationId: "getBannerDemoTag",
        summary: "The demo page's analytics tag (development only)",
      },
    },
    async (_request, reply) =>
      reply
        .type("text/javascript; charset=utf-8")
        .header("cache-control", "no-store")
        .send(
          'document.documentElement.dataset.analytics = String(Number(document.documentElement.dataset.analytics || "0") + 1);\n',
        ),
  );
}
