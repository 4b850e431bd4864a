import { randomBytes, randomUUID } from "node:crypto";
import { purposeFingerprint } from "@custos/core";
import { loadDefaultManifest, type Manifest } from "@custos/manifest";
import { Kysely, type KyselyPlugin, PostgresDialect, type RawNode, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DB } from "../db-types.ts";
import { createTestDatabase, type TestDatabase } from "../test-database.ts";
import { purposeConsentEvent } from "./consent-fixtures.ts";
import { type ConsentEventInput, type ConsentLedger, createConsentLedger } from "./consent-ledger.ts";
import { useLedger } from "./ledger-test-setup.ts";

const PURPOSES = ["location-services", "personalised-ads", "personalised-content", "affiliated-binding"];
const STATES = ["given", "refused", "withdrawn"] as const;

/** Counts the writes that took the locked path (a lone lock statement, then the insert). */
function lockedWriteCounter(): { plugin: KyselyPlugin; count: () => number } {
  let locked = 0;
  return {
    plugin: {
      transformQuery({ node }) {
        if (node.kind === "RawNode") {
          const text = (node as RawNode).sqlFragments.join("");
          if (text.includes("pg_advisory_xact_lock") && !text.includes("insert into")) locked++;
        }
        return node;
      },
      async transformResult({ result }) {
        return result;
      },
    },
    count: () => locked,
  };
}

describe("consent ledger group commit (CON-3)", () => {
  let database: TestDatabase;
  let ledger: ConsentLedger;
  let manifest: Manifest;

  useLedger((f) => ({ database, ledger, manifest } = f));

  const event = (subjectId: string, purposeId: string, state: ConsentEventInput["state"]) =>
    purposeConsentEvent(manifest, subjectId, purposeId, state);

  /** The chain verifies, and the projection holds the last event of each target. */
  async function expectConsistent(subjectId: string, events: number): Promise<void> {
    expect(await ledger.verify(subjectId)).toEqual({ ok: true, events });
    const last = new Map<string, string>();
    for (const e of await ledger.events(subjectId)) last.set(`${e.targetKind}/${e.targetId}`, e.state);
    const projected = new Map(
      (await ledger.stateRows(subjectId)).map((r) => [`${r.targetKind}/${r.targetId}`, r.state]),
    );
    expect(projected).toEqual(last);
  }

  it("CON-3: concurrent appends of the same and different subjects from many callers, ledgers and transactions never fork a chain", async () => {
    // Three ledgers stand for three server processes; small groups so that many are in flight.
    const ledgers = [0, 1, 2].map(() =>
      createConsentLedger({ db: database.db, groupCommit: { maxEvents: 7, maxInFlight: 3 } }),
    );
    const subjects = Array.from({ length: 12 }, () => randomUUID());
    const expected = new Map<string, number>();
    const calls: { subjectId: string; size: number; ids: Promise<number[]> }[] = [];
    for (let i = 0; i < 240; i++) {
      const subjectId = subjects[(i * 7) % subjects.length] as string;
      // Some callers spell the uuid in upper case: still the same subject and chain.
      const spelled = i % 11 === 0 ? subjectId.toUpperCase() : subjectId;
      const size = i % 4 === 0 ? 3 : 1;
      const events = Array.from({ length: size }, (_, k) =>
        event(spelled, PURPOSES[(i + k) % PURPOSES.length] as string, STATES[(i + k) % 3] as "given"),
      );
      const writer = ledgers[i % 3] as ConsentLedger;
      const ids =
        i % 10 === 0
          ? database.db.transaction().execute((tx) => writer.append(tx, events))
          : writer.append(database.db, events);
      calls.push({ subjectId, size, ids });
      expected.set(subjectId, (expected.get(subjectId) ?? 0) + size);
    }
    const results = await Promise.all(calls.map((c) => c.ids));

    const allIds = results.flat();
    expect(new Set(allIds).size).toBe(allIds.length);
    for (const s of subjects) await expectConsistent(s, expected.get(s) ?? 0);
    // One call's events are consecutive in its subject's chain, in the order given.
    const chains = new Map<string, number[]>();
    for (const s of subjects)
      chains.set(
        s,
        (await ledger.events(s)).map((e) => e.id),
      );
    for (const [i, c] of calls.entries()) {
      const chain = chains.get(c.subjectId) ?? [];
      const ids = results[i] as number[];
      expect(ids).toHaveLength(c.size);
      const at = chain.indexOf(ids[0] as number);
      expect(chain.slice(at, at + ids.length)).toEqual(ids);
    }
  });

  it("CON-3: a group whose chain head went stale (another writer came first) is rewritten under locks", async () => {
    const s = randomUUID();
    await ledger.append(database.db, [event(s, "location-services", "given")]);
    // The next read of the chain head answers "no event yet", as if it had been read before the
    // first event was committed by another writer.
    let stale = true;
    const staleHead: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      async transformResult({ result }) {
        const first = result.rows[0] as Record<string, unknown> | undefined;
        if (!stale || !first || !("subject_id" in first) || Object.keys(first).length !== 2) return result;
        stale = false;
        return { ...result, rows: result.rows.map((r) => ({ ...(r as object), hash: null })) };
      },
    };
    const counter = lockedWriteCounter();
    const racyDb = database.db.withPlugin(staleHead).withPlugin(counter.plugin);
    const racing = createConsentLedger({ db: racyDb });

    await racing.append(racyDb, [event(s, "personalised-ads", "refused")]);

    expect(stale).toBe(false);
    expect(counter.count()).toBe(1);
    expect((await ledger.events(s)).map((e) => e.targetId)).toEqual([
      "location-services",
      "personalised-ads",
    ]);
    await expectConsistent(s, 2);
  });

  it("CON-3: an invalid event in a group fails only its caller; the others are committed", async () => {
    const a = randomUUID();
    const b = randomUUID();
    const bad = randomUUID();
    // Made in one tick, so they form one group; the bad one breaks a check constraint.
    const settled = await Promise.allSettled([
      ledger.append(database.db, [event(a, "location-services", "given")]),
      ledger.append(database.db, [{ ...event(a, "personalised-ads", "given"), targetId: "Not_A_Purpose" }]),
      ledger.append(database.db, [event(b, "personalised-ads", "refused")]),
      ledger.append(database.db, [
        event(bad, "personalised-ads", "given"),
        { ...event(bad, "location-services", "given"), targetId: "X!" },
      ]),
      ledger.append(database.db, [event(a, "personalised-content", "withdrawn")]),
    ]);
    expect(settled.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/consent_events_target_id_check/);
    expect((await ledger.events(a)).map((e) => e.targetId)).toEqual([
      "location-services",
      "personalised-content",
    ]);
    await expectConsistent(a, 2);
    await expectConsistent(b, 1);
    // All of a call or nothing: the valid first event of the bad call is not stored either.
    expect(await ledger.events(bad)).toEqual([]);
    expect(await ledger.stateRows(bad)).toEqual([]);
  });

  it("CON-3: a lone append is committed before it resolves", async () => {
    const s = randomUUID();
    const [id] = await ledger.append(database.db, [event(s, "location-services", "given")]);
    const seen = await sql<{
      n: number;
    }>`select count(*)::int as n from consent_events where id = ${id}`.execute(database.db);
    expect(seen.rows[0]?.n).toBe(1);
  });
});

/**
 * Crashes need a server whose sessions can be killed and whose sockets can break: PostgreSQL only
 * (set DATABASE_URL). A group is held in the middle of its insert: its last row waits for another
 * transaction that inserted the same (subject_id, prev_hash) and has not committed yet, while the
 * rows before it are already inserted.
 */
describe.runIf(Boolean(process.env.DATABASE_URL))(
  "consent ledger group commit on a crash (CON-3, PostgreSQL)",
  () => {
    let database: TestDatabase;
    let manifest: Manifest;
    let pool: pg.Pool;
    let db: Kysely<DB>;
    const clients: pg.Client[] = [];

    beforeAll(async () => {
      database = await createTestDatabase();
      manifest = (await loadDefaultManifest()).manifest;
      // The ledger's own pool, so the test can reach the socket of the connection a group runs on.
      pool = new pg.Pool({ connectionString: database.url, max: 4 });
      pool.on("error", () => {});
      pool.on("connect", (client) => {
        clients.push(client as unknown as pg.Client);
        client.on("error", () => {});
      });
      db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    });
    afterAll(async () => {
      await db?.destroy();
      await database?.close();
    });

    const event = (subjectId: string, purposeId: string): ConsentEventInput => {
      const purpose = manifest.purposes.find((p) => p.id === purposeId);
      if (!purpose) throw new Error(`no purpose ${purposeId}`);
      return {
        subjectId,
        targetKind: "purpose",
        targetId: purposeId,
        state: "given",
        noticeVersion: manifest.version,
        fingerprint: purposeFingerprint(purpose),
        language: "en",
        method: "app",
        actor: "self",
      };
    };

    /** Opens a transaction that inserts the first event of `subjectId` and stays open. */
    async function blockFirstEventOf(subjectId: string): Promise<pg.Client> {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      await client.query("begin");
      await client.query(
        `insert into consent_events (subject_id, target_kind, target_id, state, notice_version, purpose_fingerprint,
         language, method, actor, occurred_at, prev_hash, hash)
       values ($1, 'purpose', 'location-services', 'given', 'v', $2, 'en', 'app', 'self', now(), $3, $4)`,
        [subjectId, "0".repeat(64), Buffer.alloc(32), randomBytes(32)],
      );
      return client;
    }

    /** The backend of the group insert waiting for that transaction. */
    async function waitingGroupPid(): Promise<number> {
      for (let i = 0; i < 200; i++) {
        const r = await sql<{ pid: number }>`
        select pid from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and query like '%json_to_recordset%'`.execute(
          database.db,
        );
        if (r.rows[0]) return r.rows[0].pid;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error("the group insert never waited");
    }

    /** Event counts of the subjects, read in one snapshot. */
    async function counts(subjectIds: string[]): Promise<number[]> {
      const r = await sql<{ n: number }>`
        select (select count(*)::int from consent_events e where e.subject_id = s.id) as n
        from unnest(${subjectIds}::uuid[]) with ordinality as s (id, i) order by i`.execute(database.db);
      return r.rows.map((row) => row.n);
    }

    it("CON-3: a group whose session is killed mid-insert leaves nothing; its appends are retried alone", async () => {
      const ledger = createConsentLedger({ db });
      const [a, b, x] = [randomUUID(), randomUUID(), randomUUID()];
      const blocker = await blockFirstEventOf(x);
      try {
        const pa = ledger.append(db, [event(a, "location-services"), event(a, "personalised-ads")]);
        const pb = ledger.append(db, [event(b, "location-services")]);
        const px = ledger.append(db, [event(x, "personalised-ads")]);
        const pid = await waitingGroupPid();
        // a's and b's rows are inserted (not committed) when the session dies.
        await sql`select pg_terminate_backend(${pid})`.execute(database.db);

        // Retried alone: a and b commit once each; x waits for the blocker again.
        expect((await pa).length).toBe(2);
        expect((await pb).length).toBe(1);
        expect(await counts([a, b, x])).toEqual([2, 1, 0]);
        await blocker.query("rollback");
        expect((await px).length).toBe(1);
        for (const [s, n] of [
          [a, 2],
          [b, 1],
          [x, 1],
        ] as const)
          expect(await ledger.verify(s)).toEqual({ ok: true, events: n });
      } finally {
        await blocker.end();
      }
    });

    it("CON-3: when the connection breaks mid-group the callers get the error, nothing is retried, and the group is all or nothing", async () => {
      const ledger = createConsentLedger({ db });
      const [a, b, x] = [randomUUID(), randomUUID(), randomUUID()];
      const blocker = await blockFirstEventOf(x);
      try {
        const settled = Promise.allSettled([
          ledger.append(db, [event(a, "location-services")]),
          ledger.append(db, [event(b, "location-services")]),
          ledger.append(db, [event(x, "personalised-ads")]),
        ]);
        const pid = await waitingGroupPid();
        const client = clients.find((c) => (c as unknown as { processID: number }).processID === pid);
        expect(client).toBeDefined();
        (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();

        // The server may still commit the statement, so the outcome is unknown: every caller fails.
        expect((await settled).map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
        expect(await counts([a, b, x])).toEqual([0, 0, 0]);
        // The orphaned statement goes on once the blocker is gone: all of the group, once, or none.
        await blocker.query("rollback");
        for (let i = 0; i < 200; i++) {
          const alive = await sql`select 1 from pg_stat_activity where pid = ${pid}`.execute(database.db);
          if (alive.rows.length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect([[0, 0, 0].join(), [1, 1, 1].join()]).toContain((await counts([a, b, x])).join());
        for (const s of [a, b, x]) expect((await createConsentLedger({ db }).verify(s)).ok).toBe(true);
      } finally {
        await blocker.end();
      }
    });
  },
);
