import { AppError, DECISION_REASONS } from "@custos/core";
import { LANGUAGES, type Language } from "@custos/manifest";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireSubject } from "../accounts/guards.ts";
import type { Config } from "../config.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import { serializeError } from "../logging.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import { createSampleAppBackend, type SampleAppBackend, type SampleDecision } from "./sample-app-backend.ts";
import {
  type CatalogueItem,
  favouriteGenres,
  GENERIC_AD,
  GENERIC_ITEM_IDS,
  GENRE_ADS,
  GENRE_TAGS,
  type Genre,
  ITEMS,
  type Localized,
  NEARBY_PLAYERS,
} from "./sample-app-catalogue.ts";
import type { SampleAppKey } from "./sample-app-key.ts";

/**
 * The sample app's game backend (issue 4, section 8): what a MuMuPlayer Pro service would do for the
 * signed-in player, deciding every use of personal information with the Custos SDK first.
 *   GET /api/v1/sample-app/feed    personalised when personalised-content may personalise, else generic
 *   GET /api/v1/sample-app/ad      an advert always; personalised only when personalised-ads may
 *   GET /api/v1/sample-app/nearby  players nearby, only with location-services and the location permission
 * The web page /sample-app plays the client. On by default in development mode (CUSTOS_SAMPLE_APP).
 */

export const SAMPLE_APP_TAG = {
  name: "sample-app",
  description:
    "A simulated MuMuPlayer Pro game backend for the sample app page: decides with @custos/sdk (development and demo)",
};

export const CONTENT_PURPOSE = "personalised-content";
export const ADS_PURPOSE = "personalised-ads";
export const LOCATION_PURPOSE = "location-services";
export const LOCATION_PERMISSION = "location";
/** The categories each feature uses (a subset of its purpose's). */
const CONTENT_CATEGORIES = ["recommendation-profile"];
const ADS_CATEGORIES = ["advertising-profile"];
const LOCATION_CATEGORIES = ["location"];

/** The label of an item that is not personalised (the same words Custos's label gives). */
const GENERIC_LABEL: Record<"content" | "ads", Localized> = {
  content: { en: "Not personalised", "zh-CN": "非个性化推荐" },
  ads: { en: "Ad", "zh-CN": "广告" },
};

const Lang = z.enum(LANGUAGES);
const LangQuery = z.strictObject({ lang: Lang.optional() });

const Decision = z
  .object({
    purposeId: z.string(),
    allow: z.boolean(),
    reason: z.enum(DECISION_REASONS),
    source: z.enum(["snapshot", "server"]),
    ageMs: z.number().int().nullable(),
  })
  .describe(
    "What the SDK answered, where from (its in-memory snapshot, or the server when stale) and how old its data was.",
  );
const Why = z
  .object({
    purposeId: z.string(),
    reason: z.enum(DECISION_REASONS),
    tags: z.array(z.object({ id: z.string(), label: z.string() })),
    setting: z.object({ id: z.string(), on: z.boolean() }),
    manageUrl: z.string(),
  })
  .describe("Why am I seeing this: the purpose, the interest tags used, the switch and where to manage it.");
const FeedOut = z.object({
  personalised: z.boolean(),
  label: z.string(),
  decision: Decision,
  why: Why.nullable(),
  items: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(["video", "guide", "event", "live"]),
      title: z.string(),
      personalised: z.boolean(),
      label: z.string(),
      because: z.string().nullable().describe("The interest tag the item was picked for."),
    }),
  ),
});
const AdOut = z.object({
  personalised: z.boolean(),
  label: z.string(),
  decision: Decision,
  why: Why.nullable(),
  ad: z.object({ id: z.string(), title: z.string(), body: z.string(), advertiser: z.string() }),
});
const NearbyOut = z.object({
  decision: Decision,
  players: z.array(z.object({ handle: z.string(), distanceKm: z.number(), game: z.string() })),
});

const withAuth = { 401: ErrorBody, ...errorResponses };

/** The analytics tag of the sample page, blocked by the consent banner until analytics is allowed. */
const ANALYTICS_SCRIPT =
  '(function(){document.documentElement.setAttribute("data-sample-analytics","ran");document.dispatchEvent(new CustomEvent("sample-app:analytics"));})();\n';

type Deps = {
  config: Pick<Config, "publicUrl" | "tls">;
  key: SampleAppKey;
  /** SDK timings (tests). */
  sdkOptions?: { heartbeatMs?: number; maxStalenessMs?: number; reportIntervalMs?: number };
};

/** Registers the sample app's backend routes; returns undefined when the manifest lacks what it uses. */
export function registerSampleAppRoutes(app: FastifyInstance, deps: Deps): SampleAppBackend | undefined {
  const manifest = app.custos.manifest.manifest;
  const missing = [
    ...[CONTENT_PURPOSE, ADS_PURPOSE, LOCATION_PURPOSE]
      .filter((id) => !manifest.purposes.some((p) => p.id === id))
      .map((id) => `purpose ${id}`),
    ...(manifest.permissions.some((p) => p.id === LOCATION_PERMISSION)
      ? []
      : [`permission ${LOCATION_PERMISSION}`]),
  ];
  if (missing.length > 0) {
    app.log.warn(
      { missing },
      "the sample app is off: it plays MuMuPlayer Pro and the manifest does not declare what it uses",
    );
    return undefined;
  }

  const { config } = deps;
  const backend = createSampleAppBackend({
    serviceKey: deps.key.key,
    baseUrl: () => ownUrl(app, config),
    log: app.log,
    serializeError,
    ...(deps.sdkOptions ? { sdkOptions: deps.sdkOptions } : {}),
  });
  // Before the server stops: the SDK's stream ends and its timers stop.
  app.addHook("preClose", async () => {
    await backend.close();
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const langOf = (request: {
    query: { lang?: Language | undefined };
    headers: { "accept-language"?: string };
  }) => request.query.lang ?? languageFromHeader(request.headers["accept-language"]);

  const whyOf = (
    purposeId: string,
    label: Awaited<ReturnType<SampleAppBackend["label"]>>,
    lang: Language,
  ): z.infer<typeof Why> => ({
    purposeId,
    reason: label.why.reason,
    tags: label.why.tags.map((id) => ({ id, label: tagLabel(id, lang) })),
    setting: label.why.setting,
    manageUrl: "/center/settings",
  });

  r.get(
    "/api/v1/sample-app/feed",
    {
      schema: {
        tags: ["sample-app"],
        operationId: "getSampleAppFeed",
        summary: "The sample app's feed for the signed-in player",
        description:
          "Personalised (picked from the interest tags the backend inferred, each item labelled, with why) only when the SDK allows personalised-content for the player: the separate consent is given and the switch is on (CON-4, CON-8). Otherwise the same editors' picks as everyone.",
        querystring: LangQuery,
        response: { 200: FeedOut, ...withAuth },
      },
    },
    async (request) => {
      const { subjectId } = await requireSubject(request);
      const lang = langOf(request);
      const decision = await backend.decide(subjectId, CONTENT_PURPOSE, CONTENT_CATEGORIES);
      if (decision.allow) {
        const genres = favouriteGenres(subjectId);
        await backend.inferTags(
          subjectId,
          CONTENT_PURPOSE,
          genres.map((g) => GENRE_TAGS[g]),
        );
        const label = await backend.label(subjectId, CONTENT_PURPOSE);
        const used = genres.filter((g) => label.why.tags.includes(GENRE_TAGS[g].id));
        if (label.personalised && used.length > 0) {
          const items = ITEMS.filter((i) => used.includes(i.genre)).slice(0, 4);
          return {
            personalised: true,
            label: label.label[lang],
            decision,
            why: whyOf(CONTENT_PURPOSE, label, lang),
            items: items.map((i) => ({
              ...itemView(i, lang),
              personalised: true,
              label: label.label[lang],
              because: GENRE_TAGS[i.genre].label[lang],
            })),
          };
        }
      } else {
        backend.forgetTags(subjectId, CONTENT_PURPOSE);
      }
      const generic = GENERIC_ITEM_IDS.map((id) => ITEMS.find((i) => i.id === id) as CatalogueItem);
      return {
        personalised: false,
        label: GENERIC_LABEL.content[lang],
        decision,
        why: null,
        items: generic.map((i) => ({
          ...itemView(i, lang),
          personalised: false,
          label: GENERIC_LABEL.content[lang],
          because: null,
        })),
      };
    },
  );

  r.get(
    "/api/v1/sample-app/ad",
    {
      schema: {
        tags: ["sample-app"],
        operationId: "getSampleAppAd",
        summary: "The sample app's advert for the signed-in player",
        description:
          "Always an advert: personalised (labelled, with why) when the SDK allows personalised-ads, otherwise the same advert for everyone (CON-8: ads still show, unpersonalised).",
        querystring: LangQuery,
        response: { 200: AdOut, ...withAuth },
      },
    },
    async (request) => {
      const { subjectId } = await requireSubject(request);
      const lang = langOf(request);
      const decision = await backend.decide(subjectId, ADS_PURPOSE, ADS_CATEGORIES);
      if (decision.allow) {
        const [genre] = favouriteGenres(subjectId);
        await backend.inferTags(subjectId, ADS_PURPOSE, [GENRE_TAGS[genre]]);
        const label = await backend.label(subjectId, ADS_PURPOSE);
        if (label.personalised && label.why.tags.includes(GENRE_TAGS[genre].id)) {
          return {
            personalised: true,
            label: label.label[lang],
            decision,
            why: whyOf(ADS_PURPOSE, label, lang),
            ad: adView(GENRE_ADS[genre], lang),
          };
        }
      } else {
        backend.forgetTags(subjectId, ADS_PURPOSE);
      }
      return {
        personalised: false,
        label: GENERIC_LABEL.ads[lang],
        decision,
        why: null,
        ad: adView(GENERIC_AD, lang),
      };
    },
  );

  r.get(
    "/api/v1/sample-app/nearby",
    {
      schema: {
        tags: ["sample-app"],
        operationId: "getSampleAppNearby",
        summary: "Players near the signed-in player (the location feature)",
        description:
          "Only when the SDK allows location-services to use location: the separate consent is given and the location permission is not refused or revoked (CON-4, CON-10). Otherwise 403 `forbidden` with `details.needs` (`consent` or `permission`), the purpose, the permission and the decision; nothing else in the app is affected (CON-6).",
        querystring: LangQuery,
        response: { 200: NearbyOut, 403: ErrorBody, ...withAuth },
      },
    },
    async (request) => {
      const { subjectId } = await requireSubject(request);
      const lang = langOf(request);
      const decision = await backend.decide(subjectId, LOCATION_PURPOSE, LOCATION_CATEGORIES);
      if (!decision.allow) throw nearbyRefused(decision);
      return {
        decision,
        players: NEARBY_PLAYERS.map((p) => ({
          handle: p.handle,
          distanceKm: p.distanceKm,
          game: GENRE_TAGS[p.genre].label[lang],
        })),
      };
    },
  );

  r.get(
    "/api/v1/sample-app/analytics.js",
    {
      schema: {
        tags: ["sample-app"],
        operationId: "getSampleAppAnalyticsTag",
        summary: "The sample page's analytics tag (a script)",
        description:
          'The page includes it as `<script type="text/plain" data-custos-category="analytics">`: the consent banner runs it only once analytics cookies are allowed (CON-11). It only marks the page; it collects nothing.',
      },
    },
    async (_request, reply) => {
      reply.header("cache-control", "no-store");
      return reply.type("text/javascript; charset=utf-8").send(ANALYTICS_SCRIPT);
    },
  );

  return backend;
}

/** The 403 of the location feature: what is missing, so the app asks for exactly that. */
function nearbyRefused(decision: SampleDecision): AppError {
  const needs = decision.reason === "permission-off" ? "permission" : "consent";
  return new AppError("forbidden", {
    message:
      needs === "permission"
        ? "Players nearby needs the location permission, which is refused or revoked on this device. Allow location for the app (the app shows why first), then try again."
        : `Players nearby needs your separate consent to ${LOCATION_PURPOSE} (location is sensitive). Give it in the app's consent screen or at /center/consents, then try again. Everything else keeps working without it.`,
    details: { needs, purposeId: LOCATION_PURPOSE, permissionId: LOCATION_PERMISSION, decision },
  });
}

function itemView(item: CatalogueItem, lang: Language) {
  return { id: item.id, kind: item.kind, title: item.title[lang] };
}

function adView(ad: (typeof GENRE_ADS)[Genre], lang: Language) {
  return { id: ad.id, title: ad.title[lang], body: ad.body[lang], advertiser: ad.advertiser[lang] };
}

function tagLabel(tagId: string, lang: Language): string {
  for (const t of Object.values(GENRE_TAGS)) if (t.id === tagId) return t.label[lang];
  return tagId;
}

/**
 * Where this server can be reached from inside its own process: the address it listens on (plain
 * HTTP), else PUBLIC_URL (with TLS, whose certificate names the public host, or before listening).
 */
function ownUrl(app: FastifyInstance, config: Pick<Config, "publicUrl" | "tls">): string {
  const address = app.server.address();
  if (config.tls || !address || typeof address === "string") return config.publicUrl;
  const host =
    address.family === "IPv6"
      ? `[${address.address === "::" ? "::1" : address.address}]`
      : address.address === "0.0.0.0"
        ? "127.0.0.1"
        : address.address;
  return `http://${host}:${address.port}`;
}
