import type { Clock } from "@custos/core";
import { LANGUAGES, type Language, type Manifest } from "@custos/manifest";
import { createDecisionReportRepo, type DB, type DecisionEventRow, type DecisionUseRow } from "@custos/store";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import type { RequireStaff } from "../staff/staff-routes.ts";
import type { ConsentService } from "./consent-service.ts";
import { DAY_MS, isoDay, reportRange } from "./report-range.ts";

/**
 * The console's decision report (issue 4, "Decisions"): for a period, what each service asked to use
 * for each purpose, and how often Custos said no and why: processing as it happened, beside what the
 * manifest declares. Aggregates only: no subject id or other personal information is in the answer.
 * Needs the `report.read` operation.
 */

type Deps = {
  db: Kysely<DB>;
  manifest: Manifest;
  clock: Clock;
  requireStaff: RequireStaff;
  consent: Pick<ConsentService, "flushDecisionCounts" | "flushDenials">;
};

/** The longest range, so a query stays bounded: a year. */
export const MAX_DECISION_REPORT_DAYS = 366;
const DEFAULT_DAYS = 30;

const Count = z.number().int().min(0);
const PurposeBody = z.object({
  purposeId: z.string().max(100),
  /** The manifest's name, or the id of a purpose it does not declare (asked for anyway, and denied). */
  name: z.string().max(200),
  declared: z.boolean(),
  /**
   * Allowed decisions counted per category (one with several categories counts under each, one with
   * none under "none"), with the category's name ("none" and unknown ids keep their id).
   */
  categories: z.array(z.object({ category: z.string().max(100), name: z.string().max(200), count: Count })),
  /** The same counts, summed. */
  allowedUses: Count,
  /** Allowed decisions that touched a sensitive category (audited one by one). */
  allowedSensitive: Count,
  denied: Count,
  /** Why, most frequent first. */
  reasons: z.array(z.object({ reason: z.string().max(500), count: Count })),
});
const ReportBody = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    services: z.array(
      z.object({
        service: z.string().max(200),
        allowedUses: Count,
        allowedSensitive: Count,
        denied: Count,
        purposes: z.array(PurposeBody),
      }),
    ),
  })
  .meta({ id: "DecisionReport" });

export type DecisionReport = z.output<typeof ReportBody>;
export type DecisionReportPurpose = z.output<typeof PurposeBody>;

/**
 * The report from the repository's rows: services by name, and in each the purposes in manifest
 * order, then any purpose the manifest does not declare.
 */
export function buildDecisionReport(
  manifest: Manifest,
  lang: Language,
  range: { from: Date; to: Date },
  uses: readonly DecisionUseRow[],
  events: readonly DecisionEventRow[],
): DecisionReport {
  const order = new Map(manifest.purposes.map((p, i) => [p.id, i]));
  const names = new Map(manifest.purposes.map((p) => [p.id, p.name[lang]]));
  const categoryNames = new Map(manifest.categories.map((c) => [c.id, c.name[lang]]));
  const services = new Map<string, Map<string, DecisionReportPurpose>>();
  const entry = (service: string, purposeId: string): DecisionReportPurpose => {
    let purposes = services.get(service);
    if (!purposes) {
      purposes = new Map();
      services.set(service, purposes);
    }
    let p = purposes.get(purposeId);
    if (!p) {
      p = {
        purposeId,
        name: names.get(purposeId) ?? purposeId,
        declared: order.has(purposeId),
        categories: [],
        allowedUses: 0,
        allowedSensitive: 0,
        denied: 0,
        reasons: [],
      };
      purposes.set(purposeId, p);
    }
    return p;
  };
  for (const u of uses) {
    const p = entry(u.service, u.purposeId);
    p.categories.push({
      category: u.category,
      name: categoryNames.get(u.category) ?? u.category,
      count: u.count,
    });
    p.allowedUses += u.count;
  }
  for (const e of events) {
    const p = entry(e.service, e.purposeId);
    if (e.outcome === "allowed") p.allowedSensitive += e.count;
    else {
      p.denied += e.count;
      const known = p.reasons.find((r) => r.reason === e.reason);
      if (known) known.count += e.count;
      else p.reasons.push({ reason: e.reason, count: e.count });
    }
  }
  const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
  const rank = (p: DecisionReportPurpose) => order.get(p.purposeId) ?? Number.MAX_SAFE_INTEGER;
  return {
    from: isoDay(range.from),
    to: isoDay(range.to),
    services: [...services.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([service, purposes]) => {
        const list = [...purposes.values()]
          .map((p) => ({ ...p, categories: p.categories.sort(byCount), reasons: p.reasons.sort(byCount) }))
          .sort((a, b) => rank(a) - rank(b) || (a.purposeId < b.purposeId ? -1 : 1));
        return {
          service,
          allowedUses: list.reduce((s, p) => s + p.allowedUses, 0),
          allowedSensitive: list.reduce((s, p) => s + p.allowedSensitive, 0),
          denied: list.reduce((s, p) => s + p.denied, 0),
          purposes: list,
        };
      }),
  };
}

export function registerDecisionReportRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const repo = createDecisionReportRepo(deps.db);

  r.get(
    "/api/v1/staff/reports/decisions",
    {
      schema: {
        tags: ["decisions"],
        operationId: "getDecisionReport",
        summary:
          "What each service asked to use, per purpose, and why it was refused (aggregates only; report.read)",
        description:
          "Per service and purpose over whole UTC days from `from` to `to` (inclusive; default the last 30 days, at most 366): allowed decisions counted per category (`allowedUses`; a decision for several categories counts under each, one without under `none`), allowed decisions touching a sensitive category (`allowedSensitive`), and denials with their reasons. Decisions not yet written (at most a few seconds' worth) are written first. No subject ids are returned.",
        querystring: z.strictObject({
          from: z.iso.date().optional(),
          to: z.iso.date().optional(),
          lang: z.enum(LANGUAGES).optional(),
        }),
        response: { 200: ReportBody, 401: ErrorBody, 403: ErrorBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.requireStaff(request, "report.read");
      const { from, to } = reportRange(request.query, deps.clock.now(), {
        defaultDays: DEFAULT_DAYS,
        maxDays: MAX_DECISION_REPORT_DAYS,
        what: "the decision report",
      });
      // What is still queued in memory (counts of the last seconds, denials of the last 250 ms).
      await Promise.all([deps.consent.flushDecisionCounts(), deps.consent.flushDenials()]);
      const range = { from, to: new Date(to.getTime() + DAY_MS) };
      const [uses, events] = await Promise.all([repo.allowedUses(range), repo.decisionEvents(range)]);
      const lang = request.query.lang ?? languageFromHeader(request.headers["accept-language"]);
      reply.header("cache-control", "no-store");
      return buildDecisionReport(deps.manifest, lang, { from, to }, uses, events);
    },
  );
}
