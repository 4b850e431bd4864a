import { type LoadedManifest, loadDefaultManifest, loadManifestFile, ManifestError } from "@custos/manifest";
import { migrate, openDatabase } from "@custos/store";
import type { FastifyInstance } from "fastify";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { type DemoSummary, isEmptyOfSubjects, seedDemo } from "./demo/demo-data.ts";

export type StartedServer = {
  app: FastifyInstance;
  url: string;
  /** What `demo: true` loaded; undefined when demo data was not asked for or the database already had subjects. */
  demo?: DemoSummary;
  close(): Promise<void>;
};

export type StartOptions = {
  config: Config;
  /** Load demo data when the database has no subjects yet. */
  demo?: boolean;
};

/** Raised when the server refuses to start; the message says why and what to fix. */
export class StartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartError";
  }
}

/**
 * Opens the database, migrates it, loads the manifest (refusing an invalid one with file:line
 * errors, MAN-3), builds the vault and the app, and listens.
 */
export async function startServer({ config, demo }: StartOptions): Promise<StartedServer> {
  let manifest: LoadedManifest;
  try {
    manifest = config.manifestPath
      ? await loadManifestFile(config.manifestPath)
      : await loadDefaultManifest();
  } catch (err) {
    if (err instanceof ManifestError)
      throw new StartError(`${err.message}\nThe server did not start.`, { cause: err });
    throw new StartError(
      `The privacy manifest ${config.manifestPath ?? "(default)"} could not be read: ${err instanceof Error ? err.message : String(err)}. Check CUSTOS_MANIFEST.`,
      { cause: err },
    );
  }

  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: `${config.dataDir}/pglite` },
  );
  try {
    await migrate(database.db);
    const app = await createApp({ config, database, manifest, ownsDatabase: true });
    let demoSummary: DemoSummary | undefined;
    await app.ready();
    if (demo && (await isEmptyOfSubjects(database.db)))
      demoSummary = await seedDemo({ ...app.custos, db: database.db, manifest: manifest.manifest });
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const scheme = config.tls ? "https" : "http";
    const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    return {
      app,
      url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`,
      demo: demoSummary,
      close: () => app.close(),
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
