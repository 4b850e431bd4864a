import { type Kysely, sql } from "kysely";
import type { DB } from "../db-types.ts";

/**
 * Aggregate decision figures for the console's decision report: what each service asked to use,
 * for which purpose, and how often it was refused, from the audit tables. Only counts leave these
 * queries, never subject ids or anything else about a person.
 *
 * - `audit_counts` holds allowed, non-sensitive decisions per service, purpose, category and minute
 *   (a decision for several categories counts under each; one without a category under "none").
 * - `audit_events` of action `decide` hold the others one by one: denials, and allowed decisions
 *   that touched a sensitive category. Third-party SDK start refusals are `decide` events without
 *   a purpose, and are left out (the console's SDK page has them).
 */

export type DecisionUseRow = { service: string; purposeId: string; category: string; count: number };
export type DecisionEventRow = {
  service: string;
  purposeId: string;
  outcome: "allowed" | "denied";
  reason: string;
  count: number;
};

export function createDecisionReportRepo(db: Kysely<DB>) {
  return {
    /** Allowed non-sensitive decisions per service, purpose and category, minutes in [from, to). */
    async allowedUses(range: { from: Date; to: Date }): Promise<DecisionUseRow[]> {
      const result = await sql<{
        service: string;
        purpose: string;
        category: string;
        count: string | number;
      }>`
        select service, purpose, category, sum(count) as count
        from audit_counts
        where minute >= ${range.from} and minute < ${range.to}
        group by service, purpose, category
        order by service, purpose, category
      `.execute(db);
      return result.rows.map((r) => ({
        service: r.service,
        purposeId: r.purpose,
        category: r.category,
        count: Number(r.count),
      }));
    },

    /** Decisions audited one by one per service, purpose, outcome and reason, in [from, to). */
    async decisionEvents(range: { from: Date; to: Date }): Promise<DecisionEventRow[]> {
      const result = await sql<{
        service: string;
        purpose: string;
        outcome: "allowed" | "denied";
        reason: string | null;
        count: string | number;
      }>`
        select actor_id as service, purpose, outcome, reason, count(*) as count
        from audit_events
        where action = 'decide'
          and actor_type = 'service'
          and purpose is not null
          and outcome in ('allowed', 'denied')
          and occurred_at >= ${range.from} and occurred_at < ${range.to}
        group by actor_id, purpose, outcome, reason
        order by actor_id, purpose, outcome, reason
      `.execute(db);
      return result.rows.map((r) => ({
        service: r.service,
        purposeId: r.purpose,
        outcome: r.outcome,
        reason: r.reason ?? "unknown",
        count: Number(r.count),
      }));
    },
  };
}
export type DecisionReportRepo = ReturnType<typeof createDecisionReportRepo>;
