import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { DB } from "./db-types.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import { preparedSession } from "./pglite-prepared.ts";
import { type PGliteSession, PGliteThread } from "./pglite-thread.ts";
import { OID, parseByteaHex, parseDate, parseInt8 } from "./type-mapping.ts";

export type DatabaseKind = "pglite" | "postgres";

export type Database = {
  db: Kysely<DB>;
  kind: DatabaseKind;
  close(): Promise<void>;
};

export type OpenDatabaseOptions = {
  /** A postgres:// URL. Absent → embedded PGlite. */
  url?: string;
  /** PGlite data folder (created if missing). Absent → PGlite in memory. Ignored with `url`. */
  dataDir?: string;
  /** node-postgres pool size (PostgreSQL only). */
  poolSize?: number;
  /** PGlite only: how long a query waits for the single connection before failing (default 20 s). */
  acquireTimeoutMs?: number;
  /**
   * PGlite with a data folder only: run PostgreSQL on a thread of its own (PGliteThread, the
   * default) or on the calling thread (false). In memory it always runs on the calling thread.
   */
  pgliteThread?: boolean;
};

/** Opens PGlite (default) or PostgreSQL. The schema is not migrated here: call `migrate(db)`. */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.poolSize);
  if (options.dataDir && options.pgliteThread !== false)
    return openPGliteThread(options.dataDir, options.acquireTimeoutMs);
  return openPGlite(options.dataDir, undefined, options.acquireTimeoutMs);
}

async function openPGliteThread(dataDir: string, acquireTimeoutMs?: number): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  const thread = await PGliteThread.open(dataDir);
  return pgliteDatabase(thread, acquireTimeoutMs, () => thread.close());
}

async function openPGlite(
  dataDir: string | undefined,
  loadDataDir?: Blob,
  acquireTimeoutMs?: number,
): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
    parsers: {
      [OID.INT8]: parseInt8,
      [OID.DATE]: parseDate,
      [OID.BYTEA]: parseByteaHex,
    },
  });
  const database = pgliteDatabase(preparedSession(pglite), acquireTimeoutMs, () => pglite.close());
  pgliteOf.set(database.db, pglite);
  return database;
}

function pgliteDatabase(
  session: PGliteSession,
  acquireTimeoutMs: number | undefined,
  closeSession: () => Promise<void>,
): Database {
  const db = new Kysely<DB>({
    dialect: new PGliteDialect(session, acquireTimeoutMs === undefined ? {} : { acquireTimeoutMs }),
  });
  let closed = false;
  return {
    db,
    kind: "pglite",
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await closeSession();
    },
  };
}

const pgliteOf = new WeakMap<Kysely<DB>, PGlite>();

/**
 * In-memory PGlite started from a data-folder dump (`PGlite.dumpDataDir`). Starting from a dump
 * skips initdb, which takes seconds; createTestDatabase uses it for a migrated template.
 */
export async function openPGliteFromDump(dump: Blob): Promise<Database> {
  return openPGlite(undefined, dump);
}

/** Dumps an in-memory PGlite database opened by this module (for test templates). */
export async function dumpPGlite(database: Database): Promise<Blob> {
  const pglite = pgliteOf.get(database.db);
  if (!pglite) throw new Error("dumpPGlite needs a PGlite database opened by openDatabase");
  return pglite.dumpDataDir("none");
}

const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (format !== "binary") {
      if (oid === OID.INT8) return parseInt8;
      if (oid === OID.DATE) return parseDate;
    }
    // biome-ignore lint/suspicious/noExplicitAny: node-postgres types its parser registry loosely.
    return (pg.types.getTypeParser as (oid: number, format?: any) => any)(oid, format);
  },
};

function openPostgres(url: string, poolSize = 10): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    kind: "postgres",
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
