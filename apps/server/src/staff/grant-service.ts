import {
  AppError,
  type Clock,
  canDecideGrant,
  canRequestGrant,
  controlsFor,
  fieldVisibility,
  type GrantScope,
  isUuid,
  MAX_GRANT_MINUTES,
  maskAddress,
  maskBankCard,
  maskEmail,
  maskIdNumber,
  maskName,
  maskPhone,
  newId,
  type StaffRole,
  systemClock,
} from "@custos/core";
import type { Manifest } from "@custos/manifest";
import {
  type AccessGrantRow,
  type AuditLedger,
  createAccessGrantRepo,
  createSubjectFieldRepo,
  createSubjectRepo,
  type DB,
  type GrantStatus,
  inTransaction,
  type Vault,
} from "@custos/store";
import type { Kysely } from "kysely";
import { type StaffService, TRAINING_MESSAGES } from "./staff-service.ts";

/**
 * Access grants (SEC-8, SEC-3, CHD-8): time-bound (at most 8 hours), requested with a purpose,
 * approved by an allowed role that is not the requester, usable only while the requester's
 * confidentiality agreement and training are valid (checked at use time). Every use to read
 * personal information appends an audit event, and so does every refusal.
 */

/** A pending request not decided within this time expires. */
export const PENDING_HOURS = 24;

export type GrantView = {
  id: string;
  staffId: string;
  scope: GrantScope;
  subjectId: string | null;
  categories: string[];
  purpose: string;
  justification: string;
  durationMinutes: number;
  status: GrantStatus;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
};

export type MaskedField = {
  field: string;
  kind: string;
  value: string | null;
  visibility: "masked" | "hidden" | "plain";
};
export type MaskedCategory = { category: string; grade: number; children: boolean; fields: MaskedField[] };

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  clock?: Clock;
  ledger: AuditLedger;
  manifest: Manifest;
  staffService: Pick<StaffService, "trainingStatus">;
};

function forbidden(message: string, reason: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError("forbidden", { message, details: { reason, ...extra } });
}

const MASKERS: Record<string, (v: string) => string> = {
  name: maskName,
  phone: maskPhone,
  email: maskEmail,
  "id-number": maskIdNumber,
  address: maskAddress,
  "bank-card": maskBankCard,
};

/** Masks a value of a manifest field kind (SEC-2). Free text keeps only its length. */
export function maskValue(kind: string, value: string): string {
  const masker = MASKERS[kind];
  if (masker) return masker(value);
  if (kind === "text" || kind === "other" || kind === "image" || kind === "location")
    return `[${Array.from(value).length} characters]`;
  const chars = Array.from(value);
  if (chars.length <= 4) return "*".repeat(chars.length);
  return `${chars.slice(0, 2).join("")}${"*".repeat(chars.length - 4)}${chars.slice(-2).join("")}`;
}

export function createGrantService({ db, vault, clock = systemClock, ledger, manifest, staffService }: Deps) {
  const grants = createAccessGrantRepo(db);
  const subjects = createSubjectRepo(db);
  const categories = new Map(manifest.categories.map((c) => [c.id, c]));
  const purposes = new Set(manifest.purposes.map((p) => p.id));

  /** Status as of now: approved grants past expiry and stale pending requests read as expired. */
  function effectiveStatus(row: AccessGrantRow, now: Date): GrantStatus {
    if (row.status === "approved" && row.expires_at && row.expires_at <= now) return "expired";
    if (row.status === "pending" && row.requested_at.getTime() + PENDING_HOURS * 3_600_000 <= now.getTime())
      return "expired";
    return row.status;
  }

  async function toView(row: AccessGrantRow): Promise<GrantView> {
    return {
      id: row.id,
      staffId: row.staff_id,
      scope: row.scope,
      subjectId: row.subject_id,
      categories: row.categories,
      purpose: row.purpose,
      justification: await vault.openSystem(row.justification_sealed),
      durationMinutes: row.duration_minutes,
      status: effectiveStatus(row, clock.now()),
      requestedAt: row.requested_at.toISOString(),
      decidedBy: row.decided_by,
      decidedAt: row.decided_at?.toISOString() ?? null,
      expiresAt: row.expires_at?.toISOString() ?? null,
    };
  }

  async function assertTrained(staffId: string): Promise<void> {
    const training = await staffService.trainingStatus(staffId);
    if (!training.eligible) {
      const reason = training.reason as Exclude<typeof training.reason, "ok">;
      throw forbidden(TRAINING_MESSAGES[reason], reason);
    }
  }

  const service = {
    async request(
      requester: { staffId: string; role: StaffRole },
      input: {
        scope: GrantScope;
        subjectId?: string | null;
        categories: string[];
        purpose: string;
        justification: string;
        durationMinutes: number;
      },
    ): Promise<GrantView> {
      const allowed = canRequestGrant(requester.role, input.scope);
      if (!allowed.allowed) throw forbidden(allowed.message, "role");
      await assertTrained(requester.staffId);
      if (!purposes.has(input.purpose))
        throw new AppError("validation_failed", {
          message:
            "The purpose is not a processing purpose of the privacy manifest; choose one from the list.",
          details: { field: "purpose" },
        });
      if (
        !Number.isInteger(input.durationMinutes) ||
        input.durationMinutes < 1 ||
        input.durationMinutes > MAX_GRANT_MINUTES
      )
        throw new AppError("validation_failed", {
          message: `A grant lasts 1 to ${MAX_GRANT_MINUTES} minutes (8 hours). Ask for a shorter time.`,
          details: { field: "durationMinutes" },
        });
      const unique = [...new Set(input.categories)];
      const unknown = unique.filter((c) => !categories.has(c));
      if (unique.length === 0 || unknown.length > 0)
        throw new AppError("validation_failed", {
          message: `Name one or more categories of the manifest${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}.`,
          details: { field: "categories", unknown },
        });
      const hasChildren = unique.some((c) => categories.get(c)?.children === true);
      if (input.scope === "bulk-export") {
        if (input.subjectId)
          throw new AppError("validation_failed", {
            message: "A bulk-export grant covers no single subject; leave subjectId out.",
            details: { field: "subjectId" },
          });
        if (hasChildren)
          throw forbidden(
            "Bulk copy or download of children's personal information is not allowed (CHD-8).",
            "children_bulk",
          );
      } else {
        if (!isUuid(input.subjectId))
          throw new AppError("validation_failed", {
            message: "A subject grant needs the subject's id (a UUID).",
            details: { field: "subjectId" },
          });
        if ((input.scope === "children-pi") !== hasChildren)
          throw new AppError("validation_failed", {
            message: hasChildren
              ? "Children's categories need a children-pi grant, approved by the children's PI officer."
              : "A children-pi grant must name at least one children's category.",
            details: { field: "scope" },
          });
        if (!(await subjects.get(input.subjectId)))
          throw new AppError("not_found", { message: "No subject with this id exists. Check the id." });
      }
      const justification = input.justification.trim();
      if (justification.length < 3 || justification.length > 500)
        throw new AppError("validation_failed", {
          message:
            "State why you need access (3 to 500 characters, e.g. a ticket reference). Do not include personal information.",
          details: { field: "justification" },
        });
      const now = clock.now();
      const row = await inTransaction(db, async (trx) => {
        const inserted = await createAccessGrantRepo(trx).insert({
          id: newId(),
          staffId: requester.staffId,
          scope: input.scope,
          subjectId: input.scope === "bulk-export" ? null : (input.subjectId ?? null),
          categories: unique,
          purpose: input.purpose,
          justificationSealed: await vault.sealSystem(justification),
          durationMinutes: input.durationMinutes,
          now,
        });
        await ledger.append(trx, {
          actorType: "staff",
          actorId: requester.staffId,
          action: "grant",
          subjectId: inserted.subject_id,
          purpose: input.purpose,
          outcome: "allowed",
          reason: "requested",
          details: { grantId: inserted.id, scope: input.scope, categories: unique },
        });
        return inserted;
      });
      return toView(row);
    },

    async decide(
      approver: { staffId: string; role: StaffRole },
      grantId: string,
      decision: "approve" | "reject",
    ): Promise<GrantView> {
      if (!isUuid(grantId)) throw new AppError("not_found", { message: "No access grant with this id." });
      // Who may decide does not change with the row's status, so it is checked (and a refusal
      // audited) before the transaction; on PGlite the refusal could not be written during it.
      const current = await grants.byId(grantId);
      if (!current) throw new AppError("not_found", { message: "No access grant with this id." });
      const check = canDecideGrant({
        approverId: approver.staffId,
        approverRole: approver.role,
        requesterId: current.staff_id,
        scope: current.scope,
      });
      if (!check.allowed) {
        await ledger.append(db, {
          actorType: "staff",
          actorId: approver.staffId,
          action: decision,
          subjectId: current.subject_id,
          outcome: "denied",
          reason: check.reason,
          details: { grantId },
        });
        throw forbidden(check.message, check.reason);
      }
      const row = await db.transaction().execute(async (trx) => {
        const repo = createAccessGrantRepo(trx);
        const grant = await repo.byIdForUpdate(grantId);
        if (!grant) throw new AppError("not_found", { message: "No access grant with this id." });
        const now = clock.now();
        if (effectiveStatus(grant, now) !== "pending")
          throw new AppError("conflict", {
            message: `This grant is ${effectiveStatus(grant, now)}, not pending; only pending requests can be decided.`,
          });
        const updated = await repo.decide(grantId, {
          status: decision === "approve" ? "approved" : "rejected",
          decidedBy: approver.staffId,
          decidedAt: now,
          expiresAt:
            decision === "approve" ? new Date(now.getTime() + grant.duration_minutes * 60_000) : null,
        });
        await ledger.append(trx, {
          actorType: "staff",
          actorId: approver.staffId,
          action: decision,
          subjectId: grant.subject_id,
          purpose: grant.purpose,
          outcome: "allowed",
          details: { grantId, requester: grant.staff_id, scope: grant.scope },
        });
        return updated;
      });
      return toView(row);
    },

    async revoke(actor: { staffId: string; role: StaffRole }, grantId: string): Promise<GrantView> {
      if (!isUuid(grantId)) throw new AppError("not_found", { message: "No access grant with this id." });
      const row = await db.transaction().execute(async (trx) => {
        const repo = createAccessGrantRepo(trx);
        const grant = await repo.byIdForUpdate(grantId);
        if (!grant) throw new AppError("not_found", { message: "No access grant with this id." });
        const mayRevoke =
          grant.staff_id === actor.staffId ||
          canDecideGrant({
            approverId: actor.staffId,
            approverRole: actor.role,
            requesterId: grant.staff_id,
            scope: grant.scope,
          }).allowed;
        if (!mayRevoke) throw forbidden("Only the requester or an approver may revoke this grant.", "role");
        const status = effectiveStatus(grant, clock.now());
        if (status !== "pending" && status !== "approved")
          throw new AppError("conflict", { message: `This grant is already ${status}.` });
        const updated = await repo.decide(grantId, { status: "revoked" });
        await ledger.append(trx, {
          actorType: "staff",
          actorId: actor.staffId,
          action: "revoke",
          subjectId: grant.subject_id,
          outcome: "allowed",
          details: { grantId },
        });
        return updated;
      });
      return toView(row);
    },

    async list(filter: { staffId?: string; status?: GrantStatus }): Promise<GrantView[]> {
      const rows = await grants.list({ ...(filter.staffId ? { staffId: filter.staffId } : {}) });
      const views = await Promise.all(rows.map(toView));
      return filter.status ? views.filter((g) => g.status === filter.status) : views;
    },

    /**
     * The gate every bulk copy or download must pass (SEC-3, CHD-8): the role may export, an
     * approved bulk-export grant covers every category, the training is valid, and no category is
     * children's. Audited whether allowed or refused. Returns the grant to cite.
     */
    async authorizeBulkExport(
      reader: { staffId: string; role: StaffRole },
      wanted: string[],
      requestId: string,
    ): Promise<{ grantId: string; purpose: string }> {
      const deny = async (reason: string, message: string): Promise<never> => {
        await ledger.append(db, {
          actorType: "staff",
          actorId: reader.staffId,
          action: "export",
          outcome: "denied",
          reason,
          requestId,
          details: { categories: wanted.slice(0, 50) },
        });
        throw forbidden(message, reason);
      };
      if (wanted.some((c) => categories.get(c)?.children === true))
        return deny(
          "children_bulk",
          "Bulk copy or download of children's personal information is not allowed (CHD-8).",
        );
      const allowed = canRequestGrant(reader.role, "bulk-export");
      if (!allowed.allowed) return deny("role", allowed.message);
      const active = await grants.activeFor(reader.staffId, null, clock.now());
      const grant = active.find(
        (g) => g.scope === "bulk-export" && wanted.every((c) => g.categories.includes(c)),
      );
      if (!grant)
        return deny(
          "no_active_grant",
          "A bulk export needs an approved bulk-export grant naming these categories. Request one on the Grants page.",
        );
      const training = await staffService.trainingStatus(reader.staffId);
      if (!training.eligible)
        return deny(
          training.reason,
          TRAINING_MESSAGES[training.reason as Exclude<typeof training.reason, "ok">],
        );
      await ledger.append(db, {
        actorType: "staff",
        actorId: reader.staffId,
        action: "export",
        outcome: "allowed",
        purpose: grant.purpose,
        requestId,
        details: { grantId: grant.id, categories: wanted.slice(0, 50) },
      });
      return { grantId: grant.id, purpose: grant.purpose };
    },

    /**
     * The subject's personal information, masked for the reader's role, limited to what an active
     * grant covers (SEC-2, SEC-8, CHD-8). Every category read, and every refusal, is audited.
     */
    async readSubject(
      reader: { staffId: string; role: StaffRole },
      subjectId: string,
      requestId: string,
    ): Promise<{
      subjectId: string;
      grantId: string;
      purpose: string;
      expiresAt: string;
      categories: MaskedCategory[];
    }> {
      const deny = async (reason: string, purpose?: string) => {
        await ledger.append(db, {
          actorType: "staff",
          actorId: reader.staffId,
          action: "read",
          subjectId,
          outcome: "denied",
          reason,
          requestId,
          ...(purpose ? { purpose } : {}),
        });
      };
      if (!isUuid(subjectId) || !(await subjects.get(subjectId)))
        throw new AppError("not_found", { message: "No subject with this id exists. Check the id." });
      const now = clock.now();
      const active = await grants.activeFor(reader.staffId, subjectId, now);
      const grant = active[0];
      if (!grant) {
        await deny("no_active_grant");
        throw forbidden(
          "You have no active access grant for this subject. Request one on the Grants page (POST /api/v1/staff/grants) with the categories and purpose; it applies once another officer approves it.",
          "no_active_grant",
        );
      }
      const training = await staffService.trainingStatus(reader.staffId);
      if (!training.eligible) {
        await deny(training.reason, grant.purpose);
        const reason = training.reason as Exclude<typeof training.reason, "ok">;
        throw forbidden(TRAINING_MESSAGES[reason], reason);
      }
      const covered = new Set(active.flatMap((g) => g.categories));
      const childrenGranted = active.some((g) => g.scope === "children-pi");
      const fields = createSubjectFieldRepo(db, vault);
      const all = await fields.getAll(subjectId);
      const out: MaskedCategory[] = [];
      for (const [categoryId, values] of Object.entries(all)) {
        const category = categories.get(categoryId);
        if (!category) continue;
        const controls = controlsFor(category);
        if (controls.grantRequired && !covered.has(categoryId)) continue;
        if (controls.children && !childrenGranted) continue;
        const kinds = new Map(category.fields.map((f) => [f.id, f.kind]));
        out.push({
          category: categoryId,
          grade: controls.grade,
          children: controls.children,
          fields: Object.entries(values).map(([field, value]) => {
            const kind = kinds.get(field) ?? "other";
            const visibility = fieldVisibility(reader.role, kind);
            return {
              field,
              kind,
              visibility,
              value: visibility === "hidden" ? null : visibility === "plain" ? value : maskValue(kind, value),
            };
          }),
        });
      }
      await ledger.appendMany(
        db,
        (out.length ? out : [{ category: null }]).map((c) => ({
          actorType: "staff" as const,
          actorId: reader.staffId,
          action: "read" as const,
          subjectId,
          category: c.category,
          purpose: grant.purpose,
          outcome: "allowed" as const,
          requestId,
          details: { grantId: grant.id },
        })),
      );
      return {
        subjectId,
        grantId: grant.id,
        purpose: grant.purpose,
        expiresAt: (grant.expires_at ?? now).toISOString(),
        categories: out,
      };
    },
  };
  return service;
}

export type GrantService = ReturnType<typeof createGrantService>;
