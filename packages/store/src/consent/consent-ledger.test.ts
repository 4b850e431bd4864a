import { createHash, randomUUID } from "node:crypto";
import { decide } from "@custos/core";
import type { Manifest } from "@custos/manifest";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database } from "../database.ts";
import { purposeConsentEvent } from "./consent-fixtures.ts";
import {
  type ConsentEventInput,
  type ConsentLedger,
  invalidateChangedConsents,
  POLICY_TARGET_ID,
} from "./consent-ledger.ts";
import { useLedger } from "./ledger-test-setup.ts";

describe("consent ledger (CON-3, CON-13)", () => {
  let database: Database;
  let ledger: ConsentLedger;
  let manifest: Manifest;

  useLedger((f) => ({ database, ledger, manifest } = f));

  const event = (subjectId: string, purposeId: string, state: ConsentEventInput["state"]) =>
    purposeConsentEvent(manifest, subjectId, purposeId, state, { language: "zh-CN", method: "web" });

  it("CON-3: events are chained by hash per subject and the projection follows in the same transaction", async () => {
    const a = randomUUID();
    const b = randomUUID();
    await ledger.append(database.db, [event(a, "location-services", "given")]);
    await ledger.append(database.db, [event(b, "location-services", "refused")]);
    await ledger.append(database.db, [event(a, "location-services", "withdrawn")]);

    const events = await ledger.events(a);
    expect(events.map((e) => e.state)).toEqual(["given", "withdrawn"]);
    expect(events[0]?.prevHash.equals(Buffer.alloc(32))).toBe(true);
    expect(events[1]?.prevHash.equals(events[0]?.hash as Buffer)).toBe(true);
    expect(events[0]).toMatchObject({
      language: "zh-CN",
      method: "web",
      actor: "self",
      noticeVersion: manifest.version,
    });
    expect(await ledger.verify(a)).toEqual({ ok: true, events: 2 });

    const states = await ledger.statesOf([a, b]);
    expect(states.get(a)?.purposes["location-services"]?.state).toBe("withdrawn");
    expect(states.get(b)?.purposes["location-services"]?.state).toBe("refused");
  });

  it("CON-5: statesOf gives each subject every kind of switch it has, and subjects share nothing", async () => {
    const a = randomUUID();
    const b = randomUUID();
    const none = randomUUID();
    const base = { noticeVersion: manifest.version, language: "en", method: "app", actor: "self" } as const;
    const switchOf = (
      subjectId: string,
      targetKind: "policy" | "setting" | "permission" | "marketing",
      targetId: string,
      state: ConsentEventInput["state"],
    ): ConsentEventInput => ({
      ...base,
      subjectId,
      targetKind,
      targetId,
      state,
      fingerprint: createHash("sha256").update(`${targetKind}/${targetId}`).digest("hex"),
    });
    await ledger.append(database.db, [
      switchOf(a, "policy", POLICY_TARGET_ID, "given"),
      event(a, "location-services", "given"),
      event(a, "surveys", "withdrawn"),
      switchOf(a, "setting", "personalised-content", "withdrawn"),
      switchOf(a, "setting", "personalised-ads", "given"),
      switchOf(a, "permission", "location", "given"),
      switchOf(a, "marketing", "email", "withdrawn"),
    ]);
    await ledger.append(database.db, [
      event(b, "surveys", "given"),
      switchOf(b, "marketing", "sms", "given"),
    ]);

    const states = await ledger.statesOf([a, b, none]);
    const sa = states.get(a);
    expect(sa?.policy?.state).toBe("given");
    expect(Object.fromEntries(Object.entries(sa?.purposes ?? {}).map(([k, v]) => [k, v.state]))).toEqual({
      "location-services": "given",
      surveys: "withdrawn",
    });
    expect(sa?.settings?.["personalised-content"]?.state).toBe("withdrawn");
    expect(sa?.settings?.["personalised-ads"]?.state).toBe("given");
    expect(sa?.permissions?.location).toMatchObject({
      state: "given",
      fingerprint: createHash("sha256").update("permission/location").digest("hex"),
    });
    expect(sa?.marketing).toEqual({
      email: {
        state: "withdrawn",
        fingerprint: createHash("sha256").update("marketing/email").digest("hex"),
        noticeVersion: manifest.version,
      },
    });
    const sb = states.get(b);
    expect(Object.keys(sb?.purposes ?? {})).toEqual(["surveys"]);
    expect(sb?.settings).toBeUndefined();
    expect(Object.keys(sb?.marketing ?? {})).toEqual(["sms"]);
    expect(sb?.purposes).not.toBe(sa?.purposes);
    expect(states.get(none)).toEqual({ purposes: {} });
  });

  it("CON-3: a failing transaction leaves neither the event nor the projection", async () => {
    const s = randomUUID();
    await expect(
      database.db.transaction().execute(async (tx) => {
        await ledger.append(tx, [event(s, "location-services", "given")]);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await ledger.events(s)).toEqual([]);
    expect(await ledger.stateRows(s)).toEqual([]);
  });

  it("CON-3: the ledger refuses UPDATE, DELETE and TRUNCATE", async () => {
    const s = randomUUID();
    await ledger.append(database.db, [event(s, "location-services", "given")]);
    await expect(
      sql`update consent_events set state = 'refused' where subject_id = ${s}`.execute(database.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`delete from consent_events where subject_id = ${s}`.execute(database.db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`truncate consent_events cascade`.execute(database.db)).rejects.toThrow(/append-only/);
    expect((await ledger.events(s)).map((e) => e.state)).toEqual(["given"]);
  });

  it("CON-3: staff-recorded events need a staff id and a reason", async () => {
    const s = randomUUID();
    await expect(
      ledger.append(database.db, [
        { ...event(s, "location-services", "given"), actor: "staff", actorId: "staff-1" },
      ]),
    ).rejects.toThrow(/reason/);
    await ledger.append(database.db, [
      { ...event(s, "location-services", "given"), actor: "staff", actorId: "staff-1", reason: "ticket-42" },
    ]);
    expect((await ledger.events(s))[0]).toMatchObject({ actor: "staff", reason: "ticket-42" });
  });

  it("CON-3: a tampered event is found by verification (tamper-evident)", async () => {
    const s = randomUUID();
    await ledger.append(database.db, [event(s, "location-services", "refused")]);
    const [second] = await ledger.append(database.db, [event(s, "personalised-ads", "refused")]);
    // An attacker with table-owner rights switches the trigger off and rewrites history.
    await database.db.transaction().execute(async (tx) => {
      await sql`alter table consent_events disable trigger consent_events_append_only`.execute(tx);
      await sql`update consent_events set state = 'given' where id = ${second}`.execute(tx);
      await sql`alter table consent_events enable trigger consent_events_append_only`.execute(tx);
    });
    expect(await ledger.verify(s)).toEqual({ ok: false, events: 2, firstBadEventId: second });
  });

  it("CON-3: two writers of one subject never fork the chain", async () => {
    const s = randomUUID();
    await Promise.all(
      ["location-services", "personalised-ads", "personalised-content", "affiliated-binding"].map((p) =>
        ledger.append(database.db, [event(s, p, "given")]),
      ),
    );
    expect(await ledger.verify(s)).toEqual({ ok: true, events: 4 });
  });

  it("CON-13: invalidateChangedConsents appends `invalidated` for every subject whose purpose changed", async () => {
    const changed = randomUUID();
    const unrelated = randomUUID();
    await ledger.append(database.db, [event(changed, "personalised-content", "given")]);
    await ledger.append(database.db, [event(unrelated, "affiliated-binding", "given")]);

    // The new manifest adds a category to personalised-content: consents to the old one are invalid.
    const modified: Manifest = {
      ...manifest,
      version: "2099-01-01",
      purposes: manifest.purposes.map((p) =>
        p.id === "personalised-content" ? { ...p, categories: [...p.categories, "orders"] } : p,
      ),
    };
    const before = (await ledger.statesOf([changed])).get(changed);
    expect(
      decide(modified, before, { purposeId: "personalised-content", categories: ["device"] }).reason,
    ).toBe("consent-invalidated");

    const result = await invalidateChangedConsents(database.db, modified);
    expect(result.invalidated).toBeGreaterThanOrEqual(1);
    const events = await ledger.events(changed);
    expect(events.at(-1)).toMatchObject({
      state: "invalidated",
      targetId: "personalised-content",
      actor: "system",
      method: "system",
      noticeVersion: "2099-01-01",
    });
    expect(await ledger.verify(changed)).toMatchObject({ ok: true });
    expect((await ledger.events(unrelated)).map((e) => e.state)).toEqual(["given"]);
    const after = (await ledger.statesOf([changed])).get(changed);
    expect(
      decide(modified, after, { purposeId: "personalised-content", categories: ["device"] }),
    ).toMatchObject({
      allow: false,
      reason: "consent-invalidated",
    });
    // Idempotent: nothing left to invalidate for that purpose.
    const again = await invalidateChangedConsents(database.db, modified);
    expect((await ledger.events(changed)).length).toBe(events.length);
    expect(again.invalidated).toBeLessThan(result.invalidated + 1);
  });
});
