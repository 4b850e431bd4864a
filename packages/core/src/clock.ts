/**
 * The source of "now". Inject it so tests control time. `nowMs`, when a clock has it, is
 * `now().getTime()` without making a Date (for hot paths that only compare times).
 */
export type Clock = { now(): Date; nowMs?(): number };

export const systemClock: Clock = { now: () => new Date(), nowMs: Date.now };

/** The clock's time in ms since the epoch. */
export function nowMsOf(clock: Clock): number {
  return clock.nowMs ? clock.nowMs() : clock.now().getTime();
}

/** A clock stuck at `date` until moved with `set` or `advance` (milliseconds). */
export type FixedClock = Clock & { set(date: Date): void; advance(ms: number): void };

export function fixedClock(date: Date | string | number): FixedClock {
  let current = new Date(date).getTime();
  if (Number.isNaN(current)) throw new TypeError("fixedClock needs a valid date");
  return {
    now: () => new Date(current),
    nowMs: () => current,
    set: (next: Date) => {
      current = next.getTime();
    },
    advance: (ms: number) => {
      current += ms;
    },
  };
}
