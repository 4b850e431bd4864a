import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Database, dumpPGlite, openDatabase, openPGliteFromDump } from "./database.ts";
import { migrate, readMigrations } from "./migrate.ts";

export type TestDatabaseOptions = {
  /** PostgreSQL server URL; defaults to `DATABASE_URL`. Absent or empty → in-memory PGlite. */
  url?: string | undefined;
  /** Apply the migrations (default true). */
  migrate?: boolean;
};

/** A test database; `url` is set on PostgreSQL so a test can open a second, separate pool. */
export type TestDatabase = Database & { url?: string };

/**
 * A migrated throw-away database for one test file: an in-memory PGlite, or, when `DATABASE_URL`
 * is set, a fresh database `custos_t_<random>` on that server, dropped by `close()`.
 * Test files run in parallel processes, so each call gets its own database.
 *
 * PGlite's initdb takes seconds, so the first call migrates a fresh PGlite and saves a dump of it
 * as a template (in the OS temp folder, keyed by the migrations' checksums); later calls, in any
 * process, start a new in-memory PGlite from that dump.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = "url" in options ? options.url : process.env.DATABASE_URL;
  const shouldMigrate = options.migrate ?? true;
  if (!serverUrl) {
    if (!shouldMigrate) return openDatabase();
    return openMigratedPGlite();
  }

  const name = `custos_t_${randomBytes(6).toString("hex")}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let database: Database;
  try {
    database = await openDatabase({ url: url.toString(), poolSize: 5 });
    if (shouldMigrate) await migrate(database.db);
  } catch (err) {
    await adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
    throw err;
  }
  const opened = database;
  let closed = false;
  return {
    db: opened.db,
    kind: opened.kind,
    url: url.toString(),
    async close() {
      if (closed) return;
      closed = true;
      await opened.close();
      await adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

let templatePromise: Promise<Blob | undefined> | undefined;

async function templatePath(): Promise<string> {
  const files = await readMigrations();
  const hash = createHash("sha256");
  for (const f of files) hash.update(`${f.file}:${f.checksum}\n`);
  return join(tmpdir(), `custos-pglite-template-${hash.digest("hex").slice(0, 16)}.tar`);
}

async function loadTemplate(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(await templatePath())]);
  } catch {
    return undefined;
  }
}

async function openMigratedPGlite(): Promise<Database> {
  templatePromise ??= loadTemplate();
  const template = await templatePromise;
  if (template) {
    try {
      const database = await openPGliteFromDump(template);
      await migrate(database.db); // a no-op that also verifies the template
      return database;
    } catch {
      // A damaged or stale template: fall through and rebuild it.
      templatePromise = undefined;
    }
  }
  const database = await openDatabase();
  await migrate(database.db);
  const dump = await dumpPGlite(database);
  const path = await templatePath();
  const partial = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, path); // atomic: other processes see the whole file or none
  templatePromise = Promise.resolve(dump);
  await removeStaleTemplates(path);
  return database;
}

/** Templates of older migration sets (≈40 MB each) are removed once nobody is likely to read them. */
async function removeStaleTemplates(current: string): Promise<void> {
  const dir = tmpdir();
  const cutoff = Date.now() - 10 * 60_000;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith("custos-pglite-template-")) continue;
    const path = join(dir, name);
    if (path === current) continue;
    try {
      if ((await stat(path)).mtimeMs < cutoff) await unlink(path);
    } catch {
      // Already removed by another process.
    }
  }
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
