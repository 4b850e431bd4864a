import { DECISION_REASONS } from "@custos/core";
import { LANGUAGES } from "@custos/manifest";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireSubject } from "../accounts/guards.ts";
import { type Config, DEV_PSEUDONYM_SECRET } from "../config.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import { serviceGuard } from "./service-auth.ts";
import { createSettingsService, MAX_TAGS_PER_PURPOSE, type SettingsService } from "./settings-service.ts";

/** The OpenAPI tag of every route in this file. */
export const PERSONALISATION_TAG = {
  name: "personalisation",
  description:
    "Personalisation switches, pseudonyms, interest tags and the 'why am I seeing this' label (CON-8, CON-15)",
};

type Deps = {
  config: Pick<Config, "serviceKeys" | "publicUrl" | "pseudonymSecret" | "dev">;
};

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, "ids are lower-case kebab-case (e.g. personalised-ads)");
const Language = z.enum(LANGUAGES);
const LangQuery = z.strictObject({ lang: Language.optional() });

const labelText = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[^\p{Cc}]+$/u, "a label is one line of text (no control characters)");
const TagIn = z.strictObject({
  id: id.describe("The service's own id for the tag (e.g. racing-games)."),
  label: z
    .strictObject({ en: labelText.optional(), "zh-CN": labelText.optional() })
    .refine((l) => l.en !== undefined || l["zh-CN"] !== undefined, {
      message: "give the label in en, zh-CN or both",
    })
    .describe("What the subject sees, in one or both languages."),
});

const SettingView = z.object({
  id: z.string(),
  name: z.string(),
  on: z.boolean().describe("On unless the subject explicitly switched it off."),
  offMeans: z.string().describe("What switching it off changes."),
  purposes: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      description: z.string(),
      consent: z.string().describe("The consent state of the purpose (given, not-asked, withdrawn, ...)."),
      personalised: z.boolean().describe("Whether the purpose may personalise now (consent and switch)."),
    }),
  ),
});
const SettingsView = z.object({
  noticeVersion: z.string(),
  manageUrl: z.string(),
  settings: z.array(SettingView),
});

const TagView = z.object({
  id: z.uuid().describe("The stored tag (what DELETE takes)."),
  tagId: z.string(),
  label: z.string(),
  purposeId: z.string(),
  purposeName: z.string(),
  category: z.string(),
  categoryName: z.string(),
  inferredAt: z.string(),
});

const Localized = z.object({ en: z.string(), "zh-CN": z.string() });
const Reason = z.enum(DECISION_REASONS);

const withAuth = { 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, ...errorResponses };

/** Settings, pseudonyms, interest tags and labels (tag "personalisation"). */
export function registerSettingsRoutes(app: FastifyInstance, deps: Deps): SettingsService {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { config } = deps;
  const { db, vault, manifest, consent, auditLedger, clock } = app.custos;
  const service = createSettingsService({
    db,
    vault,
    manifest: manifest.manifest,
    consent,
    audit: auditLedger,
    clock,
    publicUrl: config.publicUrl,
    pseudonymSecret: config.pseudonymSecret,
  });
  const requireService = serviceGuard(config.serviceKeys);
  if (config.pseudonymSecret === DEV_PSEUDONYM_SECRET && !config.dev)
    app.log.warn(
      "CUSTOS_PSEUDONYM_SECRET is not set: pseudonyms use the public development secret. Set it (openssl rand -base64 32) before services use pseudonyms.",
    );
  const langOf = (request: {
    query: { lang?: "en" | "zh-CN" | undefined };
    headers: { "accept-language"?: string | undefined };
  }) => request.query.lang ?? languageFromHeader(request.headers["accept-language"]);

  r.get(
    "/api/v1/me/settings",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "listMySettings",
        summary: "My personalisation switches",
        description:
          "Each switch the manifest declares, whether it is on (on unless switched off), the purposes it governs and what turning it off means (CON-8).",
        querystring: LangQuery,
        response: { 200: SettingsView, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.settings(me.subjectId, langOf(request));
    },
  );

  r.put(
    "/api/v1/me/settings/:setting",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "setMySetting",
        summary: "Turn a personalisation switch on or off",
        description:
          "Recorded in the consent ledger (on = given, off = withdrawn). While off, decisions for the purposes it governs deny with reason setting-off, and their interest tags are deleted (CON-8).",
        params: z.strictObject({ setting: id }),
        body: z.strictObject({ on: z.boolean(), language: Language }),
        response: { 200: SettingsView, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.setSetting(me.subjectId, {
        setting: request.params.setting,
        on: request.body.on,
        language: request.body.language,
        method: "web",
      });
    },
  );

  r.post(
    "/api/v1/settings",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "recordSettingForSubject",
        summary: "Record a switch the subject flipped in the app (services only)",
        description:
          "For app backends relaying the person's own act (method app). Send the service key in `x-custos-service-key`.",
        body: z.strictObject({ subjectId: z.uuid(), setting: id, on: z.boolean(), language: Language }),
        response: { 200: SettingsView, ...withAuth },
      },
    },
    async (request) => {
      requireService(request);
      const { subjectId, ...input } = request.body;
      return service.setSetting(subjectId, { ...input, method: "app" });
    },
  );

  r.post(
    "/api/v1/pseudonyms",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "getPseudonym",
        summary: "The subject's pseudonym for a personalisation purpose (services only)",
        description:
          "A keyed HMAC per purpose (CON-15): stable, different for each purpose, and one-way. Recommendation and advertising systems key their profiles by it. There is no reverse lookup.",
        body: z.strictObject({ subjectId: z.uuid(), purposeId: id }),
        response: {
          200: z.object({ purposeId: z.string(), pseudonym: z.string() }),
          ...withAuth,
        },
      },
    },
    async (request) => {
      requireService(request);
      const { subjectId, purposeId } = request.body;
      return { purposeId, pseudonym: service.pseudonym(subjectId, purposeId) };
    },
  );

  r.post(
    "/api/v1/interest-tags",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "postInterestTags",
        summary: "Store interest tags inferred about a subject (services only)",
        description: `Tags are personal information, stored encrypted (CON-15). Refused with 403 and \`details.reason\` (setting-off, consent-missing, ...) when the purpose may not personalise for the subject. At most ${MAX_TAGS_PER_PURPOSE} per subject and purpose; a tag id posted again replaces its label and time.`,
        body: z.strictObject({
          subjectId: z.uuid(),
          purposeId: id.describe("The inferring purpose: personalised-content or personalised-ads."),
          tags: z.array(TagIn).min(1).max(50, "at most 50 tags per request"),
        }),
        response: {
          201: z.object({
            purposeId: z.string(),
            category: z.string(),
            stored: z.number().int(),
            total: z.number().int(),
          }),
          ...withAuth,
        },
      },
    },
    async (request, reply) => {
      const { service: name } = requireService(request);
      const { subjectId, purposeId } = request.body;
      const tags = request.body.tags.map((t) => ({ tagId: t.id, label: t.label }));
      return reply.code(201).send(await service.inferTags(name, { subjectId, purposeId, tags }, request.id));
    },
  );

  r.get(
    "/api/v1/me/interest-tags",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "listMyInterestTags",
        summary: "The interest tags inferred about me",
        querystring: LangQuery,
        response: { 200: z.object({ tags: z.array(TagView) }), ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.listTags(me.subjectId, langOf(request));
    },
  );

  r.delete(
    "/api/v1/me/interest-tags/:tagId",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "deleteMyInterestTag",
        summary: "Delete one interest tag",
        description: "The tag is deleted for real; the audit log records the deletion without the tag.",
        params: z.strictObject({ tagId: z.uuid() }),
        response: { 200: z.object({ deleted: z.number().int() }), ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.deleteTag(me.subjectId, request.params.tagId);
    },
  );

  r.delete(
    "/api/v1/me/interest-tags",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "deleteMyInterestTags",
        summary: "Delete all my interest tags (or those of one purpose)",
        querystring: z.strictObject({ purpose: id.optional() }),
        response: { 200: z.object({ deleted: z.number().int() }), ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.deleteAllTags(me.subjectId, request.query.purpose);
    },
  );

  r.post(
    "/api/v1/personalisation/label",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "labelPersonalisation",
        summary: "The label for a personalised item or ad, and why (services only)",
        description:
          "Whether the item may be personalised for the subject now, the label to show (en, zh-CN), and the facts of a 'why am I seeing this': purposes, tag ids used, the switch and where to manage it (CON-15).",
        body: z.strictObject({
          subjectId: z.uuid(),
          purposeId: id,
          itemId: z
            .string()
            .min(1)
            .max(128)
            .regex(/^[A-Za-z0-9._:/-]+$/, "an item id is letters, digits and . _ : / -")
            .optional(),
        }),
        response: {
          200: z.object({
            itemId: z.string().optional(),
            personalised: z.boolean(),
            label: Localized,
            why: z.object({
              purposes: z.array(z.string()),
              reason: Reason,
              tags: z.array(z.string()).describe("Ids of the tags used (never their labels)."),
              setting: z.object({ id: z.string(), on: z.boolean() }),
              manageUrl: z.string(),
            }),
          }),
          ...withAuth,
        },
      },
    },
    async (request) => {
      const { service: name } = requireService(request);
      return service.label(name, request.body, request.id);
    },
  );

  r.get(
    "/api/v1/me/personalisation/why",
    {
      schema: {
        tags: ["personalisation"],
        operationId: "whyPersonalised",
        summary: "Why am I seeing this: how a purpose personalises for me",
        querystring: z.strictObject({ purpose: id, lang: Language.optional() }),
        response: {
          200: z.object({
            purposeId: z.string(),
            name: z.string(),
            description: z.string(),
            personalised: z.boolean(),
            reason: Reason,
            setting: z.object({ id: z.string(), name: z.string(), on: z.boolean(), offMeans: z.string() }),
            consent: z.string(),
            categories: z.array(z.object({ id: z.string(), name: z.string() })),
            tags: z.array(z.object({ id: z.string(), tagId: z.string(), label: z.string() })),
            label: z.string(),
            manageUrl: z.string(),
          }),
          ...withAuth,
        },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return service.why(me.subjectId, request.query.purpose, langOf(request));
    },
  );

  return service;
}
