/** The source of "now". Inject it so tests control time. */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

/** A clock stuck at `date` until moved with `set` or `advance` (milliseconds). */
export type FixedClock = Clock & { set(date: Date): void; advance(ms: number): void };

export function fixedClock(date: Date | string | number): FixedClock {
  let current = new Date(date).getTime();
  if (Number.isNaN(current)) throw new TypeError("fixedClock needs a valid date");
  return {
    now: () => new Date(current),
    set: (next: Date) => {
      current = next.getTime();
    },
    advance: (ms: number) => {
      current += ms;
    },
  };
}
