import { createAuditLedger, migrate, openDatabase, verifyAuditLedger } from "@custos/store";
import type { Command } from "commander";
import { type ConfigFlags, configFromFlags } from "./config-options.ts";

async function withDatabase<T>(
  flags: ConfigFlags,
  fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>,
) {
  const config = configFromFlags(flags);
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: `${config.dataDir}/pglite` },
  );
  try {
    await migrate(database.db);
    return await fn(database);
  } finally {
    await database.close();
  }
}

/** `custos audit verify` and `custos audit seal` (SEC-4). */
export function registerAuditCommand(program: Command): void {
  const audit = program
    .command("audit")
    .description("The audit ledger: verify its hash chain, seal new events");
  audit
    .command("verify")
    .description("Recompute the audit chain; print ok with counts, or the first broken link (exit code 1)")
    .option("-d, --data-dir <dir>", "data folder of the embedded database (env CUSTOS_DATA_DIR)")
    .option(
      "--anchor <batchId:hash>",
      "a batch hash recorded earlier outside the database; the chain must lead to it",
    )
    .action(async (opts: ConfigFlags & { anchor?: string }) => {
      await withDatabase(opts, async (database) => {
        let anchor: { batchId: number; hash: string } | undefined;
        if (opts.anchor) {
          const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(opts.anchor);
          if (!m)
            throw new Error("--anchor must be <batchId>:<64 hex digits>, as printed by an earlier verify");
          anchor = { batchId: Number(m[1]), hash: m[2] as string };
        }
        const result = await verifyAuditLedger(database.db, anchor ? { anchor } : {});
        for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
        if (result.ok) {
          process.stdout.write(
            `ok: ${result.batches} batch(es), ${result.events} sealed event(s), ${result.unsealed} not yet sealed` +
              (result.head ? `; head ${result.head.batchId}:${result.head.hash}` : "") +
              "\n",
          );
        } else {
          process.stdout.write(
            `BROKEN: ${JSON.stringify(result.brokenAt)} (after ${result.batches} good batch(es), ${result.events} event(s))\n`,
          );
          process.exitCode = 1;
        }
      });
    });
  audit
    .command("seal")
    .description("Seal every unsealed audit event into the hash chain now")
    .option("-d, --data-dir <dir>", "data folder of the embedded database (env CUSTOS_DATA_DIR)")
    .action(async (opts: ConfigFlags) => {
      await withDatabase(opts, async (database) => {
        const result = await createAuditLedger({
          db: database.db,
          sealBy: database.kind === "pglite" ? "range" : "stamp",
        }).seal();
        process.stdout.write(
          `Sealed ${result.events} event(s) in ${result.batches} batch(es); folded ${result.foldedCounts} count(s).\n`,
        );
      });
    });
}
