import { timingSafeEqual } from "node:crypto";
import {
  AppError,
  type Clock,
  can,
  GRANT_SCOPES,
  MAX_GRANT_MINUTES,
  operationsOf,
  rolesThatCan,
  STAFF_ROLES,
  type StaffOperation,
  type StaffRole,
} from "@custos/core";
import type { Manifest } from "@custos/manifest";
import type { AuditLedger, DB, Vault } from "@custos/store";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import { CSRF_COOKIE, CSRF_HEADER } from "../security/csrf.ts";
import { registerExportRoutes } from "./export-routes.ts";
import { createGrantService } from "./grant-service.ts";
import {
  createStaffService,
  MFA_SESSION_MINUTES,
  STAFF_SESSION_COOKIE,
  STAFF_SESSION_HOURS,
  type StaffService,
} from "./staff-service.ts";

export type StaffPrincipal = { staffId: string; role: StaffRole };
export type RequireStaff = (
  request: FastifyRequest,
  operation: StaffOperation | readonly StaffOperation[],
) => Promise<StaffPrincipal>;

const authResponses = { 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, ...errorResponses } as const;

/**
 * The guard every staff route starts with: 401 when not signed in (with both factors), 403 naming
 * the operation when the role may not perform it (SEC-3).
 */
export function createRequireStaff(staffService: Pick<StaffService, "authenticate">): RequireStaff {
  return async (request, operation) => {
    const principal = await staffService.authenticate(request.cookies[STAFF_SESSION_COOKIE]);
    if (!principal)
      throw new AppError("unauthorized", {
        message: "Sign in to the console with your password and authenticator code first (/console/sign-in).",
        details: { reason: "staff_sign_in" },
      });
    if (principal.mustChangePassword)
      throw new AppError("forbidden", {
        message:
          "You signed in with a one-time password: choose your own password first (POST /api/v1/staff/me/password, or the console's password page).",
        details: { reason: "password_change_required" },
      });
    const ops = typeof operation === "string" ? [operation] : operation;
    if (!ops.some((op) => can(principal.role, op))) {
      const names = ops.join(" or ");
      throw new AppError("forbidden", {
        message: `Your role (${principal.role}) may not perform ${names}. Roles that may: ${[
          ...new Set(ops.flatMap((op) => rolesThatCan(op))),
        ].join(", ")}.`,
        details: { reason: "role", operation: ops[0], operations: ops, role: principal.role },
      });
    }
    return principal;
  };
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** CSRF for the staff cookie, as for subject sessions: double-submit token plus an origin check. */
function checkStaffCsrf(request: FastifyRequest, publicUrl: string): void {
  if (!UNSAFE.has(request.method) || request.cookies[STAFF_SESSION_COOKIE] === undefined) return;
  const header = request.headers[CSRF_HEADER];
  const token = Array.isArray(header) ? header[0] : header;
  const cookieToken = request.cookies[CSRF_COOKIE];
  const fail = (message: string) =>
    new AppError("forbidden", { message, details: { reason: "csrf_failed" } });
  if (!token || !cookieToken || !sameToken(token, cookieToken))
    throw fail(
      `This request needs the ${CSRF_HEADER} header matching the ${CSRF_COOKIE} cookie. Get a token from GET /api/v1/session/csrf and send it in the header.`,
    );
  const origin = request.headers.origin ?? request.headers.referer;
  let originValue: string | undefined;
  try {
    originValue = origin ? new URL(origin).origin : undefined;
  } catch {
    originValue = undefined;
  }
  const allowed = new Set([new URL(publicUrl).origin, `${request.protocol}://${request.host}`]);
  if (!originValue || !allowed.has(originValue))
    throw fail("This request must come from a page of this site (Origin header missing or foreign).");
}

const Training = z.object({
  confidentialityAt: z.iso.datetime().nullable(),
  trainingAt: z.iso.datetime().nullable(),
  trainingExpiresAt: z.iso.datetime().nullable(),
  eligible: z.boolean(),
  reason: z.string().max(40),
});
const StaffMember = z
  .object({
    id: z.uuid(),
    email: z.string().max(320).describe("masked"),
    displayName: z.string().max(100),
    role: z.enum(STAFF_ROLES),
    status: z.enum(["active", "suspended"]),
    mfaEnrolled: z.boolean(),
    mustChangePassword: z.boolean(),
    createdAt: z.iso.datetime(),
    training: Training,
  })
  .meta({ id: "StaffMember" });
const Grant = z
  .object({
    id: z.uuid(),
    staffId: z.uuid(),
    scope: z.enum(GRANT_SCOPES),
    subjectId: z.uuid().nullable(),
    categories: z.array(z.string().max(64)),
    purpose: z.string().max(100),
    justification: z.string().max(500),
    durationMinutes: z.number().int(),
    status: z.enum(["pending", "approved", "rejected", "expired", "revoked"]),
    requestedAt: z.iso.datetime(),
    decidedBy: z.uuid().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    expiresAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "AccessGrant" });
const IdParams = z.strictObject({ id: z.uuid() });

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  clock: Clock;
  manifest: Manifest;
  ledger: AuditLedger;
  publicUrl: string;
};

/** Staff sign-in, staff management, training records, access grants and the masked subject view. */
export function registerStaffRoutes(
  app: FastifyInstance,
  deps: Deps,
): { requireStaff: RequireStaff; staffService: StaffService } {
  const staffService = createStaffService(deps);
  const grantService = createGrantService({ ...deps, staffService });
  const requireStaff = createRequireStaff(staffService);
  const secure = deps.publicUrl.startsWith("https:");
  const r = app.withTypeProvider<ZodTypeProvider>();

  app.addHook("onRequest", (request, _reply, done) => {
    if (request.url.startsWith("/api/v1/staff") || request.url.startsWith("/api/v1/audit"))
      checkStaffCsrf(request, deps.publicUrl);
    done();
  });

  const setSession = (reply: FastifyReply, token: string, maxAgeSeconds: number) =>
    reply.setCookie(STAFF_SESSION_COOKIE, token, {
      path: "/",
      httpOnly: true,
      sameSite: "strict",
      secure,
      maxAge: maxAgeSeconds,
    });

  // Sign-in (ACC-5)

  r.post(
    "/api/v1/staff/auth/sign-in",
    {
      schema: {
        tags: ["staff"],
        operationId: "staffSignIn",
        summary: "Staff sign-in, step 1: email and password",
        description:
          "On success sets a short-lived cookie for step 2. `next: enrol` (first sign-in) returns the authenticator secret and otpauth URI once; `next: code` asks for the current code.",
        body: z.strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(200) }),
        response: {
          200: z.object({
            next: z.enum(["enrol", "code"]),
            otpauthUri: z.string().max(1000).optional(),
            secret: z.string().max(200).optional(),
          }),
          ...authResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await staffService.signIn(request.body.email, request.body.password);
      setSession(reply, result.token, MFA_SESSION_MINUTES * 60);
      reply.header("cache-control", "no-store");
      return result.next === "enrol"
        ? { next: "enrol" as const, otpauthUri: result.otpauthUri, secret: result.secret }
        : { next: "code" as const };
    },
  );

  r.post(
    "/api/v1/staff/auth/mfa",
    {
      schema: {
        tags: ["staff"],
        operationId: "staffVerifyCode",
        summary: "Staff sign-in, step 2: authenticator code (confirms enrolment the first time)",
        body: z.strictObject({ code: z.string().min(1).max(12) }),
        response: { 200: z.object({ staffId: z.uuid(), role: z.enum(STAFF_ROLES) }), ...authResponses },
      },
    },
    async (request, reply) => {
      const token = request.cookies[STAFF_SESSION_COOKIE];
      if (!token)
        throw new AppError("unauthorized", {
          message: "Start with your email and password; the code step comes after.",
        });
      const result = await staffService.verifyCode(token, request.body.code.trim());
      setSession(reply, result.token, STAFF_SESSION_HOURS * 3600);
      const me = await staffService.get(result.staffId);
      return { staffId: result.staffId, role: me?.role ?? "auditor" };
    },
  );

  r.post(
    "/api/v1/staff/auth/sign-out",
    {
      schema: {
        tags: ["staff"],
        operationId: "staffSignOut",
        summary: "Sign out of the console",
        response: { 200: z.object({ ok: z.literal(true) }), ...authResponses },
      },
    },
    async (request, reply) => {
      const token = request.cookies[STAFF_SESSION_COOKIE];
      if (token) await staffService.signOut(token);
      reply.clearCookie(STAFF_SESSION_COOKIE, { path: "/" });
      return { ok: true as const };
    },
  );

  r.get(
    "/api/v1/staff/me",
    {
      schema: {
        tags: ["staff"],
        operationId: "staffMe",
        summary: "The signed-in staff member, their operations and training status",
        response: {
          200: z.object({ staff: StaffMember, operations: z.array(z.string().max(64)) }),
          ...authResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = await staffService.authenticate(request.cookies[STAFF_SESSION_COOKIE]);
      if (!principal)
        throw new AppError("unauthorized", {
          message: "Sign in to the console first (/console/sign-in).",
          details: { reason: "staff_sign_in" },
        });
      const staff = await staffService.get(principal.staffId);
      if (!staff) throw new AppError("unauthorized", { message: "Sign in to the console first." });
      reply.header("cache-control", "no-store");
      return { staff, operations: operationsOf(principal.role) };
    },
  );

  r.post(
    "/api/v1/staff/me/password",
    {
      schema: {
        tags: ["staff"],
        operationId: "staffChangePassword",
        summary: "Change your console password (required first after a one-time password)",
        description:
          'Until a staff member who signed in with a one-time password has chosen their own, every other staff route answers 403 with `details.reason = "password_change_required"`. Other sessions of the account end.',
        body: z.strictObject({ current: z.string().min(1).max(200), next: z.string().min(1).max(200) }),
        response: { 200: z.object({ changed: z.literal(true) }), ...authResponses },
      },
    },
    async (request, reply) => {
      const token = request.cookies[STAFF_SESSION_COOKIE];
      const principal = await staffService.authenticate(token);
      if (!principal || !token)
        throw new AppError("unauthorized", {
          message: "Sign in to the console first (/console/sign-in).",
          details: { reason: "staff_sign_in" },
        });
      await staffService.changePassword(principal.staffId, token, request.body.current, request.body.next);
      reply.header("cache-control", "no-store");
      return { changed: true as const };
    },
  );

  // Staff management (admin)

  r.get(
    "/api/v1/staff/members",
    {
      schema: {
        tags: ["staff"],
        operationId: "listStaff",
        summary: "List staff members (emails masked) with their training status",
        response: { 200: z.object({ staff: z.array(StaffMember) }), ...authResponses },
      },
    },
    async (request) => {
      await requireStaff(request, ["staff.read", "staff.manage"]);
      return { staff: await staffService.list() };
    },
  );

  r.post(
    "/api/v1/staff/members",
    {
      schema: {
        tags: ["staff"],
        operationId: "createStaff",
        summary: "Create a staff member; returns a one-time password, shown once",
        body: z.strictObject({
          email: z.string().min(3).max(320),
          displayName: z.string().min(1).max(100),
          role: z.enum(STAFF_ROLES),
        }),
        response: {
          201: z.object({ staff: StaffMember, oneTimePassword: z.string().max(200) }),
          ...authResponses,
        },
      },
    },
    async (request, reply) => {
      const admin = await requireStaff(request, "staff.manage");
      const created = await staffService.create({ ...request.body, createdBy: admin.staffId });
      reply.code(201).header("cache-control", "no-store");
      return { staff: created.staff, oneTimePassword: created.password };
    },
  );

  r.post(
    "/api/v1/staff/members/:id/status",
    {
      schema: {
        tags: ["staff"],
        operationId: "setStaffStatus",
        summary: "Suspend or reactivate a staff member (suspending signs them out)",
        params: IdParams,
        body: z.strictObject({ status: z.enum(["active", "suspended"]) }),
        response: { 200: z.object({ staff: StaffMember }), ...authResponses },
      },
    },
    async (request) => {
      const admin = await requireStaff(request, "staff.manage");
      return { staff: await staffService.setStatus(admin.staffId, request.params.id, request.body.status) };
    },
  );

  const TrainingRecord = z.object({
    id: z.number().int(),
    kind: z.enum(["confidentiality", "privacy-training"]),
    completedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    recordedBy: z.uuid(),
  });

  r.get(
    "/api/v1/staff/members/:id/training",
    {
      schema: {
        tags: ["staff"],
        operationId: "listStaffTraining",
        summary: "Training and confidentiality records of a staff member (SEC-8)",
        params: IdParams,
        response: {
          200: z.object({ records: z.array(TrainingRecord), status: Training }),
          ...authResponses,
        },
      },
    },
    async (request) => {
      await requireStaff(request, ["training.record", "staff.read"]);
      return {
        records: await staffService.trainingRecords(request.params.id),
        status: await staffService.trainingStatus(request.params.id),
      };
    },
  );

  r.post(
    "/api/v1/staff/members/:id/training",
    {
      schema: {
        tags: ["staff"],
        operationId: "recordStaffTraining",
        summary: "Record a confidentiality agreement or privacy training, with dates (SEC-8)",
        params: IdParams,
        body: z.strictObject({
          kind: z.enum(["confidentiality", "privacy-training"]),
          completedAt: z.iso.date().or(z.iso.datetime()),
          expiresAt: z.iso.date().or(z.iso.datetime()).nullable().optional(),
        }),
        response: { 201: z.object({ status: Training }), ...authResponses },
      },
    },
    async (request, reply) => {
      const actor = await requireStaff(request, "training.record");
      await staffService.recordTraining({
        staffId: request.params.id,
        kind: request.body.kind,
        completedAt: new Date(request.body.completedAt),
        expiresAt: request.body.expiresAt ? new Date(request.body.expiresAt) : null,
        recordedBy: actor.staffId,
      });
      reply.code(201);
      return { status: await staffService.trainingStatus(request.params.id) };
    },
  );

  // Access grants (SEC-8, SEC-3, CHD-8)

  r.get(
    "/api/v1/staff/grants",
    {
      schema: {
        tags: ["staff"],
        operationId: "listGrants",
        summary: "Access grants: all of them for approvers and auditors, your own otherwise",
        querystring: z.strictObject({
          status: z.enum(["pending", "approved", "rejected", "expired", "revoked"]).optional(),
          mine: z.enum(["true", "false"]).optional(),
        }),
        response: { 200: z.object({ grants: z.array(Grant) }), ...authResponses },
      },
    },
    async (request) => {
      const me = await requireStaff(request, ["grant.read", "grant.request"]);
      const all = can(me.role, "grant.read") && request.query.mine !== "true";
      return {
        grants: await grantService.list({
          ...(all ? {} : { staffId: me.staffId }),
          ...(request.query.status ? { status: request.query.status } : {}),
        }),
      };
    },
  );

  r.post(
    "/api/v1/staff/grants",
    {
      schema: {
        tags: ["staff"],
        operationId: "requestGrant",
        summary: "Request time-bound access to a subject's personal information (or a bulk export)",
        body: z.strictObject({
          scope: z.enum(GRANT_SCOPES),
          subjectId: z.uuid().nullish(),
          categories: z.array(z.string().min(1).max(64)).min(1).max(50),
          purpose: z.string().min(1).max(100),
          justification: z.string().min(1).max(500),
          durationMinutes: z.number().int().min(1).max(MAX_GRANT_MINUTES),
        }),
        response: { 201: z.object({ grant: Grant }), ...authResponses },
      },
    },
    async (request, reply) => {
      const me = await requireStaff(request, "grant.request");
      const grant = await grantService.request(me, request.body);
      reply.code(201);
      return { grant };
    },
  );

  for (const decision of ["approve", "reject"] as const) {
    r.post(
      `/api/v1/staff/grants/:id/${decision}`,
      {
        schema: {
          tags: ["staff"],
          operationId: `${decision}Grant`,
          summary: `${decision === "approve" ? "Approve" : "Reject"} a pending access grant (never your own)`,
          params: IdParams,
          response: { 200: z.object({ grant: Grant }), ...authResponses },
        },
      },
      async (request) => {
        const me = await requireStaff(request, ["grant.approve", "grant.approve-children"]);
        return { grant: await grantService.decide(me, request.params.id, decision) };
      },
    );
  }

  r.post(
    "/api/v1/staff/grants/:id/revoke",
    {
      schema: {
        tags: ["staff"],
        operationId: "revokeGrant",
        summary: "Revoke an access grant (the requester or an approver)",
        params: IdParams,
        response: { 200: z.object({ grant: Grant }), ...authResponses },
      },
    },
    async (request) => {
      const me = await requireStaff(request, ["grant.request", "grant.approve", "grant.approve-children"]);
      return { grant: await grantService.revoke(me, request.params.id) };
    },
  );

  // The masked subject view (SEC-2, SEC-4, SEC-8)

  r.get(
    "/api/v1/staff/subjects/:subjectId",
    {
      schema: {
        tags: ["staff"],
        operationId: "viewSubjectMasked",
        summary: "A subject's personal information, masked by role, under an active access grant",
        description:
          "403 explains how to request a grant when none is active; 404 when the subject does not exist. Every read and refusal is recorded in the audit log.",
        params: z.strictObject({ subjectId: z.string().min(1).max(64) }),
        response: {
          200: z.object({
            subjectId: z.uuid(),
            grantId: z.uuid(),
            purpose: z.string().max(100),
            expiresAt: z.iso.datetime(),
            categories: z.array(
              z.object({
                category: z.string().max(64),
                grade: z.number().int(),
                children: z.boolean(),
                fields: z.array(
                  z.object({
                    field: z.string().max(64),
                    kind: z.string().max(32),
                    value: z.string().max(2000).nullable(),
                    visibility: z.enum(["masked", "hidden", "plain"]),
                  }),
                ),
              }),
            ),
          }),
          ...authResponses,
        },
      },
    },
    async (request, reply) => {
      const me = await requireStaff(request, ["subject.read-masked", "subject.read-children"]);
      reply.header("cache-control", "no-store");
      return grantService.readSubject(me, request.params.subjectId, request.id);
    },
  );

  registerExportRoutes(app, { ...deps, grantService, requireStaff });

  return { requireStaff, staffService };
}
