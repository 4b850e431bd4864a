import type { AccountDb } from "./account-tables.ts";
import { withAccounts } from "./account-tables.ts";

export type StoredLoginEvent = {
  id: string;
  subjectId: string;
  occurredAt: Date;
  method: string;
  newDevice: boolean;
  keyGroup: string;
  ciphertext: Buffer;
};

/** Login records (encrypted IP and user agent) and the devices a subject signed in from (ACC-6). */
export function createLoginEventRepo(database: AccountDb) {
  const db = withAccounts(database);
  return {
    async insert(e: StoredLoginEvent) {
      await db
        .insertInto("login_events")
        .values({
          id: e.id,
          subject_id: e.subjectId,
          occurred_at: e.occurredAt,
          method: e.method,
          new_device: e.newDevice,
          key_group: e.keyGroup,
          ciphertext: e.ciphertext,
        })
        .execute();
    },

    async listRecent(subjectId: string, limit: number): Promise<StoredLoginEvent[]> {
      return db
        .selectFrom("login_events")
        .select([
          "id",
          "subject_id as subjectId",
          "occurred_at as occurredAt",
          "method",
          "new_device as newDevice",
          "key_group as keyGroup",
          "ciphertext",
        ])
        .where("subject_id", "=", subjectId)
        .orderBy("occurred_at", "desc")
        .limit(limit)
        .execute();
    },

    /** Records the device; true when the subject had never signed in from it. */
    async rememberDevice(subjectId: string, deviceHash: Buffer, now: Date): Promise<boolean> {
      const inserted = await db
        .insertInto("known_devices")
        .values({ subject_id: subjectId, device_hash: deviceHash, first_seen: now, last_seen: now })
        .onConflict((oc) => oc.columns(["subject_id", "device_hash"]).doNothing())
        .returning("subject_id")
        .executeTakeFirst();
      if (inserted) return true;
      await db
        .updateTable("known_devices")
        .set({ last_seen: now })
        .where("subject_id", "=", subjectId)
        .where("device_hash", "=", deviceHash)
        .execute();
      return false;
    },
  };
}
export type LoginEventRepo = ReturnType<typeof createLoginEventRepo>;
