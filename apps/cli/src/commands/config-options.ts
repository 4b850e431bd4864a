import { type Config, ConfigError, loadConfig } from "@custos/server";
import { CliError } from "../cli-error.ts";

/** Flags shared by commands that open the database, mapped onto the environment variables they override. */
export type ConfigFlags = { port?: string; host?: string; dataDir?: string; manifest?: string };

/** Reads the configuration once: the environment, overridden by the command's flags. */
export function configFromFlags(flags: ConfigFlags, extra: Record<string, string> = {}): Config {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (flags.port !== undefined) env.PORT = flags.port;
  if (flags.host !== undefined) env.HOST = flags.host;
  if (flags.dataDir !== undefined) env.CUSTOS_DATA_DIR = flags.dataDir;
  if (flags.manifest !== undefined) env.CUSTOS_MANIFEST = flags.manifest;
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}
