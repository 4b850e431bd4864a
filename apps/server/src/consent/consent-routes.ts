import { DECISION_REASONS } from "@custos/core";
import { LANGUAGES } from "@custos/manifest";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireSubject } from "../accounts/guards.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import type { ConsentService } from "./consent-service.ts";
import { type ServiceKey, serviceGuard } from "./service-auth.ts";

type Deps = {
  service: ConsentService;
  serviceKeys: readonly ServiceKey[];
};

export const MAX_BATCH_DECISIONS = 1000;
export const MAX_DECISION_CATEGORIES = 50;
/** Purpose and category ids: lower-case kebab-case, 1 to 64 characters. */
export const DECISION_ID_RE = /^[a-z][a-z0-9-]*$/;
export const DECISION_CHANNELS = ["sms", "email", "push", "social"] as const;

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(DECISION_ID_RE, "ids are lower-case kebab-case (e.g. location-services)");
const Language = z.enum(LANGUAGES);

const consentFields = {
  purposeId: id.optional().describe("The purpose consented to; omit and set `policy: true` for the policy."),
  policy: z.literal(true).optional().describe("Accepting (or refusing) the privacy policy itself."),
  state: z
    .enum(["given", "refused", "withdrawn"])
    .describe("Only an explicit `given` is consent (CON-2); nothing defaults."),
  noticeVersion: z.string().min(1).max(40).describe("The notice (manifest) version the person was shown."),
  language: Language,
  method: z.enum(["web", "app", "api", "banner", "import"]),
};
const targetCheck = (b: { purposeId?: string | undefined; policy?: true | undefined }) =>
  (b.purposeId === undefined) !== (b.policy === undefined);
const targetMessage = {
  message: "give exactly one of purposeId (a purpose) or policy: true (the privacy policy)",
  path: ["purposeId"],
};
const RecordBody = z.strictObject(consentFields).refine(targetCheck, targetMessage);
const ServiceRecordBody = z
  .strictObject({ ...consentFields, subjectId: z.uuid() })
  .refine(targetCheck, targetMessage);

const ConsentView = z.object({
  noticeVersion: z.string(),
  policy: z.object({ state: z.string(), noticeVersion: z.string().nullable(), askAgain: z.boolean() }),
  purposes: z.array(
    z.object({
      purposeId: z.string(),
      name: z.string(),
      description: z.string(),
      legalBasis: z.string(),
      consent: z.enum(["policy", "separate", "none"]),
      separateReason: z.string().nullable(),
      function: z.enum(["basic", "extended"]),
      state: z.string(),
      via: z.enum(["purpose", "policy"]).nullable(),
      askAgain: z.boolean(),
      allowed: z.boolean(),
      refusalImpact: z.string(),
    }),
  ),
});

/** One decision request's body (exported for the fast path's agreement test). */
export const DecisionItem = z.strictObject({
  subjectId: z.uuid(),
  purposeId: id,
  categories: z.array(id).max(MAX_DECISION_CATEGORIES).default([]),
  channel: z
    .enum(DECISION_CHANNELS)
    .optional()
    .describe("For a marketing purpose: the channel the message would use (CON-9)."),
});
/** A batch request's body (exported for the fast path's agreement test). */
export const DecisionBatch = z.strictObject({
  items: z
    .array(DecisionItem)
    .min(1)
    .max(
      MAX_BATCH_DECISIONS,
      `at most ${MAX_BATCH_DECISIONS} decisions per batch: split larger sets into several requests`,
    ),
});
const DecisionOut = z.object({
  allow: z.boolean(),
  reason: z.enum(DECISION_REASONS),
  basis: z.string().nullable(),
  sensitive: z.boolean(),
  validPurposes: z.array(z.string()).optional(),
  validCategories: z.array(z.string()).optional(),
});

const withAuth = { 401: ErrorBody, 409: ErrorBody, ...errorResponses };

/** Consent (tag "consent") and decision (tag "decisions") routes. */
export function registerConsentRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { service } = deps;
  const requireService = serviceGuard(deps.serviceKeys);

  r.post(
    "/api/v1/me/consents",
    {
      schema: {
        tags: ["consent"],
        operationId: "recordMyConsent",
        summary: "Give, refuse or withdraw consent to a purpose, or accept the policy",
        description:
          "One request gives or withdraws (CON-5). Only `state: given` is consent (CON-2). Accepting the policy covers only purposes with consent `policy`; separate-consent purposes need their own request (CON-4).",
        body: RecordBody,
        response: { 201: ConsentView, ...withAuth },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      const view = await service.record(me.subjectId, request.body);
      return reply.code(201).send(view);
    },
  );

  r.get(
    "/api/v1/me/consents",
    {
      schema: {
        tags: ["consent"],
        operationId: "listMyConsents",
        summary: "My consent to each purpose",
        description:
          "Per purpose: state, where it comes from, and `askAgain` when the purpose changed since (CON-13).",
        querystring: z.strictObject({ lang: Language.optional() }),
        response: { 200: ConsentView, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      const lang = request.query.lang ?? languageFromHeader(request.headers["accept-language"]);
      return service.current(me.subjectId, lang);
    },
  );

  r.get(
    "/api/v1/me/consents/receipts",
    {
      schema: {
        tags: ["consent"],
        operationId: "exportMyConsentReceipts",
        summary: "Export my consent receipts (ISO/IEC TS 27560 or Kantara CR v1.1)",
        description: "One receipt per consent event, with W3C DPV terms (CON-12).",
        querystring: z.strictObject({ format: z.enum(["iso27560", "kantara"]).default("iso27560") }),
        response: {
          200: z.object({
            format: z.enum(["iso27560", "kantara"]),
            receipts: z.array(z.record(z.string(), z.unknown())),
          }),
          ...withAuth,
        },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      const format = request.query.format;
      return { format, receipts: await service.receipts(me.subjectId, format) };
    },
  );

  r.post(
    "/api/v1/consents",
    {
      schema: {
        tags: ["consent"],
        operationId: "recordConsentForSubject",
        summary: "Record a subject's consent decision taken in an app (services only)",
        description:
          "For app backends relaying the person's own act (method app/api). Send the service key in `x-custos-service-key`.",
        body: ServiceRecordBody,
        response: { 201: ConsentView, ...withAuth },
      },
    },
    async (request, reply) => {
      requireService(request);
      const { subjectId, ...input } = request.body;
      return reply.code(201).send(await service.record(subjectId, input));
    },
  );

  r.post(
    "/api/v1/decisions",
    {
      schema: {
        tags: ["decisions"],
        operationId: "decide",
        summary: "May this purpose process these categories for this subject? (services only)",
        description:
          "Undeclared purposes or categories are denied with the valid ones listed (MAN-5); no-consent legal bases allow and name the basis (CON-14).",
        body: DecisionItem,
        response: { 200: DecisionOut, ...withAuth },
      },
    },
    async (request) => {
      const { service: name } = requireService(request);
      const [decision] = await service.decideMany(name, [request.body], request.id);
      return decision as z.infer<typeof DecisionOut>;
    },
  );

  r.post(
    "/api/v1/decisions/batch",
    {
      schema: {
        tags: ["decisions"],
        operationId: "decideBatch",
        summary: `Up to ${MAX_BATCH_DECISIONS} decisions in one request (services only)`,
        body: DecisionBatch,
        response: { 200: z.object({ decisions: z.array(DecisionOut) }), ...withAuth },
      },
    },
    async (request) => {
      const { service: name } = requireService(request);
      return { decisions: await service.decideMany(name, request.body.items, request.id) };
    },
  );
}
