import type { AccountDb, ThrottleKind } from "./account-tables.ts";
import { withAccounts } from "./account-tables.ts";

export type Throttle = { windowStart: Date; failures: number; lockedUntil: Date | null };

/** Failed-attempt counters keyed by a blind index of an identifier or of an IP (ACC-3). */
export function createThrottleRepo(database: AccountDb) {
  const db = withAccounts(database);
  return {
    async get(kind: ThrottleKind, keyIndex: Buffer): Promise<Throttle | undefined> {
      return db
        .selectFrom("login_throttles")
        .select(["window_start as windowStart", "failures", "locked_until as lockedUntil"])
        .where("key_kind", "=", kind)
        .where("key_index", "=", keyIndex)
        .executeTakeFirst();
    },

    async put(kind: ThrottleKind, keyIndex: Buffer, t: Throttle) {
      await db
        .insertInto("login_throttles")
        .values({
          key_kind: kind,
          key_index: keyIndex,
          window_start: t.windowStart,
          failures: t.failures,
          locked_until: t.lockedUntil,
        })
        .onConflict((oc) =>
          oc.columns(["key_kind", "key_index"]).doUpdateSet({
            window_start: t.windowStart,
            failures: t.failures,
            locked_until: t.lockedUntil,
          }),
        )
        .execute();
    },

    async clear(kind: ThrottleKind, keyIndex: Buffer) {
      await db
        .deleteFrom("login_throttles")
        .where("key_kind", "=", kind)
        .where("key_index", "=", keyIndex)
        .execute();
    },
  };
}
export type ThrottleRepo = ReturnType<typeof createThrottleRepo>;
