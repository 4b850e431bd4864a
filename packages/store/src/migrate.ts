import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Kysely, sql } from "kysely";
import type { DB } from "./db-types.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

/** Arbitrary constant: the advisory lock that serialises migrators on one PostgreSQL database. */
const MIGRATION_LOCK_ID = 4_242_000_001;

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

export type MigrationFile = { version: string; name: string; file: string; sql: string; checksum: string };

/** sha256 of the file with line endings normalised, so a checkout with CRLF does not look edited. */
export function migrationChecksum(text: string): string {
  return createHash("sha256").update(text.replace(/\r\n/g, "\n")).digest("hex");
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const files: MigrationFile[] = [];
  for (const file of names) {
    const m = FILE_RE.exec(file);
    if (!m?.[1] || !m[2]) {
      throw new MigrationError(
        `migration file ${file} must be named NNNN_snake_case.sql (e.g. 0002_consent.sql)`,
      );
    }
    const text = await readFile(join(dir, file), "utf8");
    files.push({ version: m[1], name: m[2], file, sql: text, checksum: migrationChecksum(text) });
  }
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.version)) throw new MigrationError(`two migration files share version ${f.version}`);
    seen.add(f.version);
  }
  return files;
}

async function lock(trx: Kysely<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`.execute(trx);
}

/**
 * Applies pending migrations in version order, each in its own transaction, recording each in
 * `schema_migrations`. Refuses to run when an applied file's checksum changed (migrations are
 * immutable) or when the database has a migration this code does not know. Safe to call from
 * several processes at once on PostgreSQL (transaction-scoped advisory lock).
 * Returns the applied migrations as `NNNN_name`.
 */
export async function migrate(
  db: Kysely<DB>,
  options: { dir?: string } = {},
): Promise<{ applied: string[] }> {
  const files = await readMigrations(options.dir);

  await db.transaction().execute(async (trx) => {
    await lock(trx);
    await sql`
      create table if not exists schema_migrations (
        version    text primary key,
        name       text not null,
        checksum   text not null,
        applied_at timestamptz not null default now()
      )`.execute(trx);
  });

  const applied: string[] = [];
  for (const file of files) {
    const didApply = await db.transaction().execute(async (trx) => {
      await lock(trx);
      const rows = await trx
        .selectFrom("schema_migrations")
        .select(["version", "name", "checksum"])
        .execute();
      const known = new Map(rows.map((r) => [r.version, r]));
      for (const row of rows) {
        if (!files.some((f) => f.version === row.version)) {
          throw new MigrationError(
            `the database has migration ${row.version}_${row.name}, which this version of Custos does not have; run a newer version`,
          );
        }
      }
      const existing = known.get(file.version);
      if (existing) {
        if (existing.checksum !== file.checksum) {
          throw new MigrationError(
            `migration ${file.file} was changed after it was applied (checksum mismatch); migrations are immutable: restore the file and add a new migration instead`,
          );
        }
        return false;
      }
      await sql.raw(file.sql).execute(trx);
      await trx
        .insertInto("schema_migrations")
        .values({ version: file.version, name: file.name, checksum: file.checksum })
        .execute();
      return true;
    });
    if (didApply) applied.push(`${file.version}_${file.name}`);
  }
  return { applied };
}
