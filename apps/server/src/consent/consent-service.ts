import {
  AppError,
  type Clock,
  decide,
  iso27560Records,
  kantaraReceipts,
  type PurposeDecision,
  policyFingerprint,
  purposeConsentView,
  purposeFingerprint,
  type ReceiptEvent,
  type SubjectConsentState,
  switchFingerprint,
} from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import type { DB } from "@custos/store";
import { type AuditEventInput, type AuditLedger, type ConsentLedger, POLICY_TARGET_ID } from "@custos/store";
import type { Kysely } from "kysely";
import type { ConsentChanges } from "./consent-changes.ts";

/**
 * Consent and decisions (CON-1..6, CON-12..14, MAN-5). The ledger holds the events; this service
 * checks them against the manifest in force, renders views and receipts, and decides for services
 * (auditing every denial and sensitive decision one by one, and the other allows as counts).
 */

export type ConsentMethodInput = "web" | "app" | "api" | "banner" | "import";

export type RecordConsentInput = {
  /** A purpose id, or undefined with `policy: true` for the policy acceptance. */
  purposeId?: string | undefined;
  policy?: boolean | undefined;
  state: "given" | "refused" | "withdrawn";
  noticeVersion: string;
  language: Language;
  method: ConsentMethodInput;
};

export type Actor =
  | { actor: "self" }
  | { actor: "guardian"; actorId: string }
  | { actor: "staff"; actorId: string; reason: string };

export type DecisionItem = {
  subjectId: string;
  purposeId: string;
  categories: string[];
  /** For a marketing purpose: the channel (CON-9). */
  channel?: string | undefined;
};

/** The kinds of switch kept in the consent ledger besides purposes and the policy (CON-8..10). */
export type SwitchKind = "setting" | "marketing" | "permission";

export type RecordSwitchInput = {
  kind: SwitchKind;
  /** A setting (personalised-content, personalised-ads), a marketing channel or a device permission. */
  id: string;
  /** `given` switches on (or reports a grant); `withdrawn` or `refused` switches off. */
  state: "given" | "refused" | "withdrawn";
  language: Language;
  method: ConsentMethodInput | "sms" | "email";
};

type Deps = {
  db: Kysely<DB>;
  manifest: Manifest;
  ledger: ConsentLedger;
  audit: AuditLedger;
  clock: Clock;
  publicUrl: string;
  /** Where committed changes are published for the decision stream. */
  changes?: ConsentChanges | undefined;
};

export function createConsentService({ db, manifest, ledger, audit, clock, publicUrl, changes }: Deps) {
  const policyUrl = `${publicUrl}/center/policy/privacy-policy`;

  function purposeOrThrow(purposeId: string) {
    const purpose = manifest.purposes.find((p) => p.id === purposeId);
    if (!purpose)
      throw new AppError("validation_failed", {
        message: `There is no purpose "${purposeId}" in the notice in force. Use one of the purpose ids listed by GET /api/v1/me/consents.`,
        details: { validPurposes: manifest.purposes.map((p) => p.id) },
      });
    return purpose;
  }

  /** What a switch governs, or a 422 listing the valid ids of that kind. */
  function switchTarget(kind: SwitchKind, id: string) {
    const invalid = (valid: string[], what: string) =>
      new AppError("validation_failed", {
        message: `There is no ${what} "${id}" in the notice in force. Use one of: ${valid.join(", ")}.`,
        details: { valid },
      });
    if (kind === "setting") {
      const purposes = manifest.purposes.filter((p) => p.setting === id);
      if (purposes.length === 0)
        throw invalid(
          [...new Set(manifest.purposes.flatMap((p) => (p.setting ? [p.setting] : [])))],
          "setting",
        );
      return switchFingerprint(kind, id, {
        purposes: purposes.map((p) => p.id),
        categories: purposes.flatMap((p) => p.categories),
      });
    }
    if (kind === "marketing") {
      const channel = manifest.marketingChannels.find((c) => c.id === id);
      if (!channel)
        throw invalid(
          manifest.marketingChannels.map((c) => c.id),
          "marketing channel",
        );
      return switchFingerprint(kind, id, { categories: channel.categories, version: channel.version });
    }
    const permission = manifest.permissions.find((p) => p.id === id);
    if (!permission)
      throw invalid(
        manifest.permissions.map((p) => p.id),
        "device permission",
      );
    return switchFingerprint(kind, id, { categories: permission.categories, purposes: permission.features });
  }

  const service = {
    manifest,

    /** The consent state of each subject, as `decide` takes it. */
    async statesOf(subjectIds: readonly string[]): Promise<Map<string, SubjectConsentState>> {
      return ledger.statesOf(subjectIds);
    },

    /**
     * Records a personalisation switch (CON-8), a marketing subscription per channel (CON-9) or a
     * device permission grant or revocation reported by the app (CON-10) as a consent event, and
     * publishes the change. The ledger keeps all of them in the subject's chain.
     */
    async recordSwitch(subjectId: string, input: RecordSwitchInput, actor: Actor = { actor: "self" }) {
      const fingerprint = switchTarget(input.kind, input.id);
      await ledger.append(db, [
        {
          subjectId,
          targetKind: input.kind,
          targetId: input.id,
          state: input.state,
          noticeVersion: manifest.version,
          fingerprint,
          language: input.language,
          method: input.method,
          actor: actor.actor,
          actorId: actor.actor === "self" ? null : actor.actorId,
          reason: actor.actor === "staff" ? actor.reason : null,
          occurredAt: clock.now(),
        },
      ]);
      changes?.publish([subjectId]);
      const state = (await ledger.statesOf([subjectId])).get(subjectId);
      return state ?? { purposes: {} };
    },

    /**
     * Records one consent decision by the subject (CON-2: only an explicit `given` gives consent;
     * CON-5: withdrawal is the same single request). Returns the resulting view of the target.
     */
    async record(subjectId: string, input: RecordConsentInput, actor: Actor = { actor: "self" }) {
      if (input.noticeVersion !== manifest.version)
        throw new AppError("conflict", {
          message: `The notice version ${input.noticeVersion} is not the one in force (${manifest.version}). Show the current notice and ask again.`,
          details: { currentNoticeVersion: manifest.version },
        });
      let targetKind: "purpose" | "policy";
      let targetId: string;
      let fingerprint: string;
      if (input.policy) {
        targetKind = "policy";
        targetId = POLICY_TARGET_ID;
        fingerprint = policyFingerprint(manifest);
      } else {
        const purpose = purposeOrThrow(input.purposeId ?? "");
        if (purpose.consent === "none")
          throw new AppError("validation_failed", {
            message: `The purpose "${purpose.id}" rests on the legal basis ${purpose.legalBasis} and needs no consent, so there is nothing to give or withdraw. To object or restrict it, make a rights request.`,
          });
        targetKind = "purpose";
        targetId = purpose.id;
        fingerprint = purposeFingerprint(purpose);
      }
      await ledger.append(db, [
        {
          subjectId,
          targetKind,
          targetId,
          state: input.state,
          noticeVersion: manifest.version,
          fingerprint,
          language: input.language,
          method: input.method,
          actor: actor.actor,
          actorId: actor.actor === "self" ? null : actor.actorId,
          reason: actor.actor === "staff" ? actor.reason : null,
          occurredAt: clock.now(),
        },
      ]);
      changes?.publish([subjectId]);
      return service.current(subjectId, input.language);
    },

    /** The subject's consent per purpose, with the manifest's names (CON-13: `askAgain`). */
    async current(subjectId: string, lang: Language) {
      const state = (await ledger.statesOf([subjectId])).get(subjectId);
      const policyChanged =
        state?.policy !== undefined &&
        (state.policy.state === "invalidated" ||
          (state.policy.state === "given" && state.policy.fingerprint !== policyFingerprint(manifest)));
      return {
        noticeVersion: manifest.version,
        policy: {
          state: policyChanged ? "invalidated" : (state?.policy?.state ?? "not-asked"),
          noticeVersion: state?.policy?.noticeVersion ?? null,
          askAgain: policyChanged,
        },
        purposes: manifest.purposes.map((p) => {
          const view = purposeConsentView(manifest, state, p);
          return {
            ...view,
            name: p.name[lang],
            description: p.description[lang],
            legalBasis: p.legalBasis,
            separateReason: p.separateReason ?? null,
            refusalImpact: p.refusalImpact[lang],
            allowed: decide(manifest, state, { purposeId: p.id, categories: [] }).allow,
          };
        }),
      };
    },

    /** Consent receipts (CON-12) of every consent event of the subject. */
    async receipts(subjectId: string, format: "iso27560" | "kantara") {
      const events: ReceiptEvent[] = (await ledger.events(subjectId)).map((e) => ({
        id: e.id,
        targetKind: e.targetKind,
        targetId: e.targetId,
        state: e.state,
        noticeVersion: e.noticeVersion,
        fingerprint: e.fingerprint,
        language: e.language,
        method: e.method,
        actor: e.actor,
        occurredAt: e.occurredAt,
        hash: e.hash.toString("hex"),
      }));
      const options = { subjectId, policyUrl };
      return format === "kantara"
        ? kantaraReceipts(manifest, events, options)
        : iso27560Records(manifest, events, options);
    },

    /**
     * Decides a batch for a service (MAN-5, CON-1, CON-14). Denials and decisions touching a
     * sensitive category are audited one by one; other allows as per-minute counts.
     */
    async decideMany(
      serviceName: string,
      items: readonly DecisionItem[],
      requestId?: string,
    ): Promise<PurposeDecision[]> {
      const subjectIds = [...new Set(items.map((i) => i.subjectId))];
      const states = await ledger.statesOf(subjectIds);
      const decisions = items.map((item) =>
        decide(manifest, states.get(item.subjectId), {
          purposeId: item.purposeId,
          categories: item.categories,
          channel: item.channel,
        }),
      );
      const now = clock.now();
      const events: AuditEventInput[] = [];
      const counts = new Map<string, { purpose: string; category: string; count: number }>();
      decisions.forEach((d, i) => {
        const item = items[i] as DecisionItem;
        if (!d.allow || d.sensitive) {
          events.push({
            actorType: "service",
            actorId: serviceName,
            action: "decide",
            subjectId: item.subjectId,
            purpose: item.purposeId,
            category: item.categories[0] ?? null,
            outcome: d.allow ? "allowed" : "denied",
            reason: d.reason,
            requestId: requestId ?? null,
            details: { categories: item.categories.slice(0, 100), basis: d.basis },
            occurredAt: now,
          });
          return;
        }
        for (const category of item.categories.length ? item.categories : ["none"]) {
          const key = `${item.purposeId}\u0000${category}`;
          const c = counts.get(key) ?? { purpose: item.purposeId, category, count: 0 };
          c.count += 1;
          counts.set(key, c);
        }
      });
      await db.transaction().execute(async (tx) => {
        await audit.appendMany(tx, events);
        for (const c of counts.values())
          await audit.recordDecisionCount({ service: serviceName, at: now, ...c }, tx);
      });
      return decisions;
    },
  };
  return service;
}
export type ConsentService = ReturnType<typeof createConsentService>;
