import type { Clock } from "@custos/core";
import { LANGUAGES, type Language, type Manifest } from "@custos/manifest";
import {
  type ConsentReportBucket,
  type ConsentReportRow,
  createConsentReportRepo,
  type DB,
} from "@custos/store";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Kysely } from "kysely";
import { z } from "zod";
import { ErrorBody, errorResponses } from "../errors.ts";
import { languageFromHeader } from "../policy/policy-service.ts";
import type { RequireStaff } from "../staff/staff-routes.ts";
import { DAY_MS, isoDay, reportRange, startOfUtcDay } from "./report-range.ts";

/**
 * The console's consent report (issue 4, pages): per purpose and day or week, how many consents were
 * given, refused and withdrawn, and the given-rate among the subjects asked. Aggregates only: no
 * subject id or other personal information is in the answer. Needs the `report.read` operation.
 */

type Deps = { db: Kysely<DB>; manifest: Manifest; clock: Clock; requireStaff: RequireStaff };

/** The longest range, so an answer stays small: a year of days, or three years of weeks. */
export const MAX_REPORT_DAYS: Record<ConsentReportBucket, number> = { day: 366, week: 3 * 366 };
/** The default range when `from` is not given: 30 days, or 12 weeks. */
const DEFAULT_DAYS: Record<ConsentReportBucket, number> = { day: 30, week: 84 };

/** The Monday of the ISO week containing `d` (UTC), as PostgreSQL's date_trunc('week') does. */
const startOfBucket = (d: Date, bucket: ConsentReportBucket) => {
  const day = startOfUtcDay(d);
  if (bucket === "day") return day;
  const back = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - back * DAY_MS);
};

export type ConsentReportPoint = {
  bucket: string;
  given: number;
  refused: number;
  withdrawn: number;
  asked: number;
  gave: number;
  /** gave / asked, rounded to 4 decimals; null when nobody was asked in the bucket. */
  givenRate: number | null;
};

export type ConsentReport = {
  from: string;
  to: string;
  bucket: ConsentReportBucket;
  buckets: string[];
  purposes: {
    purposeId: string;
    name: string;
    consent: "policy" | "separate" | null;
    function: "basic" | "extended" | null;
    series: ConsentReportPoint[];
  }[];
};

/**
 * The report from the repository's rows: every bucket of the range for every consent-based purpose of
 * the manifest (zeros where nothing happened), then any other purpose found in the ledger.
 */
export function buildConsentReport(
  manifest: Manifest,
  lang: Language,
  range: { from: Date; to: Date; bucket: ConsentReportBucket },
  rows: readonly ConsentReportRow[],
): ConsentReport {
  const step = range.bucket === "week" ? 7 * DAY_MS : DAY_MS;
  const buckets: string[] = [];
  for (let t = startOfBucket(range.from, range.bucket).getTime(); t <= range.to.getTime(); t += step)
    buckets.push(isoDay(new Date(t)));
  const byPurpose = new Map<string, Map<string, ConsentReportRow>>();
  for (const r of rows) {
    const m = byPurpose.get(r.purposeId) ?? new Map<string, ConsentReportRow>();
    m.set(isoDay(r.bucketStart), r);
    byPurpose.set(r.purposeId, m);
  }
  const declared = manifest.purposes.filter((p) => p.consent !== "none");
  const known = new Set(declared.map((p) => p.id));
  const others = [...byPurpose.keys()].filter((id) => !known.has(id)).sort();
  const series = (purposeId: string): ConsentReportPoint[] =>
    buckets.map((bucket) => {
      const r = byPurpose.get(purposeId)?.get(bucket);
      const asked = r?.asked ?? 0;
      const gave = r?.gave ?? 0;
      return {
        bucket,
        given: r?.given ?? 0,
        refused: r?.refused ?? 0,
        withdrawn: r?.withdrawn ?? 0,
        asked,
        gave,
        givenRate: asked === 0 ? null : Math.round((gave / asked) * 10_000) / 10_000,
      };
    });
  return {
    from: isoDay(range.from),
    to: isoDay(range.to),
    bucket: range.bucket,
    buckets,
    purposes: [
      ...declared.map((p) => ({
        purposeId: p.id,
        name: p.name[lang],
        consent: p.consent as "policy" | "separate",
        function: p.function,
        series: series(p.id),
      })),
      // A purpose no longer in the manifest still has its history.
      ...others.map((id) => ({ purposeId: id, name: id, consent: null, function: null, series: series(id) })),
    ],
  };
}

const Point = z.object({
  bucket: z.iso.date(),
  given: z.number().int(),
  refused: z.number().int(),
  withdrawn: z.number().int(),
  asked: z.number().int(),
  gave: z.number().int(),
  givenRate: z.number().min(0).max(1).nullable(),
});

const ReportBody = z
  .object({
    from: z.iso.date(),
    to: z.iso.date(),
    bucket: z.enum(["day", "week"]),
    buckets: z.array(z.iso.date()),
    purposes: z.array(
      z.object({
        purposeId: z.string().max(64),
        name: z.string().max(200),
        consent: z.enum(["policy", "separate"]).nullable(),
        function: z.enum(["basic", "extended"]).nullable(),
        series: z.array(Point),
      }),
    ),
  })
  .meta({ id: "ConsentReport" });

export function registerConsentReportRoutes(app: FastifyInstance, deps: Deps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const repo = createConsentReportRepo(deps.db);

  r.get(
    "/api/v1/staff/reports/consent",
    {
      schema: {
        tags: ["consent"],
        operationId: "getConsentReport",
        summary: "Consent rates per purpose over time (aggregates only; staff with report.read)",
        description:
          "Per consent-based purpose and bucket (UTC day, or ISO week from Monday): events given, refused and withdrawn; `asked` = distinct subjects who answered (given or refused), `gave` = those whose last answer in the bucket was given, `givenRate` = gave / asked (null when nobody was asked). `from` and `to` are inclusive dates; default: the last 30 days (day) or 12 weeks (week). No subject ids are returned.",
        querystring: z.strictObject({
          from: z.iso.date().optional(),
          to: z.iso.date().optional(),
          bucket: z.enum(["day", "week"]).default("day"),
          lang: z.enum(LANGUAGES).optional(),
        }),
        response: { 200: ReportBody, 401: ErrorBody, 403: ErrorBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.requireStaff(request, "report.read");
      const { bucket } = request.query;
      const { from, to } = reportRange(request.query, deps.clock.now(), {
        defaultDays: DEFAULT_DAYS[bucket],
        maxDays: MAX_REPORT_DAYS[bucket],
        what: `a report by ${bucket}`,
        ...(bucket === "day" ? { shorten: " or group by week" } : {}),
      });
      // Whole buckets: from the start of the first bucket to the end of the `to` day.
      const rows = await repo.purposeCounts({
        from: startOfBucket(from, bucket),
        to: new Date(to.getTime() + DAY_MS),
        bucket,
      });
      const lang = request.query.lang ?? languageFromHeader(request.headers["accept-language"]);
      reply.header("cache-control", "no-store");
      return buildConsentReport(deps.manifest, lang, { from, to, bucket }, rows);
    },
  );
}
