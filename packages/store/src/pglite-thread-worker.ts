import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { preparedSession } from "./pglite-prepared.ts";
import type { ThreadReply, ThreadRequest, ThreadResult } from "./pglite-thread.ts";
import { OID, parseDate, parseInt8 } from "./type-mapping.ts";

/**
 * The worker side of PGliteThread (pglite-thread.ts): owns the PGlite instance of a data folder
 * and runs the statements the main thread sends, in the order they arrive.
 */

const port = parentPort;
if (!port) throw new Error("pglite-thread-worker.ts runs as a worker thread (see pglite-thread.ts)");
const { dataDir } = workerData as { dataDir: string };

/**
 * bytea → a Uint8Array of its own: a Buffer from the pool shares an 8 KiB ArrayBuffer, and a
 * message would copy all of it. The main thread turns it back into a Buffer without copying.
 */
function parseByteaOwn(text: string): Uint8Array {
  if (!text.startsWith("\\x")) throw new Error("unexpected bytea output format; bytea_output must be 'hex'");
  return new Uint8Array(Buffer.from(text.slice(2), "hex"));
}

/** The fields a PostgreSQL error carries (pg-protocol's DatabaseError), for the main thread. */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "routine",
] as const;

function errorOf(error: unknown): Extract<ThreadReply, { ok: false }>["error"] {
  const e = (error ?? {}) as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const f of ERROR_FIELDS) if (typeof e[f] === "string") fields[f] = e[f] as string;
  return {
    name: typeof e.name === "string" ? e.name : "Error",
    message: error instanceof Error ? error.message : String(error),
    fields,
  };
}

function resultOf(r: {
  rows: unknown[];
  affectedRows?: number;
  fields: { name: string; dataTypeID: number }[];
}): ThreadResult {
  const bytea = r.fields.filter((f) => f.dataTypeID === OID.BYTEA).map((f) => f.name);
  return {
    rows: r.rows,
    ...(r.affectedRows === undefined ? {} : { affectedRows: r.affectedRows }),
    ...(bytea.length > 0 ? { bytea } : {}),
  };
}

let pglite: PGlite;
try {
  pglite = await PGlite.create({
    dataDir,
    parsers: { [OID.INT8]: parseInt8, [OID.DATE]: parseDate, [OID.BYTEA]: parseByteaOwn },
  });
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: errorOf(error) } satisfies ThreadReply);
  process.exit(1);
}
port.postMessage({ id: 0, ok: true, result: { rows: [] } } satisfies ThreadReply);
const session = preparedSession(pglite);

port.on("message", (request: ThreadRequest) => {
  const run = async (): Promise<ThreadResult> => {
    switch (request.op) {
      case "query":
        return resultOf(await session.query(request.sql, request.params));
      case "exec": {
        const results = await session.exec(request.sql);
        const last = results[results.length - 1];
        return last ? resultOf(last) : { rows: [] };
      }
      case "close":
        await pglite.close();
        return { rows: [] };
    }
  };
  run().then(
    (result) => port.postMessage({ id: request.id, ok: true, result } satisfies ThreadReply),
    (error: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: errorOf(error) } satisfies ThreadReply),
  );
});
