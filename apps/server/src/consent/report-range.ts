import { AppError } from "@custos/core";

/** Whole UTC days for the console's reports: parsing and checking the `from` / `to` of a query. */

export const DAY_MS = 86_400_000;

export const isoDay = (d: Date) => d.toISOString().slice(0, 10);
export const startOfUtcDay = (d: Date) =>
  new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));

/**
 * The range a report covers, as midnights (UTC) of its first and last day: `to` defaults to today,
 * `from` to `defaultDays` days before it (inclusive). A range that runs backwards, or is longer than
 * `maxDays`, is refused (400) with what to do (`shorten`: the advice after "Shorten the range").
 */
export function reportRange(
  query: { from?: string | undefined; to?: string | undefined },
  today: Date,
  limits: { defaultDays: number; maxDays: number; what: string; shorten?: string },
): { from: Date; to: Date } {
  const to = query.to ? new Date(`${query.to}T00:00:00Z`) : startOfUtcDay(today);
  const from = query.from
    ? new Date(`${query.from}T00:00:00Z`)
    : new Date(to.getTime() - (limits.defaultDays - 1) * DAY_MS);
  if (from > to)
    throw new AppError("validation_failed", {
      message: `The range starts (${isoDay(from)}) after it ends (${isoDay(to)}). Give a from date on or before the to date.`,
      details: { field: "from" },
    });
  const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
  if (days > limits.maxDays)
    throw new AppError("validation_failed", {
      message: `The range is ${days} days; ${limits.what} covers at most ${limits.maxDays} days. Shorten the range${limits.shorten ?? ""}.`,
      details: { field: "from", maxDays: limits.maxDays },
    });
  return { from, to };
}
