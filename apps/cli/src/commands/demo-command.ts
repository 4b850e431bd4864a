import { createApp, formatDemoStaff, formatDemoSummary, seedDemo } from "@custos/server";
import { migrate, openDatabase } from "@custos/store";
import type { Command } from "commander";
import { type ConfigFlags, configFromFlags } from "./config-options.ts";
import { loadManifestForCli } from "./manifest-commands.ts";

export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("Load realistic demo players and activity into the database and print what was created")
    .option("-d, --data-dir <dir>", "data folder of the embedded database (env CUSTOS_DATA_DIR)")
    .option("-m, --manifest <file>", "privacy manifest YAML (env CUSTOS_MANIFEST)")
    .action(async (opts: ConfigFlags) => {
      const config = configFromFlags(opts);
      const manifest = await loadManifestForCli(config.manifestPath);
      const database = await openDatabase(
        config.databaseUrl ? { url: config.databaseUrl } : { dataDir: `${config.dataDir}/pglite` },
      );
      try {
        await migrate(database.db);
        // The app is built (not started) so demo data goes through the same vault and notifier as real data;
        // queued email and SMS are delivered by the worker when the server next runs.
        const app = await createApp({ config, database, manifest, startWorker: false });
        try {
          await app.ready();
          const summary = await seedDemo({ ...app.custos, manifest: manifest.manifest });
          process.stdout.write(`${formatDemoSummary(summary)}\n`);
          // Demo staff sign-in details: to the terminal once, never to the logger.
          const staff = formatDemoStaff(summary.staff);
          if (staff) process.stdout.write(`\n${staff}\n`);
        } finally {
          await app.close();
        }
      } finally {
        await database.close();
      }
    });
}
