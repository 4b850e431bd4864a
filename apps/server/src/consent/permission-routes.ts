import { LANGUAGES } from "@custos/manifest";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireSubject } from "../accounts/guards.ts";
import { ErrorBody, errorResponses } from "../errors.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import type { PermissionService } from "./permission-service.ts";
import { type ServiceKey, serviceGuard } from "./service-auth.ts";

type Deps = { permissions: PermissionService; serviceKeys: readonly ServiceKey[] };

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, "ids are lower-case kebab-case (e.g. location)");
const Language = z.enum(LANGUAGES);

const NoticeShown = z
  .strictObject({
    language: Language.describe("The language of the notice text shown."),
    noticeHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "noticeHash is the SHA-256 of the exact notice text, in lower-case hex")
      .optional()
      .describe("SHA-256 (hex) of the exact notice text shown (UTF-8)."),
    version: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe("Or: the manifest version whose notice was shown."),
  })
  .refine((n) => (n.noticeHash === undefined) !== (n.version === undefined), {
    message: "give exactly one of noticeHash (SHA-256 of the notice text shown) or version",
    path: ["noticeHash"],
  })
  .describe("The purpose notice shown before the system prompt (CON-10).");

const reportFields = {
  permission: id.describe("A manifest device permission (storage, phone, camera, contacts, ...)."),
  state: z.enum(["granted", "denied", "revoked"]),
  noticeShown: NoticeShown.optional().describe("Required for a grant."),
  platformName: z
    .string()
    .min(1)
    .max(120)
    .regex(/^[A-Za-z0-9._:-]+$/, "a platform permission name such as android.permission.CAMERA")
    .optional(),
  language: Language.describe("The language of the app's interface."),
};

const NoticeRef = z.object({
  hash: z.string().nullable(),
  language: Language.nullable(),
  version: z.string().nullable(),
  current: z.boolean(),
});
const HistoryEntry = z.object({
  id: z.number().int(),
  occurredAt: z.string(),
  permissionId: z.string(),
  state: z.enum(["granted", "denied", "revoked"]),
  platformName: z.string().nullable(),
  notice: NoticeRef.nullable(),
});
const CurrentState = z.enum(["granted", "denied", "revoked", "not-asked"]);
const ReportOut = z.object({ permissionId: z.string(), current: CurrentState, recorded: HistoryEntry });
const PermissionsView = z.object({
  noticeVersion: z.string(),
  permissions: z.array(
    z.object({
      permissionId: z.string(),
      name: z.string(),
      notice: z.string(),
      noticeHash: z.string(),
      platformNames: z.array(z.string()),
      sensitive: z.boolean(),
      refusalImpact: z.string(),
      purposes: z.array(z.object({ purposeId: z.string(), name: z.string() })),
      state: CurrentState,
    }),
  ),
  history: z.array(HistoryEntry),
});

const withAuth = { 401: ErrorBody, 409: ErrorBody, ...errorResponses };

/** Device permission grants and revocations reported by the app (CON-10), tag "consent". */
export function registerPermissionRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { permissions } = deps;
  const requireService = serviceGuard(deps.serviceKeys);
  const description =
    "Report a device-permission prompt outcome with the purpose notice shown before the system prompt. A grant needs the notice in force (409 with the current hash otherwise); a denial or revocation is always recorded. Revoking a permission denies only what needs it (CON-10).";

  r.post(
    "/api/v1/permissions",
    {
      schema: {
        tags: ["consent"],
        operationId: "reportPermission",
        summary: "Report a device permission grant, denial or revocation (services only)",
        description,
        body: z.strictObject({ subjectId: z.uuid(), ...reportFields }),
        response: { 201: ReportOut, ...withAuth },
      },
    },
    async (request, reply) => {
      const { service } = requireService(request);
      const { subjectId, ...input } = request.body;
      return reply.code(201).send(await permissions.report(subjectId, input, service));
    },
  );

  r.post(
    "/api/v1/me/permissions",
    {
      schema: {
        tags: ["consent"],
        operationId: "reportMyPermission",
        summary: "Report my device permission grant, denial or revocation",
        description,
        body: z.strictObject(reportFields),
        response: { 201: ReportOut, ...withAuth },
      },
    },
    async (request, reply) => {
      const me = await requireSubject(request);
      return reply.code(201).send(await permissions.report(me.subjectId, request.body, "self"));
    },
  );

  r.get(
    "/api/v1/me/permissions",
    {
      schema: {
        tags: ["consent"],
        operationId: "listMyPermissions",
        summary: "My device permissions: notice, current state and the history of grants and revocations",
        querystring: z.strictObject({ lang: Language.optional() }),
        response: { 200: PermissionsView, ...withAuth },
      },
    },
    async (request) => {
      const me = await requireSubject(request);
      const lang = request.query.lang ?? languageFromHeader(request.headers["accept-language"]);
      return permissions.view(me.subjectId, lang);
    },
  );
}
