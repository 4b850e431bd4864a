/**
 * The in-process feed of consent changes: after a consent event commits, the ids of the subjects it
 * touched are published here with a sequence number, and the decision stream (server-sent events)
 * pushes their new state to connected SDKs.
 */
export type ConsentChange = { seq: number; subjectIds: readonly string[] };
export type ConsentChangeListener = (change: ConsentChange) => void;

export function createConsentChanges() {
  const listeners = new Set<ConsentChangeListener>();
  let seq = 0;
  return {
    /** Publishes subjects whose consent state changed; call only after the transaction committed. */
    publish(subjectIds: readonly string[]): ConsentChange | undefined {
      if (subjectIds.length === 0) return undefined;
      seq += 1;
      const change = { seq, subjectIds: [...new Set(subjectIds)] };
      for (const listener of listeners) listener(change);
      return change;
    },
    subscribe(listener: ConsentChangeListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
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
