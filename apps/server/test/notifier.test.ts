import { fixedClock } from "@custos/core";
import {
  createJobQueue,
  createTestDatabase,
  createVault,
  createWorker,
  type Database,
  envKeyProvider,
} from "@custos/store";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNotifier, DELIVER_JOB } from "../src/notifications/notifier.ts";
import { buildTestApp } from "./helpers.ts";
import { startSmtp, waitFor } from "./smtp-helpers.ts";

describe("notifier", () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;

  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it("delivers email through SMTP from the in-process worker, keeping no plaintext recipient", async () => {
    const t = await buildTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: "Privacy <privacy@custos.test>" } });
    try {
      const database = t.database;
      const notifier = createNotifier({
        db: database.db,
        vault: t.vault,
        jobs: createJobQueue(database.db),
        transport: createTransport(smtp.url),
        mailFrom: t.config.mailFrom,
      });
      // The app's own notifier is what the worker uses; send through a second one on the same tables.
      const sent = await notifier.send({
        channel: "email",
        to: "erin.example@mail.test",
        template: "verification-code",
        locale: "zh-CN",
        data: { code: "482913" },
      });
      expect(sent).toMatchObject({ channel: "email", status: "queued", dev: false });

      const row = await waitFor(async () => {
        const r = await database.db
          .selectFrom("messages")
          .selectAll()
          .where("id", "=", sent.id)
          .executeTakeFirst();
        return r?.status === "sent" ? r : undefined;
      });
      expect(row.recipient_masked).toBe("e***@mail.test");
      expect(row.subject_line).toBe("您的验证码");
      const mail = smtp.received.find((m) => m.to.includes("erin.example@mail.test"));
      expect(mail?.from).toBe("privacy@custos.test");
      const [, encodedBody = ""] = (mail?.data ?? "").split("\r\n\r\n");
      expect(Buffer.from(encodedBody, "base64").toString("utf8")).toContain("您的验证码是 482913");

      // SEC-1: the recipient is sealed, never stored in clear, anywhere in the messages table.
      const rows = await database.db.selectFrom("messages").selectAll().execute();
      const dump = JSON.stringify(rows, (_k, v) =>
        v?.type === "Buffer" ? Buffer.from(v.data).toString("latin1") : v,
      );
      expect(dump).not.toContain("erin.example");
      expect(await t.vault.openSystem(row.recipient_sealed as Buffer)).toBe("erin.example@mail.test");
    } finally {
      await t.close();
    }
  });

  it("SEC-2: sms and push land in the dev outbox, masked, and the outbox route shows them only in dev mode", async () => {
    const t = await buildTestApp({ env: { CUSTOS_DEV: "1" } });
    try {
      const notifier = createNotifier({
        db: t.database.db,
        vault: t.vault,
        jobs: createJobQueue(t.database.db),
      });
      const sms = await notifier.send({
        channel: "sms",
        to: "13812345678",
        template: "verification-code",
        locale: "en",
        data: { code: "1234", minutes: 5 },
      });
      const push = await notifier.send({
        channel: "push",
        to: "device-token-abcdef987",
        template: "generic-notice",
        locale: "en",
        data: { title: "Hello", body: "Your request is done." },
      });
      expect(sms.dev).toBe(true);
      expect(push.dev).toBe(true);
      await notifier.send({
        channel: "inbox",
        subjectId: "6f1c1c1e-7d2a-4d8e-9b7a-2f4f0f3b9a10",
        template: "policy-updated",
        locale: "zh-CN",
        data: { version: "2025-01-01", effectiveDate: "2025-02-01", url: "https://custos.test/center" },
      });

      const outbox = await waitFor(async () => {
        const res = await t.app.inject({ method: "GET", url: "/api/v1/dev/outbox" });
        const body = res.json() as { messages: { id: string; to: string; status: string; body: string }[] };
        return body.messages.length === 2 && body.messages.every((m) => m.status === "sent")
          ? body
          : undefined;
      });
      const byId = new Map(outbox.messages.map((m) => [m.id, m]));
      expect(byId.get(sms.id)?.to).toBe("138****5678");
      expect(byId.get(sms.id)?.body).toContain("1234");
      expect(byId.get(push.id)?.to).toBe("****f987");
      const raw = await t.app.inject({ method: "GET", url: "/api/v1/dev/outbox" });
      expect(raw.body).not.toContain("13812345678");
      expect(raw.body).not.toContain("device-token");
    } finally {
      await t.close();
    }
    const prod = await buildTestApp({ deps: { startWorker: false } });
    try {
      const res = await prod.app.inject({ method: "GET", url: "/api/v1/dev/outbox" });
      expect(res.statusCode).toBe(404);
    } finally {
      await prod.close();
    }
  });

  it("refuses bad input with the field named: unknown template, bad data, missing recipient", async () => {
    const database: Database = await createTestDatabase();
    try {
      const vault = createVault({
        db: database.db,
        keyProvider: envKeyProvider(Buffer.alloc(32, 7).toString("base64")),
      });
      const notifier = createNotifier({ db: database.db, vault, jobs: createJobQueue(database.db) });
      await expect(
        notifier.send({ channel: "email", to: "a@b.test", template: "nope", locale: "en", data: {} }),
      ).rejects.toMatchObject({
        code: "validation_failed",
        message: expect.stringContaining("verification-code"),
      });
      await expect(
        notifier.send({
          channel: "sms",
          to: "13812345678",
          template: "verification-code",
          locale: "en",
          data: { code: "x" },
        }),
      ).rejects.toMatchObject({ code: "validation_failed", message: expect.stringContaining("data.code") });
      await expect(
        notifier.send({
          channel: "email",
          template: "generic-notice",
          locale: "en",
          data: { title: "a", body: "b" },
        }),
      ).rejects.toMatchObject({ code: "validation_failed", message: expect.stringContaining("to:") });
      expect(await database.db.selectFrom("messages").selectAll().execute()).toHaveLength(0);
      expect(await database.db.selectFrom("jobs").selectAll().execute()).toHaveLength(0);
    } finally {
      await database.close();
    }
  });

  it("a failing SMTP server is retried with backoff, then the message is marked failed", async () => {
    const refusing = await startSmtp({ reject: true });
    const database = await createTestDatabase();
    try {
      const clock = fixedClock("2025-01-01T00:00:00Z");
      const vault = createVault({
        db: database.db,
        keyProvider: envKeyProvider(Buffer.alloc(32, 9).toString("base64")),
      });
      const notifier = createNotifier({
        db: database.db,
        vault,
        jobs: createJobQueue(database.db, { clock }),
        transport: createTransport(refusing.url),
        clock,
        maxAttempts: 3,
      });
      const worker = createWorker({
        db: database.db,
        clock,
        backoffMs: (attempt) => 1000 * 2 ** (attempt - 1),
        handlers: {
          [DELIVER_JOB]: ({ job }) =>
            notifier.deliver(job.payload, { attempt: job.attempts, maxAttempts: job.maxAttempts }),
        },
      });
      const sent = await notifier.send({
        channel: "email",
        to: "frank@mail.test",
        template: "generic-notice",
        locale: "en",
        data: { title: "Hi", body: "Body" },
      });
      const status = async () =>
        database.db
          .selectFrom("messages")
          .select(["status", "error"])
          .where("id", "=", sent.id)
          .executeTakeFirstOrThrow();
      const job = async () => database.db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();

      expect(await worker.runOnce()).toBe(1);
      expect((await status()).status).toBe("queued");
      expect((await job()).attempts).toBe(1);
      expect(await worker.runOnce()).toBe(0); // not due before the backoff has passed
      clock.advance(1000);
      expect(await worker.runOnce()).toBe(1);
      expect((await job()).attempts).toBe(2);
      clock.advance(2000);
      expect(await worker.runOnce()).toBe(1);
      const final = await status();
      expect(final.status).toBe("failed");
      expect(final.error).toBeTruthy();
      expect(final.error).not.toContain("frank");
      expect((await job()).failed_at).not.toBeNull();
      expect(refusing.received).toHaveLength(0);
    } finally {
      await database.close();
      await refusing.close();
    }
  });
});
