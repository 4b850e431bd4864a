import { formatDemoStaff, formatDemoSummary, StartError, startServer } from "@custos/server";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { type ConfigFlags, configFromFlags } from "./config-options.ts";

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("Migrate the database and start the server (API, privacy center and console)")
    .option("-p, --port <port>", "port to listen on (env PORT, default 8787; 0 picks a free one)")
    .option("--host <host>", "address to listen on (env HOST, default 127.0.0.1)")
    .option(
      "-d, --data-dir <dir>",
      "data folder of the embedded database and master key (env CUSTOS_DATA_DIR)",
    )
    .option("-m, --manifest <file>", "privacy manifest YAML (env CUSTOS_MANIFEST; default: MuMuPlayer Pro)")
    .option(
      "--demo",
      "load demo data (players, and one staff member per role whose sign-in details are printed once) if the database has no subjects yet, and show the dev outbox",
    )
    .option("--no-demo", "do not load demo data")
    .action(async (opts: ConfigFlags & { demo?: boolean }) => {
      const config = configFromFlags(opts, opts.demo ? { CUSTOS_DEV: process.env.CUSTOS_DEV ?? "1" } : {});
      let started: Awaited<ReturnType<typeof startServer>>;
      try {
        started = await startServer({ config, demo: Boolean(opts.demo) });
      } catch (error) {
        if (error instanceof StartError) throw new CliError(error.message);
        throw error;
      }
      const where = config.databaseUrl
        ? "PostgreSQL (DATABASE_URL)"
        : `the embedded database in ${config.dataDir}`;
      const manifest = started.app.custos.manifest.manifest;
      if (started.demo) {
        process.stdout.write(`${formatDemoSummary(started.demo)}\n\n`);
        // Straight to the terminal, once: the logger never sees these (dev/demo only).
        const staff = formatDemoStaff(started.demo.staff, `${started.url}/console/sign-in`);
        if (staff) process.stdout.write(`${staff}\n\n`);
      }
      process.stdout.write(
        [
          `Custos is running on ${where}, policy version ${manifest.version} (${manifest.product.name.en}).`,
          `  Privacy center: ${started.url}/center`,
          `  Console:        ${started.url}/console`,
          `  API docs:       ${started.url}/docs`,
          ...(config.sampleApp ? [`  Sample app:     ${started.url}/sample-app`] : []),
          "Press Ctrl+C to stop.",
          "",
        ].join("\n"),
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          started.close().then(resolve, resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
