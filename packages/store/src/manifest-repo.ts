import { AppError } from "@custos/core";
import type { Kysely, Selectable } from "kysely";
import type { DB, ManifestVersionsTable } from "./db-types.ts";
import { inTransaction } from "./transaction.ts";

/** The part of a LoadedManifest (from @custos/manifest) that is stored. */
export type PublishManifestInput = {
  version: string;
  hash: string;
  manifest: unknown;
  source: string;
};

export type ManifestVersionSummary = {
  version: string;
  hash: string;
  publishedAt: Date;
  isCurrent: boolean;
};

export type ManifestVersion = ManifestVersionSummary & { manifest: unknown; source: string };

const VERSION_MAX = 64;
const HASH_RE = /^[0-9a-f]{64}$/;
const SOURCE_MAX = 2 * 1024 * 1024;

function toVersion(row: Selectable<ManifestVersionsTable>): ManifestVersion {
  return {
    version: row.version,
    hash: row.hash,
    manifest: row.manifest,
    source: row.source,
    publishedAt: row.published_at,
    isCurrent: row.is_current,
  };
}

function checkInput(input: PublishManifestInput): void {
  if (typeof input.version !== "string" || input.version.length === 0 || input.version.length > VERSION_MAX) {
    throw new AppError("validation_failed", {
      message: `manifest version must be 1-${VERSION_MAX} characters`,
      details: { field: "version" },
    });
  }
  if (!HASH_RE.test(input.hash)) {
    throw new AppError("validation_failed", {
      message: "manifest hash must be a sha256 hex digest (64 lower-case hex characters)",
      details: { field: "hash" },
    });
  }
  if (input.source.length > SOURCE_MAX) {
    throw new AppError("payload_too_large", {
      message: `manifest source must be at most ${SOURCE_MAX} characters`,
    });
  }
}

/** Published manifests (policy versions). Takes `db` or a transaction. */
export function createManifestRepo(db: Kysely<DB>) {
  return {
    /**
     * Publishes a manifest version and makes it current. Publishing the same version with the same
     * hash again is a no-op (`created: false`, current version unchanged); the same version with a
     * different hash is a `conflict`: published versions are immutable.
     */
    async publish(input: PublishManifestInput): Promise<{ version: string; created: boolean }> {
      checkInput(input);
      return inTransaction(db, async (trx) => {
        const inserted = await trx
          .insertInto("manifest_versions")
          .values({
            version: input.version,
            hash: input.hash,
            manifest: JSON.stringify(input.manifest),
            source: input.source,
            is_current: false,
          })
          .onConflict((oc) => oc.column("version").doNothing())
          .returning("version")
          .executeTakeFirst();
        if (!inserted) {
          const existing = await trx
            .selectFrom("manifest_versions")
            .select("hash")
            .where("version", "=", input.version)
            .executeTakeFirstOrThrow();
          if (existing.hash !== input.hash) {
            throw new AppError("conflict", {
              message: `manifest version ${input.version} is already published with different content; give the changed manifest a new version`,
              details: { version: input.version },
            });
          }
          return { version: input.version, created: false };
        }
        await trx
          .updateTable("manifest_versions")
          .set({ is_current: false })
          .where("is_current", "=", true)
          .execute();
        await trx
          .updateTable("manifest_versions")
          .set({ is_current: true })
          .where("version", "=", input.version)
          .execute();
        return { version: input.version, created: true };
      });
    },

    /** Makes an already-published version current (e.g. to roll back). */
    async setCurrent(version: string): Promise<void> {
      await inTransaction(db, async (trx) => {
        const found = await trx
          .selectFrom("manifest_versions")
          .select("version")
          .where("version", "=", version)
          .executeTakeFirst();
        if (!found) {
          throw new AppError("not_found", {
            message: `manifest version ${version} is not published`,
            details: { version },
          });
        }
        await trx
          .updateTable("manifest_versions")
          .set({ is_current: false })
          .where("is_current", "=", true)
          .execute();
        await trx
          .updateTable("manifest_versions")
          .set({ is_current: true })
          .where("version", "=", version)
          .execute();
      });
    },

    /** All versions, newest first, without their content. */
    async list(): Promise<ManifestVersionSummary[]> {
      const rows = await db
        .selectFrom("manifest_versions")
        .select(["version", "hash", "published_at", "is_current"])
        .orderBy("published_at", "desc")
        .orderBy("version", "desc")
        .execute();
      return rows.map((r) => ({
        version: r.version,
        hash: r.hash,
        publishedAt: r.published_at,
        isCurrent: r.is_current,
      }));
    },

    async get(version: string): Promise<ManifestVersion | undefined> {
      if (version.length > VERSION_MAX) return undefined;
      const row = await db
        .selectFrom("manifest_versions")
        .selectAll()
        .where("version", "=", version)
        .executeTakeFirst();
      return row ? toVersion(row) : undefined;
    },

    async getCurrent(): Promise<ManifestVersion | undefined> {
      const row = await db
        .selectFrom("manifest_versions")
        .selectAll()
        .where("is_current", "=", true)
        .executeTakeFirst();
      return row ? toVersion(row) : undefined;
    },
  };
}

export type ManifestRepo = ReturnType<typeof createManifestRepo>;
