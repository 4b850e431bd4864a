import { randomBytes, randomUUID } from "node:crypto";
import { AppError } from "@custos/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./database.ts";
import { envKeyProvider } from "./key-provider.ts";
import { createManifestRepo } from "./manifest-repo.ts";
import { createMessageRepo } from "./message-repo.ts";
import { createSubjectRepo } from "./subject-repo.ts";
import { createTestDatabase } from "./test-database.ts";
import { createVault } from "./vault.ts";

const sha = (c: string) => c.repeat(64);

describe("repositories", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });

  describe("manifest-repo", () => {
    it("MAN-4: publishing a policy version is idempotent for the same version and hash, and makes the new version current", async () => {
      const repo = createManifestRepo(database.db);
      const v1 = {
        version: "2025.1",
        hash: sha("a"),
        manifest: { version: "2025.1", purposes: [{ id: "login" }] },
        source: "version: 2025.1\n",
      };
      expect(await repo.publish(v1)).toEqual({ version: "2025.1", created: true });
      expect(await repo.publish(v1)).toEqual({ version: "2025.1", created: false });
      expect((await repo.getCurrent())?.version).toBe("2025.1");

      const v2 = { ...v1, version: "2025.2", hash: sha("b"), manifest: { version: "2025.2" } };
      expect((await repo.publish(v2)).created).toBe(true);
      const current = await repo.getCurrent();
      expect(current?.version).toBe("2025.2");
      expect(current?.manifest).toEqual({ version: "2025.2" });

      // Re-publishing an older version does not move "current".
      await repo.publish(v1);
      expect((await repo.getCurrent())?.version).toBe("2025.2");

      const list = await repo.list();
      expect(list.map((v) => [v.version, v.isCurrent])).toEqual([
        ["2025.2", true],
        ["2025.1", false],
      ]);
      const got = await repo.get("2025.1");
      expect(got?.manifest).toEqual(v1.manifest);
      expect(got?.source).toBe(v1.source);
      expect(got?.publishedAt).toBeInstanceOf(Date);
      expect(await repo.get("nope")).toBeUndefined();

      await repo.setCurrent("2025.1");
      expect((await repo.getCurrent())?.version).toBe("2025.1");
      await expect(repo.setCurrent("9.9")).rejects.toMatchObject({ code: "not_found" });
    });

    it("MAN-4: the same policy version with a different hash is a conflict and changes nothing", async () => {
      const repo = createManifestRepo(database.db);
      await repo.publish({ version: "c-1", hash: sha("c"), manifest: { a: 1 }, source: "a: 1" });
      const err = await repo
        .publish({ version: "c-1", hash: sha("d"), manifest: { a: 2 }, source: "a: 2" })
        .catch((e) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err.code).toBe("conflict");
      expect(err.message).toMatch(/new version/);
      expect((await repo.get("c-1"))?.manifest).toEqual({ a: 1 });
      await expect(
        repo.publish({ version: "", hash: sha("e"), manifest: {}, source: "" }),
      ).rejects.toMatchObject({
        code: "validation_failed",
      });
      await expect(
        repo.publish({ version: "x", hash: "not-a-hash", manifest: {}, source: "" }),
      ).rejects.toMatchObject({
        code: "validation_failed",
      });
    });
  });

  describe("subject-repo", () => {
    it("creates, gets and pages through subjects", async () => {
      const repo = createSubjectRepo(database.db);
      const base = new Date("2025-01-01T00:00:00Z").getTime();
      const created = [];
      for (let i = 0; i < 5; i++)
        created.push(await repo.create({ region: "cn", now: new Date(base + i * 1000) }));
      expect(await repo.get(created[0]?.subjectId ?? "")).toEqual(created[0]);
      expect(created[0]?.status).toBe("active");
      expect(await repo.get("not-a-uuid")).toBeUndefined();

      const seen: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await repo.list({ limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((s) => s.subjectId));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(created.map((s) => s.subjectId));

      const restricted = await repo.setStatus(created[1]?.subjectId ?? "", "restricted");
      expect(restricted.status).toBe("restricted");
      expect((await repo.list({ status: "restricted" })).items.map((s) => s.subjectId)).toEqual([
        created[1]?.subjectId,
      ]);
    });

    it("refuses bad input with what to fix", async () => {
      const repo = createSubjectRepo(database.db);
      const s = await repo.create({ region: "cn" });
      await expect(repo.create({ subjectId: s.subjectId, region: "cn" })).rejects.toMatchObject({
        code: "conflict",
      });
      await expect(repo.create({ region: "" })).rejects.toMatchObject({ code: "validation_failed" });
      await expect(repo.create({ subjectId: "x", region: "cn" })).rejects.toMatchObject({
        code: "validation_failed",
      });
      await expect(repo.list({ limit: 0 })).rejects.toMatchObject({ code: "validation_failed" });
      await expect(repo.list({ cursor: "garbage" })).rejects.toMatchObject({ code: "validation_failed" });
      await expect(repo.setStatus(randomUUID(), "active")).rejects.toMatchObject({ code: "not_found" });
    });
  });

  describe("message-repo", () => {
    it("SEC-1: stores a sealed recipient, moves through sent/failed/read, and lists by subject and dev outbox", async () => {
      const vault = createVault({
        db: database.db,
        keyProvider: envKeyProvider(randomBytes(32).toString("base64")),
      });
      const repo = createMessageRepo(database.db);
      const subjectId = randomUUID();
      const sealed = await vault.sealSystem("wang.wu@example.cn");
      const t0 = new Date("2025-02-01T00:00:00Z");
      const email = await repo.insert({
        subjectId,
        channel: "email",
        template: "request.received",
        locale: "zh-CN",
        recipientSealed: sealed,
        recipientMasked: "w***@example.cn",
        subjectLine: "We received your request",
        body: "Hello",
        dev: true,
        now: t0,
      });
      expect(email.status).toBe("queued");
      expect(await vault.openSystem(email.recipientSealed ?? Buffer.alloc(0))).toBe("wang.wu@example.cn");
      const stored = await database.db
        .selectFrom("messages")
        .selectAll()
        .where("id", "=", email.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain("wang.wu");
      expect(stored.recipient_sealed?.includes(Buffer.from("wang.wu"))).toBe(false);

      const inbox = await repo.insert({
        subjectId,
        channel: "inbox",
        template: "request.done",
        locale: "en",
        body: "Done",
        now: new Date(t0.getTime() + 1000),
      });
      const sms = await repo.insert({
        channel: "sms",
        template: "otp",
        locale: "en",
        body: "code",
        dev: true,
        now: t0,
      });

      expect((await repo.markSent(email.id, new Date(t0.getTime() + 5)))?.status).toBe("sent");
      const failed = await repo.markFailed(sms.id, "smtp: connection refused");
      expect(failed?.status).toBe("failed");
      expect(failed?.error).toBe("smtp: connection refused");
      expect(await repo.markRead(inbox.id, { subjectId: randomUUID() })).toBeUndefined(); // not theirs
      const read = await repo.markRead(inbox.id, { subjectId });
      expect(read?.status).toBe("read");
      expect(read?.readAt).toBeInstanceOf(Date);
      expect(await repo.markSent(randomUUID())).toBeUndefined();

      expect((await repo.listBySubject(subjectId)).map((m) => m.id)).toEqual([inbox.id, email.id]);
      expect((await repo.listBySubject(subjectId, { channel: "inbox" })).map((m) => m.id)).toEqual([
        inbox.id,
      ]);
      expect((await repo.listDevOutbox({ channel: "email" })).map((m) => m.id)).toEqual([email.id]);
      expect((await repo.listDevOutbox()).map((m) => m.id).sort()).toEqual([email.id, sms.id].sort());
    });

    it("markSent and markFailed with ifStatus change only a message still in that status", async () => {
      const repo = createMessageRepo(database.db);
      const queued = await repo.insert({ channel: "sms", template: "otp", locale: "en", body: "code" });
      const failed = await repo.markFailed(queued.id, "gateway refused", { ifStatus: "queued" });
      expect(failed?.status).toBe("failed");
      // A late success no longer applies to a message that is not queued, and changes nothing.
      expect(await repo.markSent(queued.id, new Date(), { ifStatus: "queued" })).toBeUndefined();
      expect(await repo.markFailed(queued.id, "again", { ifStatus: "queued" })).toBeUndefined();
      const after = await repo.get(queued.id);
      expect(after).toMatchObject({ status: "failed", error: "gateway refused", sentAt: null });

      const other = await repo.insert({ channel: "email", template: "otp", locale: "en", body: "code" });
      const at = new Date("2025-03-01T00:00:00Z");
      expect(await repo.markSent(other.id, at, { ifStatus: "queued" })).toMatchObject({
        status: "sent",
        sentAt: at,
      });
    });

    it("refuses an unknown channel or oversized fields", async () => {
      const repo = createMessageRepo(database.db);
      await expect(
        repo.insert({ channel: "fax" as "sms", template: "t", locale: "en", body: "b" }),
      ).rejects.toMatchObject({ code: "validation_failed", details: { field: "channel" } });
      await expect(
        repo.insert({ channel: "sms", template: "t", locale: "en", body: "b".repeat(100_001) }),
      ).rejects.toMatchObject({ code: "validation_failed", details: { field: "body" } });
      await expect(repo.listDevOutbox({ limit: 1000 })).rejects.toMatchObject({ code: "validation_failed" });
    });
  });
});
