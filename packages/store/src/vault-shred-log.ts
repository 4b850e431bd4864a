import { mkdirSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Kysely } from "kysely";
import type { DB } from "./db-types.ts";
import { destroySubjectKeys } from "./vault.ts";

/**
 * The key-destruction log (SEC-1, RR-8). Every shred is appended here before the keys are
 * destroyed in the database. The log lives OUTSIDE the backed-up database (next to the master
 * key), so restoring a backup taken before a shred brings back wrapped keys that `applyShredLog`
 * destroys again before the restored database is used. Entries name subjects by id only: no
 * personal information.
 */
export type ShredLogEntry = {
  subjectId: string;
  /** Key groups destroyed; null = every group of the subject. */
  groups: string[] | null;
  /** ISO time of the shred. */
  at: string;
};

export type ShredLog = {
  append(entry: ShredLogEntry): Promise<void>;
  entries(): Promise<ShredLogEntry[]>;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseEntry(line: string): ShredLogEntry | undefined {
  try {
    const v = JSON.parse(line) as Partial<ShredLogEntry>;
    if (typeof v.subjectId !== "string" || !UUID.test(v.subjectId)) return undefined;
    if (typeof v.at !== "string" || Number.isNaN(Date.parse(v.at))) return undefined;
    const groups =
      v.groups === null
        ? null
        : Array.isArray(v.groups) && v.groups.every((g) => typeof g === "string")
          ? v.groups
          : undefined;
    if (groups === undefined) return undefined;
    return { subjectId: v.subjectId, groups, at: v.at };
  } catch {
    return undefined;
  }
}

/**
 * An append-only JSON-lines file, synced to disk on every append (the shred is not reported done
 * before its tombstone is durable). A torn last line from a crash mid-append is ignored; any other
 * unreadable line stops the replay with its line number, since skipping it could skip a shred.
 * Keep it out of the database's data folder and backup set, on storage every server instance
 * shares (on PostgreSQL with several instances, a shared volume).
 */
export function fileShredLog(path: string): ShredLog {
  mkdirSync(dirname(path), { recursive: true });
  return {
    async append(entry) {
      const handle = await open(path, "a", 0o600);
      try {
        await handle.appendFile(`${JSON.stringify(entry)}\n`, "utf8");
        await handle.datasync();
      } finally {
        await handle.close();
      }
    },
    async entries() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw err;
      }
      const lines = text.split("\n");
      const complete = text.endsWith("\n");
      const out: ShredLogEntry[] = [];
      for (const [i, line] of lines.entries()) {
        if (line.trim() === "") continue;
        const entry = parseEntry(line);
        if (entry) out.push(entry);
        else if (!(i === lines.length - 1 && !complete)) {
          throw new Error(
            `the shred log ${path} has an unreadable entry on line ${i + 1}; repair it before restoring (no entry may be skipped)`,
          );
        }
      }
      return out;
    },
  };
}

export type ApplyShredLogReport = { entries: number; keysDestroyed: number };

/**
 * The restore procedure's key step: replays every tombstone on a restored database, destroying
 * again the keys (and blind indexes) of subjects shredded after the backup was taken. Idempotent;
 * run it after loading a backup and before the server or any worker opens the database.
 */
export async function applyShredLog(db: Kysely<DB>, log: ShredLog): Promise<ApplyShredLogReport> {
  const entries = await log.entries();
  let keysDestroyed = 0;
  for (const entry of entries) {
    const destroyed = await destroySubjectKeys(db, entry.subjectId, entry.groups, new Date(entry.at));
    keysDestroyed += destroyed.length;
  }
  return { entries: entries.length, keysDestroyed };
}
