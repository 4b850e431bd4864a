import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.ts";
import { MIGRATIONS_DIR, migrate, readMigrations } from "./migrate.ts";
import { createTestDatabase } from "./test-database.ts";

describe("migrate", () => {
  let database: Database;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), "custos-migrations-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
  });

  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("applies every migration once and records it with its checksum", async () => {
    const files = await readMigrations();
    expect(files.map((f) => f.file)).toContain("0001_init.sql");
    const rows = await database.db.selectFrom("schema_migrations").selectAll().orderBy("version").execute();
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
    expect(rows[0]?.checksum).toBe(files[0]?.checksum);
    expect(rows[0]?.applied_at).toBeInstanceOf(Date);
  });

  it("is idempotent: a second run applies nothing", async () => {
    expect(await migrate(database.db)).toEqual({ applied: [] });
    expect(await migrate(database.db, { dir })).toEqual({ applied: [] });
  });

  it("applies a new file in a later run, and refuses an applied file whose checksum changed", async () => {
    await writeFile(
      join(dir, "9000_extra.sql"),
      "create table extra_t (id int primary key);\ninsert into extra_t values (1);",
    );
    expect(await migrate(database.db, { dir })).toEqual({ applied: ["9000_extra"] });

    const path = join(dir, "0001_init.sql");
    await writeFile(path, `${await readFile(path, "utf8")}\n-- edited\n`);
    await expect(migrate(database.db, { dir })).rejects.toThrow(
      /0001_init\.sql was changed after it was applied/,
    );
  });

  it("refuses a database with a migration the code does not know", async () => {
    await expect(migrate(database.db)).rejects.toThrow(/9000_extra.*does not have/);
  });

  it("rolls back a failing migration completely", async () => {
    const badDir = await mkdtemp(join(tmpdir(), "custos-migrations-bad-"));
    try {
      await cp(dir, badDir, { recursive: true });
      await cp(join(MIGRATIONS_DIR, "0001_init.sql"), join(badDir, "0001_init.sql"));
      await writeFile(
        join(badDir, "9001_bad.sql"),
        "create table half_t (id int);\nselect * from no_such_table;",
      );
      await expect(migrate(database.db, { dir: badDir })).rejects.toThrow(/no_such_table/);
      const found = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_tables where tablename = 'half_t'`.execute(database.db);
      expect(found.rows[0]?.n).toBe(0);
      const versions = await database.db.selectFrom("schema_migrations").select("version").execute();
      expect(versions.map((v) => v.version)).not.toContain("9001");
    } finally {
      await rm(badDir, { recursive: true, force: true });
    }
  });

  it("concurrent migrate calls on a fresh database apply each file exactly once", async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      const files = await readMigrations();
      const results = await Promise.all([migrate(fresh.db), migrate(fresh.db), migrate(fresh.db)]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(files.map((f) => `${f.version}_${f.name}`));
      const rows = await fresh.db.selectFrom("schema_migrations").select("version").execute();
      expect(rows).toHaveLength(files.length);
    } finally {
      await fresh.close();
    }
  });
});
