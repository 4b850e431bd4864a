import type { Kysely } from "kysely";
import type { DB } from "./db-types.ts";

/** Runs `fn` in `db`'s transaction when `db` is one, otherwise in a new transaction. */
export async function inTransaction<T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute(fn);
}
