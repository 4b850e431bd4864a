import { AppError } from "@custos/core";
import { createApp, createStaffService } from "@custos/server";
import { createAuditLedger, migrate, openDatabase } from "@custos/store";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { type ConfigFlags, configFromFlags } from "./config-options.ts";
import { loadManifestForCli } from "./manifest-commands.ts";

type CreateAdminFlags = ConfigFlags & {
  email: string;
  name: string;
  force?: boolean;
  passwordStdin?: boolean;
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

export function registerStaffCommand(program: Command): void {
  const staff = program.command("staff").description("Manage staff accounts of the console");
  staff
    .command("create-admin")
    .description(
      "Create the first administrator and print a one-time password (or read it from stdin with --password-stdin); refuses when an administrator exists unless --force",
    )
    .requiredOption("--email <email>", "the administrator's email address")
    .requiredOption("--name <name>", "the administrator's display name")
    .option("--force", "create another administrator even though one exists")
    .option("--password-stdin", "read the password from standard input instead of generating one")
    .option("-d, --data-dir <dir>", "data folder of the embedded database (env CUSTOS_DATA_DIR)")
    .option("-m, --manifest <file>", "privacy manifest YAML (env CUSTOS_MANIFEST)")
    .action(async (opts: CreateAdminFlags) => {
      const config = configFromFlags(opts);
      const manifest = await loadManifestForCli(config.manifestPath);
      const password = opts.passwordStdin ? await readStdin() : undefined;
      const database = await openDatabase(
        config.databaseUrl ? { url: config.databaseUrl } : { dataDir: `${config.dataDir}/pglite` },
      );
      try {
        await migrate(database.db);
        // Built, not started, so the account is sealed by the same vault the server uses.
        const app = await createApp({ config, database, manifest, startWorker: false });
        try {
          await app.ready();
          const { db, vault, clock } = app.custos;
          const service = createStaffService({ db, vault, clock, ledger: createAuditLedger({ db, clock }) });
          const created = await service.createAdmin({
            email: opts.email,
            displayName: opts.name,
            force: opts.force === true,
            ...(password !== undefined ? { password } : {}),
          });
          process.stdout.write(
            `Created administrator ${created.staff.id} (${created.staff.email}).\n` +
              (password === undefined
                ? `One-time password (shown once, keep it safe): ${created.password}\n`
                : "The password was read from standard input.\n") +
              "Sign in at /console/sign-in; the first sign-in enrols an authenticator app (TOTP).\n",
          );
        } catch (error) {
          if (error instanceof AppError) throw new CliError(`custos staff create-admin: ${error.message}`);
          throw error;
        } finally {
          await app.close();
        }
      } finally {
        await database.close();
      }
    });
}
