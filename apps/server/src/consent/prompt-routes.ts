import { LANGUAGES } from "@custos/manifest";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireSubject } from "../accounts/guards.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import { PROMPT_KINDS, PROMPT_OUTCOMES, type PromptService, SHOW_REASONS } from "./prompt-service.ts";
import { type ServiceKey, serviceGuard } from "./service-auth.ts";

type Deps = { prompts: PromptService; serviceKeys: readonly ServiceKey[] };

const Params = z.strictObject({
  kind: z.enum(PROMPT_KINDS).describe("purpose (a separate-consent prompt), permission or notice"),
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9-]*$/, "ids are lower-case kebab-case (e.g. location-services)")
    .describe("A manifest purpose, device permission or just-in-time notice id."),
});
const Language = z.enum(LANGUAGES);
const ShouldShowOut = z.object({
  show: z.boolean(),
  reason: z.enum(SHOW_REASONS),
  nextAt: z.string().nullable().describe("When a prompt in cool-down may be shown again."),
  cooldownHours: z.number().int(),
});
const OutcomeBody = {
  outcome: z.enum(PROMPT_OUTCOMES).describe("refused and dismissed start the cool-down (CON-7)"),
  language: Language,
};
const OutcomeOut = z.object({
  recorded: z.object({
    kind: z.enum(PROMPT_KINDS),
    id: z.string(),
    outcome: z.enum(PROMPT_OUTCOMES),
    occurredAt: z.string(),
  }),
  next: ShouldShowOut,
});

const withAuth = { 401: ErrorBody, ...errorResponses };
const showDescription =
  "No prompt is needed once the consent is given, the permission granted or the notice acknowledged; a refused or dismissed prompt is answered `cool-down` with `nextAt` until CUSTOS_PROMPT_COOLDOWN_HOURS have passed (CON-7).";

/** The prompt cool-down (CON-7), tag "consent": should a prompt be shown, and what became of it. */
export function registerPromptRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { prompts } = deps;
  const requireService = serviceGuard(deps.serviceKeys);

  r.get(
    "/api/v1/prompts/:kind/:id/should-show",
    {
      schema: {
        tags: ["consent"],
        operationId: "shouldShowPrompt",
        summary: "May the app show this prompt to the subject now? (services only)",
        description: showDescription,
        params: Params,
        querystring: z.strictObject({ subjectId: z.uuid() }),
        response: { 200: ShouldShowOut, ...withAuth },
      },
    },
    async (request) => {
      requireService(request);
      return prompts.shouldShow(request.query.subjectId, request.params.kind, request.params.id);
    },
  );

  r.post(
    "/api/v1/prompts/:kind/:id",
    {
      schema: {
        tags: ["consent"],
        operationId: "recordPromptOutcome",
        summary: "Log that a prompt was shown and how it was answered (services only)",
        description:
          "The prompt log only: a consent or a permission grant is recorded through its own endpoint.",
        params: Params,
        body: z.strictObject({ subjectId: z.uuid(), ...OutcomeBody }),
        response: { 201: OutcomeOut, ...withAuth },
      },
    },
    async (request, reply) => {
      requireService(request);
      const { subjectId, ...input } = request.body;
      const { kind, id } = request.params;
      return reply.code(201).send(await prompts.recordOutcome(subjectId, kind, id, input));
    },
  );

  r.get(
    "/api/v1/me/prompts/:kind/:id/should-show",
    {
      schema: {
        tags: ["consent"],
        operationId: "shouldShowMyPrompt",
        summary: "May this prompt be shown to me now?",
        description: showDescription,
        params: Params,
        response: { 200: ShouldShowOut, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      return prompts.shouldShow(me.subjectId, request.params.kind, request.params.id);
    },
  );

  r.post(
    "/api/v1/me/prompts/:kind/:id",
    {
      schema: {
        tags: ["consent"],
        operationId: "recordMyPromptOutcome",
        summary: "Log that a prompt was shown to me and how I answered it",
        params: Params,
        body: z.strictObject(OutcomeBody),
        response: { 201: OutcomeOut, ...withAuth },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      const { kind, id } = request.params;
      return reply.code(201).send(await prompts.recordOutcome(me.subjectId, kind, id, request.body));
    },
  );
}
