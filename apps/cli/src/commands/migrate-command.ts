import { migrate, openDatabase } from "@custos/store";
import type { Command } from "commander";
import { type ConfigFlags, configFromFlags } from "./config-options.ts";

export function registerMigrateCommand(program: Command): void {
  program
    .command("migrate")
    .description("Apply pending database migrations (embedded database, or DATABASE_URL)")
    .option("-d, --data-dir <dir>", "data folder of the embedded database (env CUSTOS_DATA_DIR)")
    .action(async (opts: ConfigFlags) => {
      const config = configFromFlags(opts);
      const database = await openDatabase(
        config.databaseUrl ? { url: config.databaseUrl } : { dataDir: `${config.dataDir}/pglite` },
      );
      try {
        const { applied } = await migrate(database.db);
        process.stdout.write(
          applied.length
            ? `Applied ${applied.length} migration(s): ${applied.join(", ")}\n`
            : "The database is up to date.\n",
        );
      } finally {
        await database.close();
      }
    });
}
