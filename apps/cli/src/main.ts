import { Command, CommanderError } from "commander";
import { CliError } from "./cli-error.ts";
import { registerAuditCommand } from "./commands/audit-command.ts";
import { registerBenchCommand } from "./commands/bench-command.ts";
import { registerDemoCommand } from "./commands/demo-command.ts";
import { registerManifestCommands } from "./commands/manifest-commands.ts";
import { registerMigrateCommand } from "./commands/migrate-command.ts";
import { registerServiceKeyCommand } from "./commands/service-key-command.ts";
import { registerStaffCommand } from "./commands/staff-command.ts";
import { registerStartCommand } from "./commands/start-command.ts";

/** Builds the `custos` command tree. Each command says what it does in `--help`. */
export function buildProgram(): Command {
  const program = new Command("custos")
    .description(
      "Custos: the personal-information protection platform that a privacy policy promises, built as software.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerStartCommand(program);
  registerMigrateCommand(program);
  registerManifestCommands(program);
  registerDemoCommand(program);
  registerBenchCommand(program);
  registerStaffCommand(program);
  registerServiceKeyCommand(program);
  registerAuditCommand(program);
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`custos: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
