/**
 * Request counters in fixed one-minute (or any) windows per key, as @fastify/rate-limit's own
 * LocalStore keeps them, least recently used keys forgotten first. One instance is the plugin's
 * store and is shared with the decision fast path, so both count against the same limit.
 */

type Entry = { current: number; startMs: number };
export type WindowCount = { current: number; ttl: number };
type Callback = (error: Error | null, result: WindowCount) => void;

export class WindowCounters {
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>();
  /** The key of the last hit, which is the last key of #entries. */
  #lastKey: string | undefined;

  constructor(maxKeys = 5000) {
    this.#maxKeys = maxKeys;
  }

  /** Counts one request for `key`: the count in the current window and the ms left of it. */
  hit(key: string, windowMs: number, nowMs = Date.now()): WindowCount {
    let entry = this.#entries.get(key);
    if (!entry || entry.startMs + windowMs <= nowMs) entry = { current: 0, startMs: nowMs };
    entry.current += 1;
    // Most recently used goes last; the first key is the one to forget. The key counted last is
    // last already (a service sends request after request): it stays where it is.
    if (key !== this.#lastKey || this.#entries.get(key) !== entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#lastKey = key;
      if (this.#entries.size > this.#maxKeys)
        this.#entries.delete(this.#entries.keys().next().value as string);
    }
    return { current: entry.current, ttl: entry.startMs + windowMs - nowMs };
  }

  /** The count for `key` in the current window, without counting. */
  peek(key: string, windowMs: number, nowMs = Date.now()): WindowCount {
    const entry = this.#entries.get(key);
    if (!entry || entry.startMs + windowMs <= nowMs) return { current: 0, ttl: 0 };
    return { current: entry.current, ttl: entry.startMs + windowMs - nowMs };
  }

  /** `peek(key, windowMs).current`, without making an object (the fast path asks on every request). */
  countOf(key: string, windowMs: number, nowMs = Date.now()): number {
    const entry = this.#entries.get(key);
    return !entry || entry.startMs + windowMs <= nowMs ? 0 : entry.current;
  }

  // The store interface @fastify/rate-limit calls.
  incr(key: string, callback: Callback, timeWindow: number): void {
    callback(null, this.hit(key, timeWindow));
  }
  read(key: string, callback: Callback, timeWindow: number): void {
    callback(null, this.peek(key, timeWindow));
  }
  /** Routes with their own rate-limit options get their own counters (none do today). */
  child(): WindowCounters {
    return new WindowCounters(this.#maxKeys);
  }
}
