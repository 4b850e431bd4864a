import {
  AppError,
  applyMasker,
  type Clock,
  decideField,
  isUuid,
  type MaskingGrant,
  maskerFor,
  type PersonalRecord,
  type StaffRole,
} from "@custos/core";
import type { Manifest } from "@custos/manifest";
import {
  type AuditLedger,
  createAccessGrantRepo,
  createSubjectFieldRepo,
  createSubjectRepo,
  type DB,
  type Vault,
} from "@custos/store";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import type { GrantService } from "./grant-service.ts";
import type { RequireStaff } from "./staff-routes.ts";

/**
 * Bulk export (SEC-3, CHD-8, SEC-2): the privacy officer exports up to 1000 subjects' information
 * in named categories, only under their own approved, unexpired bulk-export grant naming every
 * category; never children's categories nor the accounts of children; every value masked per
 * role by `maskRecord`; one audit event per exported subject.
 */

export const MAX_EXPORT_SUBJECTS = 1000;

/**
 * The approved bulk-export grant, as the masking policy reads grants: it names the categories
 * (so grade 3 categories it names are not hidden for want of a grant).
 */
function grantCover(categories: string[], subjectId: string): MaskingGrant[] {
  return [
    {
      scope: "subject-pi",
      status: "approved",
      categories,
      subjectId,
      expiresAt: null,
    },
  ];
}

/**
 * The masking policy's decision per field (SEC-2: hidden for the role, secrets, undeclared
 * fields), except that a bulk export never carries a value in clear: what the policy would show
 * in clear to one subject's handler is masked with the field's masker too.
 */
export function maskForExport(
  manifest: Manifest,
  role: StaffRole,
  grants: MaskingGrant[],
  record: PersonalRecord,
  subjectId: string,
): Record<string, Record<string, string>> {
  const kinds = new Map(manifest.categories.map((c) => [c.id, new Map(c.fields.map((f) => [f.id, f.kind]))]));
  const out: Record<string, Record<string, string>> = {};
  for (const [categoryId, fields] of Object.entries(record)) {
    for (const [fieldId, value] of Object.entries(fields)) {
      const d = decideField(manifest, { role, grants }, categoryId, fieldId, subjectId);
      if (d.mode === "hidden") continue;
      const masker =
        d.mode === "masked" ? d.masker : maskerFor(kinds.get(categoryId)?.get(fieldId) ?? "other");
      const bucket = out[categoryId] ?? {};
      bucket[fieldId] = applyMasker(masker, value);
      out[categoryId] = bucket;
    }
  }
  return out;
}

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  clock: Clock;
  manifest: Manifest;
  ledger: AuditLedger;
  grantService: Pick<GrantService, "authorizeBulkExport">;
  requireStaff: RequireStaff;
};

const errors = { 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, ...errorResponses } as const;

export function registerExportRoutes(app: FastifyInstance, deps: Deps): void {
  const { db, vault, clock, manifest, ledger } = deps;
  const categories = new Map(manifest.categories.map((c) => [c.id, c]));
  const childrenCategories = manifest.categories.filter((c) => c.children === true).map((c) => c.id);
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/api/v1/staff/exports",
    {
      schema: {
        tags: ["staff"],
        operationId: "bulkExport",
        summary: "Bulk export of masked personal information under an approved bulk-export grant",
        description:
          "Up to 1000 subject ids and the categories wanted. Needs your own approved, unexpired bulk-export grant naming every category (403 `no_active_grant` / `grant_mismatch` otherwise). Children's categories are refused and children's accounts skipped (CHD-8). Values are masked for your role; fields your role may not see are left out. Every exported subject is recorded in the audit log.",
        body: z.strictObject({
          grantId: z.uuid(),
          subjectIds: z.array(z.uuid()).min(1).max(MAX_EXPORT_SUBJECTS),
          categories: z.array(z.string().min(1).max(64)).min(1).max(50),
        }),
        response: {
          200: z.object({
            grantId: z.uuid(),
            purpose: z.string().max(100),
            exportedAt: z.iso.datetime(),
            categories: z.array(z.string().max(64)),
            subjects: z.array(
              z.object({
                subjectId: z.uuid(),
                categories: z.record(z.string(), z.record(z.string(), z.string().max(2000))),
              }),
            ),
            skipped: z.array(z.object({ subjectId: z.uuid(), reason: z.enum(["not_found", "children"]) })),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const me = await deps.requireStaff(request, "subject.read-masked");
      const wanted = [...new Set(request.body.categories)];
      const unknown = wanted.filter((c) => !categories.has(c));
      if (unknown.length)
        throw new AppError("validation_failed", {
          message: `Name categories of the privacy manifest; unknown: ${unknown.join(", ")}.`,
          details: { field: "categories", unknown },
        });
      const subjectIds = [...new Set(request.body.subjectIds.map((s) => s.toLowerCase()))];
      const grantId = request.body.grantId;
      // The named grant must be the reader's own bulk-export grant, approved, unexpired and
      // covering every category; the shared gate then checks role, children and training.
      const grant = await createAccessGrantRepo(db).byId(grantId);
      const now = clock.now();
      const matches =
        grant !== undefined &&
        grant.staff_id === me.staffId &&
        grant.scope === "bulk-export" &&
        grant.status === "approved" &&
        grant.expires_at !== null &&
        grant.expires_at > now &&
        wanted.every((c) => grant.categories.includes(c));
      const children = wanted.some((c) => categories.get(c)?.children === true);
      if (!matches && !children) {
        await ledger.append(db, {
          actorType: "staff",
          actorId: me.staffId,
          action: "export",
          outcome: "denied",
          reason: "grant_mismatch",
          requestId: request.id,
          details: { grantId, categories: wanted },
        });
        throw new AppError("forbidden", {
          message:
            "The grant named is not your approved, unexpired bulk-export grant covering these categories. Name the right grant id, or request one on the Grants page.",
          details: { reason: "grant_mismatch" },
        });
      }
      // Role, children's categories (CHD-8) and training; audited whether allowed or refused.
      const authorized = await deps.grantService.authorizeBulkExport(me, wanted, request.id);
      const subjects = createSubjectRepo(db);
      const fields = createSubjectFieldRepo(db, vault);
      const out: { subjectId: string; categories: Record<string, Record<string, string>> }[] = [];
      const skipped: { subjectId: string; reason: "not_found" | "children" }[] = [];
      for (const subjectId of subjectIds) {
        if (!isUuid(subjectId) || !(await subjects.get(subjectId))) {
          skipped.push({ subjectId, reason: "not_found" });
          continue;
        }
        const record = await fields.getAll(subjectId);
        if (childrenCategories.some((c) => record[c] && Object.keys(record[c]).length > 0)) {
          skipped.push({ subjectId, reason: "children" });
          continue;
        }
        const picked = Object.fromEntries(wanted.filter((c) => record[c]).map((c) => [c, record[c] ?? {}]));
        out.push({
          subjectId,
          categories: maskForExport(manifest, me.role, grantCover(wanted, subjectId), picked, subjectId),
        });
      }
      if (out.length)
        await ledger.appendMany(
          db,
          out.map((s) => ({
            actorType: "staff" as const,
            actorId: me.staffId,
            action: "export" as const,
            subjectId: s.subjectId,
            purpose: authorized.purpose,
            outcome: "allowed" as const,
            requestId: request.id,
            details: { grantId, categories: Object.keys(s.categories) },
          })),
        );
      reply.header("cache-control", "no-store");
      return {
        grantId,
        purpose: authorized.purpose,
        exportedAt: now.toISOString(),
        categories: wanted,
        subjects: out,
        skipped,
      };
    },
  );
}
