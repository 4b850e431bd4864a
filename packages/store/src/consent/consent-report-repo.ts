import { type Kysely, sql } from "kysely";
import type { DB } from "../db-types.ts";

/**
 * Aggregate consent figures for the console's consent report: counts per purpose and time bucket,
 * computed from the consent ledger (`consent_events`). Only counts leave this query, never subject
 * ids or anything else about a person.
 *
 * Per purpose and bucket (UTC days, or ISO weeks starting on Monday):
 * - `given`, `refused`, `withdrawn`: events of that state recorded in the bucket;
 * - `asked`: distinct subjects who answered a prompt for the purpose in the bucket (given or refused);
 * - `gave`: of those, the subjects whose last answer in the bucket was `given`.
 * The given-rate is `gave / asked`. System events (invalidations) are not answers and are left out.
 */

export type ConsentReportBucket = "day" | "week";

export type ConsentReportRow = {
  purposeId: string;
  /** Start of the bucket (UTC midnight; for weeks, the Monday). */
  bucketStart: Date;
  given: number;
  refused: number;
  withdrawn: number;
  asked: number;
  gave: number;
};

type RawRow = {
  purpose_id: string;
  bucket_start: Date | string;
  given: number;
  refused: number;
  withdrawn: number;
  asked: number;
  gave: number;
};

export function createConsentReportRepo(db: Kysely<DB>) {
  return {
    /** Counts per purpose and bucket for events with `from <= occurred_at < to`; empty buckets are absent. */
    async purposeCounts(input: {
      from: Date;
      to: Date;
      bucket: ConsentReportBucket;
    }): Promise<ConsentReportRow[]> {
      const unit = input.bucket === "week" ? "week" : "day";
      const result = await sql<RawRow>`
        with answers as (
          select
            target_id as purpose_id,
            date_trunc(${unit}, occurred_at at time zone 'UTC') at time zone 'UTC' as bucket_start,
            subject_id,
            state,
            id
          from consent_events
          where target_kind = 'purpose'
            and state in ('given', 'refused', 'withdrawn')
            and occurred_at >= ${input.from}
            and occurred_at < ${input.to}
        ),
        ranked as (
          select
            *,
            case when state in ('given', 'refused')
              then row_number() over (
                partition by purpose_id, bucket_start, subject_id, state in ('given', 'refused')
                order by id desc
              )
            end as answer_rank
          from answers
        )
        select
          purpose_id,
          bucket_start,
          (count(*) filter (where state = 'given'))::int as given,
          (count(*) filter (where state = 'refused'))::int as refused,
          (count(*) filter (where state = 'withdrawn'))::int as withdrawn,
          (count(distinct subject_id) filter (where state in ('given', 'refused')))::int as asked,
          (count(*) filter (where answer_rank = 1 and state = 'given'))::int as gave
        from ranked
        group by purpose_id, bucket_start
        order by purpose_id, bucket_start
      `.execute(db);
      return result.rows.map((r) => ({
        purposeId: r.purpose_id,
        bucketStart: r.bucket_start instanceof Date ? r.bucket_start : new Date(r.bucket_start),
        given: Number(r.given),
        refused: Number(r.refused),
        withdrawn: Number(r.withdrawn),
        asked: Number(r.asked),
        gave: Number(r.gave),
      }));
    },
  };
}
export type ConsentReportRepo = ReturnType<typeof createConsentReportRepo>;
