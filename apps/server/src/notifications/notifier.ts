import { AppError, type Clock, maskEmail, maskPhone, newId, systemClock } from "@custos/core";
import type { Language } from "@custos/manifest";
import {
  createMessageRepo,
  type DB,
  type JobQueue,
  type Message,
  type MessageChannel,
  type Vault,
} from "@custos/store";
import type { Kysely } from "kysely";
import { z } from "zod";
import { scrubText } from "../logging.ts";
import { renderTemplate, TEMPLATE_IDS } from "./templates.ts";

/**
 * The notifier: email (SMTP), SMS and push (dev-outbox adapters until real gateways are configured)
 * and the in-app inbox. `send` stores the message (recipient sealed, masked copy for display) and
 * queues a `notify.deliver` job in the same transaction; the job handler delivers and records the
 * outcome, retried by the worker with backoff.
 */

export const DELIVER_JOB = "notify.deliver";

/** The subset of a nodemailer transporter the notifier uses. */
export type MailTransport = {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    /** Extra headers (e.g. List-Unsubscribe, CON-9), passed as prepared single lines. */
    headers?: Record<string, { prepared: true; value: string }>;
  }): Promise<unknown>;
};

/** A gateway for SMS or push. Absent → the message stays in the dev outbox. */
export type MessageAdapter = { deliver(message: { to: string; text: string }): Promise<void> };

export const SendInput = z
  .strictObject({
    channel: z.enum(["email", "sms", "push", "inbox"]),
    to: z.string().min(1).max(320).optional(),
    subjectId: z.uuid().optional(),
    template: z.string().min(1).max(64),
    locale: z.enum(["en", "zh-CN"]),
    data: z.record(z.string().max(64), z.unknown()).default({}),
  })
  .superRefine((input, ctx) => {
    if (input.channel === "inbox" && !input.subjectId)
      ctx.addIssue({
        code: "custom",
        path: ["subjectId"],
        message: "an inbox message needs the subjectId it belongs to",
      });
    if (input.channel !== "inbox" && !input.to)
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: `a ${input.channel} message needs a recipient in "to"`,
      });
    if (input.channel === "email" && input.to && !z.email().safeParse(input.to).success)
      ctx.addIssue({ code: "custom", path: ["to"], message: "expected an email address" });
    if (input.channel === "sms" && input.to && !/^\+?[0-9][0-9 -]{5,19}$/.test(input.to))
      ctx.addIssue({ code: "custom", path: ["to"], message: "expected a phone number such as 13812341234" });
  });
export type SendInput = z.input<typeof SendInput>;

export type SentMessage = { id: string; channel: MessageChannel; status: "queued" | "sent"; dev: boolean };

/** Which try this is (1 on the first) of how many; from the store worker's `job.attempts`/`job.maxAttempts`. */
export type DeliveryAttempt = { attempt: number; maxAttempts: number };

/** Extra mail headers carried to delivery (email only): name → one-line value. */
export type SendOptions = { mailHeaders?: Record<string, string> | undefined };

export type Notifier = {
  send(input: SendInput, options?: SendOptions): Promise<SentMessage>;
  /** The `notify.deliver` job handler. Throws to have the worker retry. */
  deliver(payload: unknown, attempt: DeliveryAttempt): Promise<void>;
  listDevOutbox(limit: number): Promise<Message[]>;
  templates: readonly string[];
};

export type NotifierDeps = {
  db: Kysely<DB>;
  vault: Pick<Vault, "sealSystem" | "openSystem">;
  /** The store's job queue (`createJobQueue` from @custos/store). */
  jobs: Pick<JobQueue, "enqueue">;
  /** SMTP transport; absent → email lands in the dev outbox only. */
  transport?: MailTransport | undefined;
  mailFrom?: string;
  sms?: MessageAdapter | undefined;
  push?: MessageAdapter | undefined;
  clock?: Clock;
  maxAttempts?: number;
};

function maskRecipient(channel: MessageChannel, to: string): string {
  if (channel === "email") return maskEmail(to);
  if (channel === "sms") return maskPhone(to);
  // A push token: keep only its last four characters.
  return to.length <= 4 ? "****" : `****${to.slice(-4)}`;
}

const DeliverPayload = z.strictObject({
  messageId: z.uuid(),
  mailHeaders: z
    .record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/),
      z
        .string()
        .max(900)
        .regex(/^[^\r\n]*$/),
    )
    .optional(),
});

export function createNotifier(deps: NotifierDeps): Notifier {
  const clock = deps.clock ?? systemClock;
  const messages = createMessageRepo(deps.db);
  const mailFrom = deps.mailFrom ?? "Custos <no-reply@localhost>";
  const maxAttempts = deps.maxAttempts ?? 5;

  /** True when the channel has a real gateway; otherwise the message is a dev-outbox message. */
  const isLive = (channel: MessageChannel): boolean =>
    channel === "email"
      ? deps.transport !== undefined
      : channel === "sms"
        ? deps.sms !== undefined
        : channel === "push"
          ? deps.push !== undefined
          : true;

  async function send(raw: SendInput, options: SendOptions = {}): Promise<SentMessage> {
    const parsed = SendInput.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: i.path.join(".") || "input",
        message: i.message,
      }));
      throw new AppError("validation_failed", {
        message: `The message cannot be sent (${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}).`,
        details: { issues },
      });
    }
    const input = parsed.data;
    const rendered = renderTemplate(input.template, input.locale as Language, input.data);
    const id = newId();
    const now = clock.now();
    // Seal before the transaction: the vault may create its system key, and PGlite has one connection.
    const recipientSealed = input.to ? await deps.vault.sealSystem(input.to) : null;
    const recipientMasked = input.to ? maskRecipient(input.channel, input.to) : "";
    const isInbox = input.channel === "inbox";
    const dev = !isLive(input.channel);

    await deps.db.transaction().execute(async (tx) => {
      const inTx = createMessageRepo(tx);
      await inTx.insert({
        id,
        subjectId: input.subjectId ?? null,
        channel: input.channel,
        template: input.template,
        locale: input.locale,
        recipientSealed,
        recipientMasked,
        subjectLine: rendered.subject,
        body: rendered.text,
        dev,
        now,
      });
      // An inbox message is delivered by being stored; the others wait for the deliver job.
      if (isInbox) await inTx.markSent(id, now);
      else
        await deps.jobs.enqueue(tx, {
          kind: DELIVER_JOB,
          payload: options.mailHeaders
            ? DeliverPayload.parse({ messageId: id, mailHeaders: options.mailHeaders })
            : { messageId: id },
          runAt: now,
          idempotencyKey: `${DELIVER_JOB}:${id}`,
          maxAttempts,
        });
    });
    return { id, channel: input.channel, status: isInbox ? "sent" : "queued", dev };
  }

  async function deliver(payload: unknown, attempt: DeliveryAttempt): Promise<void> {
    const { messageId, mailHeaders } = DeliverPayload.parse(payload);
    const message = await messages.get(messageId);
    if (message?.status !== "queued") return; // delivered already, or gone: nothing to do.

    if (message.dev || !isLive(message.channel)) {
      await messages.markSent(message.id, clock.now(), { ifStatus: "queued" });
      return;
    }
    if (!message.recipientSealed) {
      await messages.markFailed(message.id, "no recipient", { ifStatus: "queued" });
      return;
    }
    const to = await deps.vault.openSystem(message.recipientSealed);
    try {
      if (message.channel === "email" && deps.transport)
        await deps.transport.sendMail({
          from: mailFrom,
          to,
          subject: message.subjectLine,
          text: message.body,
          ...(mailHeaders
            ? {
                headers: Object.fromEntries(
                  Object.entries(mailHeaders).map(([k, v]) => [k, { prepared: true as const, value: v }]),
                ),
              }
            : {}),
        });
      else if (message.channel === "sms" && deps.sms) await deps.sms.deliver({ to, text: message.body });
      else if (message.channel === "push" && deps.push) await deps.push.deliver({ to, text: message.body });
    } catch (err) {
      // The stored error never holds the address: transports quote it in their messages.
      const reason = scrubText(
        (err instanceof Error ? err.message : String(err)).replaceAll(to, "[recipient]"),
      ).slice(0, 500);
      // On the last try the message is marked failed; before that it stays queued (the job keeps the error).
      if (attempt.attempt >= attempt.maxAttempts)
        await messages.markFailed(message.id, reason, { ifStatus: "queued" });
      throw new Error(`delivery of message ${message.id} failed: ${reason}`);
    }
    await messages.markSent(message.id, clock.now(), { ifStatus: "queued" });
  }

  return {
    send,
    deliver,
    listDevOutbox: (limit) => messages.listDevOutbox({ limit }),
    templates: TEMPLATE_IDS,
  };
}
