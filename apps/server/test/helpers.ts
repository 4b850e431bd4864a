import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { type LoadedManifest, loadDefaultManifest } from "@custos/manifest";
import { createTestDatabase, createVault, type Database, envKeyProvider, type Vault } from "@custos/store";
import type { FastifyInstance } from "fastify";
import { registerRunSecret, runLogFile } from "../../../test/run-log.ts";
import { type AppDeps, createApp } from "../src/app.ts";
import { type Config, type LogLevel, loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logging.ts";

/**
 * Captures every log line the app writes, as text; the lines are also copied to the run's log file
 * for the SEC-6 scan of the whole test run (test/global-setup.ts).
 */
export function logCapture(level: LogLevel = "info") {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level, destination: stream, file: runLogFile() }) };
}

export type TestApp = {
  app: FastifyInstance;
  database: Database;
  vault: Vault;
  config: Config;
  manifest: LoadedManifest;
  logs: string[];
  close(): Promise<void>;
};

let defaultManifest: Promise<LoadedManifest> | undefined;

/** A real app on a throw-away database (PGlite, or PostgreSQL when DATABASE_URL is set). */
export async function buildTestApp(
  options: {
    env?: Record<string, string>;
    deps?: Partial<AppDeps>;
    ready?: boolean;
    /** Runs on the migrated database before the app is built (e.g. to publish an older policy). */
    seed?: (database: Database) => Promise<void>;
  } = {},
): Promise<TestApp> {
  defaultManifest ??= loadDefaultManifest();
  const manifest = options.deps?.manifest ?? (await defaultManifest);
  const database = await createTestDatabase();
  await options.seed?.(database);
  const config = loadConfig({
    CUSTOS_MASTER_KEY: randomBytes(32).toString("base64"),
    PUBLIC_URL: "http://custos.test",
    LOG_LEVEL: "info",
    ...options.env,
  });
  registerRunSecret(config.masterKey);
  const vault = createVault({ db: database.db, keyProvider: envKeyProvider(config.masterKey ?? "") });
  const { lines, logger } = logCapture(config.logLevel);
  let app: FastifyInstance;
  try {
    app = await createApp({
      config,
      database,
      manifest,
      vault,
      logger,
      webDistDir: "/nonexistent/custos-web-dist",
      workerPollMs: 20,
      ...options.deps,
    });
  } catch (err) {
    await database.close();
    throw err;
  }
  if (options.ready !== false) await app.ready();
  return {
    app,
    database,
    vault,
    config,
    manifest,
    logs: lines,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
