import { AppError, type Clock, decide, isSwitchedOff, MARKETING_FEATURE } from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import {
  type ConsentStateRow,
  createAccountRepo,
  createSubjectFieldRepo,
  type DB,
  type Vault,
} from "@custos/store";
import type { Kysely } from "kysely";
import { parsePhone } from "../accounts/account-validation.ts";
import type { Notifier } from "../notifications/notifier.ts";
import type { Actor, ConsentService } from "./consent-service.ts";
import { buildMarketingEmail, buildMarketingSms, SMS_UNSUBSCRIBED } from "./marketing-mail.ts";
import { isUnsubscribeReply } from "./sms-reply.ts";
import {
  DEFAULT_TOKEN_TTL_MS,
  signUnsubscribeToken,
  TOKEN_CHANNELS,
  type TokenChannel,
  verifyUnsubscribeToken,
} from "./unsubscribe-token.ts";

/**
 * Marketing subscriptions per channel (CON-9). The channels come from the manifest; each choice is
 * a consent event of kind `marketing` recorded through the consent service (subscribed = given,
 * unsubscribed = withdrawn), so the ledger, receipts, the change stream and `decide` all see it.
 * Three ways out, each one step: a switch in the privacy center, a reply to a marketing SMS
 * (TD/STOP/退订…), and the one-click link of every marketing email (RFC 8058).
 *
 * A channel never touched counts as subscribed only while the marketing purposes are consented,
 * which is what `decide` answers for a marketing purpose with a channel.
 */

/** The name marketing sends decide and audit under. */
export const MARKETING_SERVICE = "custos-marketing";

/** Where a subject's contacts are kept (the accounts module's registration fields). */
const REGISTRATION = "registration";

export type ChannelView = {
  id: string;
  name: string;
  /** How to unsubscribe on this channel, from the manifest. */
  unsubscribe: string;
  /** The person's choice for the channel (an untouched channel follows the marketing consent). */
  subscribed: boolean;
  /** Whether the person chose for this channel themselves (false: it follows the marketing consent). */
  chosen: boolean;
  /** Whether a marketing message may go out on this channel now (`decide`). */
  receives: boolean;
  /** When the choice last changed (ISO 8601), or null when never. */
  changedAt: string | null;
};

export type SubscriptionsView = {
  /** Whether the marketing purposes are consented (the default of untouched channels). */
  marketingConsented: boolean;
  channels: ChannelView[];
};

export type MarketingSendInput = {
  subjectId: string;
  channel: "email" | "sms" | "push";
  locale: Language;
  subject: string;
  text: string;
  /** A marketing purpose of the manifest; default: the first one. */
  purposeId?: string | undefined;
  /** The push token, for `push` (email and phone come from the account). */
  to?: string | undefined;
};

export type MarketingSendResult =
  | { status: "sent"; messageId: string }
  | { status: "skipped"; reason: string };

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  manifest: Manifest;
  consent: Pick<ConsentService, "recordSwitch" | "statesOf" | "decideMany">;
  /** The subject's consent projection rows (for the date of each change). */
  stateRows: (subjectId: string) => Promise<ConsentStateRow[]>;
  notifier: Pick<Notifier, "send">;
  clock: Clock;
  publicUrl: string;
  mailFrom: string;
  /** The key of one-click links (configured, or derived from the vault). */
  tokenKey: () => Promise<Buffer>;
  tokenTtlMs?: number;
};

const asLanguage = (locale: string | undefined): Language => (locale === "zh-CN" ? "zh-CN" : "en");

export function createSubscriptionService(deps: Deps) {
  const { manifest, consent, clock } = deps;
  const accounts = createAccountRepo(deps.db);
  const fields = createSubjectFieldRepo(deps.db, deps.vault);
  const marketingPurposes = manifest.purposes.filter((p) => p.features?.includes(MARKETING_FEATURE));
  const counts = { sent: 0, skipped: 0, skippedByReason: {} as Record<string, number> };

  function channelOrThrow(id: string) {
    const channel = manifest.marketingChannels.find((c) => c.id === id);
    if (!channel)
      throw new AppError("not_found", {
        message: `There is no marketing channel "${id.slice(0, 64)}". Use one of: ${manifest.marketingChannels.map((c) => c.id).join(", ")}.`,
        details: { valid: manifest.marketingChannels.map((c) => c.id) },
      });
    return channel;
  }

  async function languageOf(subjectId: string): Promise<Language> {
    return asLanguage((await accounts.get(subjectId))?.locale);
  }

  /** Records a withdrawal of the channel unless it is off already (repeated replies, retried webhooks). */
  async function unsubscribe(
    subjectId: string,
    channel: string,
    method: "web" | "sms" | "email",
    language?: Language,
  ): Promise<boolean> {
    const state = (await consent.statesOf([subjectId])).get(subjectId);
    if (isSwitchedOff(state?.marketing?.[channel])) return false;
    await consent.recordSwitch(subjectId, {
      kind: "marketing",
      id: channel,
      state: "withdrawn",
      language: language ?? (await languageOf(subjectId)),
      method,
    });
    return true;
  }

  const tokenError = (reason: "malformed" | "signature" | "expired") =>
    new AppError("validation_failed", {
      message:
        reason === "expired"
          ? "This unsubscribe link has expired. Unsubscribe in the privacy center (/center/subscriptions) instead."
          : "This unsubscribe link is not valid: it was changed or cut short. Open the link from the email again, or unsubscribe in the privacy center (/center/subscriptions).",
      details: { reason: `token_${reason}` },
    });

  const service = {
    /** Each channel of the manifest with the person's choice, its unsubscribe text and last change. */
    async list(subjectId: string, lang: Language): Promise<SubscriptionsView> {
      const [states, rows] = await Promise.all([consent.statesOf([subjectId]), deps.stateRows(subjectId)]);
      const state = states.get(subjectId);
      const allows = (channel?: string) =>
        marketingPurposes.some(
          (p) => decide(manifest, state, { purposeId: p.id, categories: [], channel }).allow,
        );
      const marketingConsented = allows();
      return {
        marketingConsented,
        channels: manifest.marketingChannels.map((c) => {
          const entry = state?.marketing?.[c.id];
          const chosen = entry?.state === "given" || isSwitchedOff(entry);
          const row = rows.find((r) => r.targetKind === "marketing" && r.targetId === c.id);
          return {
            id: c.id,
            name: c.name[lang],
            unsubscribe: c.unsubscribe[lang],
            subscribed: chosen ? entry?.state === "given" : marketingConsented,
            chosen,
            receives: allows(c.id),
            changedAt: row ? row.updatedAt.toISOString() : null,
          };
        }),
      };
    },

    /** The person's switch in the privacy center: subscribed = given, unsubscribed = withdrawn. */
    async set(
      subjectId: string,
      channel: string,
      input: { subscribed: boolean; language: Language },
      actor: Actor = { actor: "self" },
    ): Promise<SubscriptionsView> {
      channelOrThrow(channel);
      await consent.recordSwitch(
        subjectId,
        {
          kind: "marketing",
          id: channel,
          state: input.subscribed ? "given" : "withdrawn",
          language: input.language,
          method: "web",
        },
        actor,
      );
      return service.list(subjectId, input.language);
    },

    /** A signed one-click token for the subject and channel, issued now. */
    async issueToken(subjectId: string, channel: TokenChannel): Promise<string> {
      return signUnsubscribeToken(await deps.tokenKey(), { subjectId, channel, issuedAt: clock.now() });
    },

    /** The channel a token is for, or a 400 saying the link was altered or expired. */
    async checkToken(token: string): Promise<{ subjectId: string; channel: TokenChannel }> {
      const check = verifyUnsubscribeToken(
        await deps.tokenKey(),
        token,
        clock.now(),
        deps.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
      );
      if (!check.ok) throw tokenError(check.reason);
      channelOrThrow(check.channel);
      return { subjectId: check.subjectId, channel: check.channel };
    },

    /** What the confirmation page shows: the channel's name (nothing about the person). */
    async tokenInfo(token: string, lang: Language) {
      const { channel } = await service.checkToken(token);
      return { channel, name: channelOrThrow(channel).name[lang] };
    },

    /** RFC 8058 one-click: unsubscribes the token's channel (method `email`). Idempotent. */
    async unsubscribeByToken(token: string) {
      const { subjectId, channel } = await service.checkToken(token);
      await unsubscribe(subjectId, channel, "email");
      return { channel, subscribed: false as const };
    },

    /**
     * An inbound SMS from the gateway. An unsubscribe reply from a known number withdraws the SMS
     * channel (method `sms`) and confirms by SMS; anything else is ignored. The caller answers the
     * same whatever happened, so the webhook never tells whether a number is known.
     */
    async handleSmsReply(input: { from: string; text: string }): Promise<"unsubscribed" | "ignored"> {
      if (!isUnsubscribeReply(input.text)) return "ignored";
      const phone = parsePhone(input.from);
      if (!phone) return "ignored";
      const subjectId = await accounts.findByRegistrationIndex(
        "phone",
        await deps.vault.blindIndex("phone", phone),
      );
      if (!subjectId) return "ignored";
      const language = await languageOf(subjectId);
      if (!(await unsubscribe(subjectId, "sms", "sms", language))) return "ignored";
      const confirmation = SMS_UNSUBSCRIBED[language];
      await deps.notifier.send({
        channel: "sms",
        to: phone,
        subjectId,
        template: "generic-notice",
        locale: language,
        data: { title: confirmation.title, body: confirmation.body },
      });
      return "unsubscribed";
    },

    /**
     * Sends one marketing message, only when `decide` allows the marketing purpose on that channel
     * (audited as a decision of MARKETING_SERVICE); otherwise it is skipped and counted. An email
     * carries the one-click unsubscribe headers and footer; a text message says how to reply.
     */
    async sendMarketing(input: MarketingSendInput): Promise<MarketingSendResult> {
      const purpose = input.purposeId
        ? marketingPurposes.find((p) => p.id === input.purposeId)
        : marketingPurposes[0];
      if (!purpose)
        throw new AppError("validation_failed", {
          message: `"${(input.purposeId ?? "").slice(0, 64)}" is not a marketing purpose. Use one of: ${marketingPurposes.map((p) => p.id).join(", ")}.`,
          details: { valid: marketingPurposes.map((p) => p.id) },
        });
      const channel = channelOrThrow(input.channel);
      const categories = channel.categories.filter((c) => purpose.categories.includes(c));
      const [decision] = await consent.decideMany(MARKETING_SERVICE, [
        { subjectId: input.subjectId, purposeId: purpose.id, categories, channel: channel.id },
      ]);
      const skip = (reason: string): MarketingSendResult => {
        counts.skipped += 1;
        counts.skippedByReason[reason] = (counts.skippedByReason[reason] ?? 0) + 1;
        return { status: "skipped", reason };
      };
      if (!decision?.allow) return skip(decision?.reason ?? "denied");

      let sent: { id: string };
      if (input.channel === "email") {
        const to = await fields.get(input.subjectId, REGISTRATION, "email");
        if (!to) return skip("no-recipient");
        const mail = buildMarketingEmail({
          publicUrl: deps.publicUrl,
          mailFrom: deps.mailFrom,
          token: await service.issueToken(input.subjectId, "email"),
          locale: input.locale,
          subject: input.subject,
          text: input.text,
        });
        sent = await deps.notifier.send(
          {
            channel: "email",
            to,
            subjectId: input.subjectId,
            template: "generic-notice",
            locale: input.locale,
            data: { title: mail.subject, body: mail.text },
          },
          { mailHeaders: mail.headers },
        );
      } else {
        const to =
          input.channel === "sms" ? await fields.get(input.subjectId, REGISTRATION, "phone") : input.to;
        if (!to) return skip("no-recipient");
        sent = await deps.notifier.send({
          channel: input.channel,
          to,
          subjectId: input.subjectId,
          template: "generic-notice",
          locale: input.locale,
          data: {
            title: input.subject,
            body: input.channel === "sms" ? buildMarketingSms(input) : input.text,
          },
        });
      }
      counts.sent += 1;
      return { status: "sent", messageId: sent.id };
    },

    /** Sends to many subjects; the ones `decide` refuses are skipped and counted by reason. */
    async sendCampaign(items: readonly MarketingSendInput[]) {
      const out = { sent: 0, skipped: 0, skippedByReason: {} as Record<string, number> };
      for (const item of items) {
        const r = await service.sendMarketing(item);
        if (r.status === "sent") out.sent += 1;
        else {
          out.skipped += 1;
          out.skippedByReason[r.reason] = (out.skippedByReason[r.reason] ?? 0) + 1;
        }
      }
      return out;
    },

    /** Marketing messages sent and skipped since start, by reason. */
    stats() {
      return { sent: counts.sent, skipped: counts.skipped, skippedByReason: { ...counts.skippedByReason } };
    },
  };
  return service;
}
export type SubscriptionService = ReturnType<typeof createSubscriptionService>;

/** The marketing channels a one-click token may name (all of the manifest's kinds). */
export const SUBSCRIPTION_CHANNELS = TOKEN_CHANNELS;
