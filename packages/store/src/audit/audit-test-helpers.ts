import { randomUUID } from "node:crypto";
import { fixedClock } from "@custos/core";
import { type Kysely, sql } from "kysely";
import type { DB } from "../db-types.ts";
import type { AuditEventInput, AuditLedger } from "./audit-ledger.ts";

export const T0 = new Date("2025-03-01T08:00:00.000Z");

export const testClock = () => fixedClock(T0);

/** A staff read of a subject's contact details: the typical audited event. */
export function staffRead(over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    actorType: "staff",
    actorId: "staff-7",
    action: "read",
    subjectId: randomUUID(),
    category: "contact",
    purpose: "customer-support",
    outcome: "allowed",
    requestId: `req-${randomUUID().slice(0, 8)}`,
    details: { fields: 2, ticket: "T-1001" },
    ...over,
  };
}

/** Appends `sizes[i]` events and seals them as batch i + 1; returns the ids of each batch. */
export async function buildChain(db: Kysely<DB>, ledger: AuditLedger, sizes: number[]): Promise<number[][]> {
  const batches: number[][] = [];
  for (const size of sizes) {
    const ids = await ledger.appendMany(
      db,
      Array.from({ length: size }, (_, i) => staffRead({ details: { fields: i + 1, ticket: `T-${i}` } })),
    );
    const sealed = await ledger.seal();
    if (sealed.batches !== 1 || sealed.events !== size)
      throw new Error(`expected one batch of ${size}, got ${JSON.stringify(sealed)}`);
    batches.push(ids);
  }
  return batches;
}

/**
 * Runs `fn` with the append-only triggers disabled, as an attacker with database superuser
 * rights could; they are enabled again afterwards.
 */
export async function asSuperuser(db: Kysely<DB>, fn: () => Promise<void>): Promise<void> {
  await sql`alter table audit_events disable trigger audit_events_append_only`.execute(db);
  await sql`alter table audit_batches disable trigger audit_batches_append_only`.execute(db);
  try {
    await fn();
  } finally {
    await sql`alter table audit_events enable trigger audit_events_append_only`.execute(db);
    await sql`alter table audit_batches enable trigger audit_batches_append_only`.execute(db);
  }
}
