import type { Clock } from "@custos/core";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, type AuditLedger, type DB, verifyAuditLedger } from "@custos/store";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import type { RequireStaff } from "../staff/staff-routes.ts";

type Deps = { db: Kysely<DB>; clock: Clock; ledger: AuditLedger; requireStaff: RequireStaff };

const code = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:/-]+$/, "must be an id or code");

const AuditEvent = z
  .object({
    id: z.number().int(),
    occurredAt: z.iso.datetime(),
    actorType: z.string().max(20),
    actorId: z.string().max(200),
    action: z.string().max(40),
    subjectId: z.string().max(64).nullable(),
    category: z.string().max(100).nullable(),
    purpose: z.string().max(100).nullable(),
    outcome: z.string().max(20),
    reason: z.string().max(500).nullable(),
    requestId: z.string().max(200).nullable(),
    details: z.record(z.string(), z.unknown()),
    batchId: z.number().int().nullable(),
  })
  .meta({ id: "AuditEvent" });

const VerifyResult = z
  .object({
    ok: z.boolean(),
    batches: z.number().int(),
    events: z.number().int(),
    unsealed: z.number().int().optional(),
    head: z
      .object({ batchId: z.number().int(), hash: z.string().max(128) })
      .nullable()
      .optional(),
    brokenAt: z.unknown().optional(),
    warnings: z.array(z.string().max(1000)),
  })
  .meta({ id: "AuditVerifyResult" });

/** The audit log in the console (SEC-4): filtered listing and chain verification. */
export function registerAuditRoutes(app: FastifyInstance, { db, clock, ledger, requireStaff }: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const responses = { 401: ErrorBody, 403: ErrorBody, ...errorResponses } as const;

  r.get(
    "/api/v1/audit/events",
    {
      schema: {
        tags: ["audit"],
        operationId: "listAuditEvents",
        summary: "Audit events, newest first, filtered; pass nextCursor back as cursor",
        querystring: z.strictObject({
          actor: code.optional(),
          subject: z.uuid().optional(),
          action: z.enum(AUDIT_ACTIONS).optional(),
          category: code.optional(),
          outcome: z.enum(AUDIT_OUTCOMES).optional(),
          from: z.iso.datetime().or(z.iso.date()).optional(),
          to: z.iso.datetime().or(z.iso.date()).optional(),
          cursor: z.string().max(20).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        response: {
          200: z.object({ events: z.array(AuditEvent), nextCursor: z.string().max(20).nullable() }),
          ...responses,
        },
      },
    },
    async (request, reply) => {
      await requireStaff(request, "audit.read");
      const q = request.query;
      reply.header("cache-control", "no-store");
      return ledger.list({
        limit: q.limit,
        ...(q.actor ? { actorId: q.actor } : {}),
        ...(q.subject ? { subjectId: q.subject } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.category ? { category: q.category } : {}),
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.from ? { from: new Date(q.from) } : {}),
        ...(q.to ? { to: new Date(q.to) } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
    },
  );

  r.post(
    "/api/v1/audit/verify",
    {
      schema: {
        tags: ["audit"],
        operationId: "verifyAuditLedger",
        summary: "Recompute the hash chain of the audit ledger and report the first broken link",
        response: { 200: VerifyResult, ...responses },
      },
    },
    async (request) => {
      const me = await requireStaff(request, "audit.verify");
      const result = await verifyAuditLedger(db, { clock });
      await ledger.append(db, {
        actorType: "staff",
        actorId: me.staffId,
        action: "verify",
        outcome: result.ok ? "allowed" : "error",
        category: "audit-ledger",
        requestId: request.id,
        details: { batches: result.batches, events: result.events },
      });
      return result;
    },
  );
}

/** Seals the ledger periodically inside the server process, stopping with it (SEC-4). */
export function registerAuditSealing(
  app: FastifyInstance,
  { ledger, intervalMs }: { ledger: AuditLedger; intervalMs: number },
): void {
  let sealer: { stop(): Promise<void> } | undefined;
  app.addHook("onReady", async () => {
    sealer = ledger.startSealing({
      intervalMs,
      onError: () => app.log.error("the audit ledger could not be sealed; retrying"),
    });
  });
  app.addHook("onClose", async () => {
    await sealer?.stop();
  });
}
