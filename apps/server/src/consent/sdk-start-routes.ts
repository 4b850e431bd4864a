import { LANGUAGES } from "@custos/manifest";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import type { RequireStaff } from "../staff/staff-routes.ts";
import { SDK_PURPOSE_REASONS, SDK_START_REASONS, type SdkStartService } from "./sdk-start-service.ts";
import { type ServiceKey, serviceGuard } from "./service-auth.ts";

type Deps = { sdks: SdkStartService; serviceKeys: readonly ServiceKey[]; requireStaff: RequireStaff };

/**
 * Who flips an SDK's runtime switch: the admin (configuration) or the privacy officer (who publishes
 * the manifest that declares the SDK and its `enabled` flag). No other role has either operation.
 */
export const SDK_SWITCH_OPERATIONS = ["config.manage", "manifest.publish"] as const;

const SdkParams = z.strictObject({
  sdkId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9-]*$/, "SDK ids are lower-case kebab-case (e.g. sdk-advertising)"),
});
const Language = z.enum(LANGUAGES);

const StartAnswer = z.object({
  sdkId: z.string(),
  start: z.boolean(),
  reason: z.enum(SDK_START_REASONS),
  purposes: z.array(
    z.object({ purposeId: z.string(), allowed: z.boolean(), reason: z.enum(SDK_PURPOSE_REASONS) }),
  ),
});
const SdkEntry = z.object({
  sdkId: z.string(),
  name: z.string(),
  company: z.string(),
  sdkPurposes: z.array(z.object({ id: z.string(), name: z.string() })),
  purposes: z.array(
    z.object({ purposeId: z.string(), name: z.string(), legalBasis: z.string(), consent: z.string() }),
  ),
  categories: z.array(z.string()),
  manifestEnabled: z.boolean(),
  enabled: z.boolean(),
  switch: z
    .object({ enabled: z.boolean(), reason: z.string(), changedBy: z.string(), changedAt: z.string() })
    .nullable(),
});

const withAuth = { 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, ...errorResponses };

/** Third-party SDK start checks for the app, and the SDK switches in the console (CON-16), tag "sdks". */
export function registerSdkStartRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { sdks, requireStaff } = deps;
  const requireService = serviceGuard(deps.serviceKeys);

  r.post(
    "/api/v1/sdks/:sdkId/may-start",
    {
      schema: {
        tags: ["sdks"],
        operationId: "maySdkStart",
        summary: "May this third-party SDK start for this subject? (services only)",
        description:
          "No while the SDK is switched off (manifest or console), and no until one of its purposes is allowed for the subject; `purposes` says which ones it may serve, so the app initialises it only for those (CON-16). Refusals are audited.",
        params: SdkParams,
        body: z.strictObject({ subjectId: z.uuid() }),
        response: { 200: StartAnswer, ...withAuth },
      },
    },
    async (request) => {
      const { service } = requireService(request);
      return sdks.mayStart(service, request.params.sdkId, request.body.subjectId, request.id);
    },
  );

  r.get(
    "/api/v1/staff/sdks",
    {
      schema: {
        tags: ["sdks"],
        operationId: "listSdks",
        summary: "Third-party SDKs with their purposes and switches (admin, privacy officer)",
        querystring: z.strictObject({ lang: Language.optional() }),
        response: { 200: z.object({ sdks: z.array(SdkEntry) }), ...withAuth },
      },
    },
    async (request) => {
      await requireStaff(request, SDK_SWITCH_OPERATIONS);
      const lang = request.query.lang ?? languageFromHeader(request.headers["accept-language"]);
      return { sdks: await sdks.list(lang) };
    },
  );

  r.put(
    "/api/v1/staff/sdks/:sdkId",
    {
      schema: {
        tags: ["sdks"],
        operationId: "switchSdk",
        summary: "Switch a third-party SDK off or back on (admin, privacy officer)",
        description:
          "Switched off, every start of the SDK is refused at once. An SDK disabled in the manifest cannot be switched on here (409). Audited with the reason.",
        params: SdkParams,
        querystring: z.strictObject({ lang: Language.optional() }),
        body: z.strictObject({
          enabled: z.boolean(),
          reason: z
            .string()
            .trim()
            .min(3, "say why (a ticket or incident reference helps)")
            .max(500)
            .describe("Why (a ticket or incident reference); no personal information."),
        }),
        response: { 200: SdkEntry, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireStaff(request, SDK_SWITCH_OPERATIONS);
      const lang = request.query.lang ?? languageFromHeader(request.headers["accept-language"]);
      return sdks.setSwitch(me.staffId, request.params.sdkId, request.body, lang);
    },
  );
}
