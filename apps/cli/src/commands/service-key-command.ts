import { hashServiceKey, newServiceKey, parseServiceKeys, type ServiceKey } from "@custos/server";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { configFromFlags } from "./config-options.ts";

type CreateFlags = { rotate?: boolean };

/** The first characters of a key hash: enough to tell entries apart in a message. */
const short = (keyHash: string) => `${keyHash.slice(0, 12)}…`;
/** What the server accepts in CUSTOS_SERVICE_KEYS at most. */
const MAX_KEYS = 100;

/**
 * `custos service-key create <name>` and `custos service-key list`: the keys the app's services
 * present in `x-custos-service-key` (decisions, the SDK, consents recorded by a backend). Custos
 * keeps only their SHA-256 in `CUSTOS_SERVICE_KEYS`; `create` prints a new key once, and the value of
 * that variable with its hash added (to set on the server before restarting it).
 */
export function registerServiceKeyCommand(program: Command): void {
  const keys = program
    .command("service-key")
    .description("Make and list the keys the app's services call Custos with (CUSTOS_SERVICE_KEYS)");

  keys
    .command("create")
    .description(
      "Make a key for a service: print it once, and CUSTOS_SERVICE_KEYS with its hash added (the current value is read from the environment)",
    )
    .argument("<name>", "the service's name, as audit entries and rate limits name it (e.g. game-server)")
    .option(
      "--rotate",
      "the service has a key already: add a second one (both work until the old entry is removed)",
    )
    .action((name: string, opts: CreateFlags) => {
      const current = configFromFlags({}).serviceKeys;
      const existing = current.filter((k) => k.name === name);
      if (existing.length > 0 && opts.rotate !== true)
        throw new CliError(
          `The service "${name}" has a key already. To replace it without downtime, run again with --rotate: both keys work until you remove the old entry (keyHash ${short((existing[0] as ServiceKey).keyHash)}) from CUSTOS_SERVICE_KEYS.`,
        );
      if (existing.length === 0 && opts.rotate === true)
        throw new CliError(
          `The service "${name}" has no key to rotate in CUSTOS_SERVICE_KEYS. Run without --rotate to make its first key.`,
        );
      if (current.length >= MAX_KEYS)
        throw new CliError(
          `CUSTOS_SERVICE_KEYS holds ${current.length} keys, the most it may. Remove the entries of services that no longer call Custos first.`,
        );
      const key = newServiceKey();
      const next = [...current, { name, keyHash: hashServiceKey(key) }];
      // The same rules as the server's (name, hash, at most 100 entries), so what is printed starts.
      const value = JSON.stringify(next);
      const checked = parseServiceKeys(value);
      if (!checked.ok)
        throw new CliError(
          `No key was made: the service name is not valid (${checked.problems.map((p) => p.replace(/^\d+\.name: /, "")).join("; ")}).`,
        );
      const lines = [
        `New key for the service "${name}". It is shown only this once: give it to the service (the SDK's`,
        "serviceKey option, or the x-custos-service-key header of its requests).",
        "",
        `  ${key}`,
        "",
        "Set CUSTOS_SERVICE_KEYS on the Custos server to this value (it holds only SHA-256 hashes of the",
        "keys), then restart the server:",
        "",
        `  ${value}`,
        "",
      ];
      if (opts.rotate === true)
        lines.push(
          `Both keys of "${name}" work until you remove its older entry (keyHash ${existing.map((k) => short(k.keyHash)).join(", ")}) and restart.`,
          "",
        );
      process.stdout.write(lines.join("\n"));
    });

  keys
    .command("list")
    .description("List the services CUSTOS_SERVICE_KEYS lets in (names and the start of each key hash)")
    .action(() => {
      const current = configFromFlags({}).serviceKeys;
      if (current.length === 0) {
        process.stdout.write(
          "No service keys: CUSTOS_SERVICE_KEYS is unset or empty, so no service can call the decision API. Make one with `custos service-key create <name>`.\n",
        );
        return;
      }
      const width = Math.max(...current.map((k) => k.name.length));
      for (const k of current) process.stdout.write(`${k.name.padEnd(width)}  keyHash ${short(k.keyHash)}\n`);
    });
}
