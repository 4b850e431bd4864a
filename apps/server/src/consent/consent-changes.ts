import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * The in-process feed of consent changes: after a consent event commits, the ids of the subjects it
 * touched are published here with a sequence number, and the decision stream (server-sent events)
 * pushes their new state to connected SDKs.
 *
 * Each feed has an `epoch` (random, new on every start) and numbers its changes 1, 2, 3, …; the
 * stream's event ids are `<epoch>-<seq>`, so an id from before a restart (or from another server
 * instance) is recognised as foreign and the SDK reloads its snapshot instead of missing changes.
 *
 * The feed keeps the subject ids of its recent changes (a ring bounded by the number of ids), so a
 * stream that reconnects with a recent `Last-Event-ID` gets the subjects it missed (`since`). A
 * `gap` (the PostgreSQL bridge lost its connection, so changes of other instances may be missing)
 * empties the ring: every reconnect before it then needs a full reload.
 */
export type ConsentChange = {
  seq: number;
  subjectIds: readonly string[];
  /** Received from another server instance (PostgreSQL NOTIFY), not committed in this process. */
  remote?: boolean;
};
export type ConsentChangeListener = (change: ConsentChange) => void;

export type ConsentChangesOptions = {
  /** How many subject ids (summed over the recent changes) the replay ring keeps (default 20,000). */
  retainSubjects?: number;
};

export const DEFAULT_RETAIN_SUBJECTS = 20_000;

export function createConsentChanges(options: ConsentChangesOptions = {}) {
  const retainSubjects = options.retainSubjects ?? DEFAULT_RETAIN_SUBJECTS;
  const listeners = new Set<ConsentChangeListener>();
  const gapListeners = new Set<() => void>();
  const epoch = randomBytes(5).toString("hex");
  let seq = 0;
  /** Recent changes, oldest first, and the number of subject ids they hold. */
  let ring: ConsentChange[] = [];
  let ringStart = 0;
  let retained = 0;
  /** No replay reaches back to or before this sequence number (a gap, or the start). */
  let floor = 0;

  function emit(subjectIds: readonly string[], remote: boolean): ConsentChange | undefined {
    if (subjectIds.length === 0) return undefined;
    seq += 1;
    const change: ConsentChange = {
      seq,
      subjectIds: [...new Set(subjectIds)],
      ...(remote ? { remote } : {}),
    };
    ring.push(change);
    retained += change.subjectIds.length;
    while (retained > retainSubjects && ringStart < ring.length) {
      const dropped = ring[ringStart] as ConsentChange;
      retained -= dropped.subjectIds.length;
      floor = dropped.seq;
      ringStart += 1;
    }
    if (ringStart > 1024 && ringStart * 2 > ring.length) {
      ring = ring.slice(ringStart);
      ringStart = 0;
    }
    for (const listener of listeners) listener(change);
    return change;
  }

  return {
    /** Random per process start: event ids of another epoch cannot be replayed. */
    epoch,
    /** Publishes subjects whose consent state changed; call only after the transaction committed. */
    publish(subjectIds: readonly string[]): ConsentChange | undefined {
      return emit(subjectIds, false);
    },
    /** Publishes a change committed by another server instance (from the PostgreSQL bridge). */
    publishRemote(subjectIds: readonly string[]): ConsentChange | undefined {
      return emit(subjectIds, true);
    },
    subscribe(listener: ConsentChangeListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Called when changes may have been missed; every replay from before now is refused. */
    onGap(listener: () => void): () => void {
      gapListeners.add(listener);
      return () => gapListeners.delete(listener);
    },
    /** Marks that changes may have been missed (e.g. the cross-instance bridge reconnected). */
    markGap(): void {
      floor = seq;
      ring = [];
      ringStart = 0;
      retained = 0;
      for (const listener of gapListeners) listener();
    },
    /**
     * The subjects changed after `afterSeq` (deduplicated) and the sequence number they run to,
     * or undefined when that point is no longer (or never was) in the ring: the caller must reload.
     */
    since(afterSeq: number): { subjectIds: string[]; seq: number } | undefined {
      if (!Number.isSafeInteger(afterSeq) || afterSeq < floor || afterSeq > seq) return undefined;
      const ids = new Set<string>();
      for (let i = ringStart; i < ring.length; i++) {
        const change = ring[i] as ConsentChange;
        if (change.seq > afterSeq) for (const id of change.subjectIds) ids.add(id);
      }
      return { subjectIds: [...ids], seq };
    },
    get seq(): number {
      return seq;
    },
    get listenerCount(): number {
      return listeners.size;
    },
  };
}
export type ConsentChanges = ReturnType<typeof createConsentChanges>;

/** The PostgreSQL channel that carries consent changes between server instances. */
export const CONSENT_CHANGES_CHANNEL = "custos_consent_changes";
/** NOTIFY payloads must stay under 8,000 bytes: this many UUIDs a message at most. */
const IDS_PER_NOTIFY = 150;

export type ConsentChangesBridge = {
  /** Resolves when the first LISTEN is in place (rejects if the first connection fails). */
  ready: Promise<void>;
  close(): Promise<void>;
};

/**
 * Carries consent changes between server instances on one PostgreSQL database (LISTEN/NOTIFY):
 * every change published in this process is NOTIFYed as `{ o: epoch, s: subjectIds }`, and every
 * notification from another instance is published here as a remote change, so an SDK connected to
 * any instance hears of every change. The listening connection reconnects with backoff; after a
 * reconnect it marks a gap (changes of other instances may have been missed while it was down), and
 * the decision stream tells its SDKs to reload. With PGlite (one process) the feed needs no bridge.
 */
export function bridgeConsentChanges(
  changes: ConsentChanges,
  options: {
    url: string;
    /**
     * Sends one NOTIFY (`select pg_notify(channel, payload)`), through the app's own pool: a change
     * committed while the listening connection is down still reaches the other instances.
     */
    notify: (channel: string, payload: string) => Promise<void>;
    onError?: (error: unknown) => void;
    reconnectMaxMs?: number;
  },
): ConsentChangesBridge {
  let client: pg.Client | undefined;
  let closed = false;
  let backoff = 250;
  let retryTimer: NodeJS.Timeout | undefined;
  /** Whether a connection was lost or failed: changes of other instances may have been missed. */
  let missedSome = false;
  const onError = options.onError ?? (() => {});
  const maxMs = options.reconnectMaxMs ?? 10_000;

  const unsubscribe = changes.subscribe((change) => {
    if (change.remote) return;
    for (let i = 0; i < change.subjectIds.length; i += IDS_PER_NOTIFY) {
      const payload = JSON.stringify({ o: changes.epoch, s: change.subjectIds.slice(i, i + IDS_PER_NOTIFY) });
      options.notify(CONSENT_CHANGES_CHANNEL, payload).catch(onError);
    }
  });

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: options.url });
    c.on("notification", (message) => {
      if (message.channel !== CONSENT_CHANGES_CHANNEL || !message.payload) return;
      try {
        const body = JSON.parse(message.payload) as { o?: unknown; s?: unknown };
        if (body.o === changes.epoch || !Array.isArray(body.s)) return;
        const ids = body.s.filter((x): x is string => typeof x === "string" && x.length <= 64);
        changes.publishRemote(ids);
      } catch (error) {
        onError(error);
      }
    });
    c.on("error", (error) => {
      onError(error);
      lost(c);
    });
    c.on("end", () => lost(c));
    try {
      await c.connect();
      await c.query(`listen ${CONSENT_CHANGES_CHANNEL}`);
    } catch (error) {
      c.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    backoff = 250;
    // Changes of other instances may have passed while no connection listened.
    if (missedSome) changes.markGap();
    missedSome = false;
  }

  function lost(c: pg.Client) {
    if (client !== c) return;
    client = undefined;
    c.end().catch(() => {});
    scheduleReconnect();
  }

  function scheduleReconnect() {
    missedSome = true;
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().catch((error) => {
        onError(error);
        scheduleReconnect();
      });
    }, backoff);
    retryTimer.unref();
    backoff = Math.min(backoff * 2, maxMs);
  }

  const ready = connect();
  ready.catch((error) => {
    onError(error);
    scheduleReconnect();
  });

  return {
    ready,
    async close() {
      closed = true;
      unsubscribe();
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
    },
  };
}
