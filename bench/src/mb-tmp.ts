import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAuditLedger, migrate, openDatabase } from "@custos/store";

const dir = await mkdtemp(path.join(tmpdir(), "mb-"));
const database = await openDatabase({
  dataDir: path.join(dir, "pg"),
  pgliteThread: process.argv[2] !== "main",
});
await migrate(database.db);
const ledger = createAuditLedger({ db: database.db, sealBy: "range", maxBatchEvents: 1000 });
const subjects = Array.from({ length: 1000 }, () => randomUUID());
const ev = (i: number) => ({
  actorType: "service" as const,
  actorId: "bench-service",
  action: "decide" as const,
  subjectId: subjects[i % 1000],
  category: "survey",
  purpose: "surveys",
  outcome: "denied" as const,
  reason: "consent-withdrawn",
  requestId: randomUUID(),
  details: { categories: ["survey"], basis: "consent" },
  occurredAt: new Date(),
});
const t0 = performance.now();
for (let i = 0; i < 40000; i += 50)
  await ledger.appendMany(
    database.db,
    Array.from({ length: 50 }, (_, j) => ev(i + j)),
  );
console.log("insert phase ms", Math.round(performance.now() - t0));
await database.close();
