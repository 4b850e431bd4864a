import { createHmac, hkdfSync } from "node:crypto";
import {
  AppError,
  type Clock,
  type DecisionReason,
  decide,
  isSwitchedOff,
  newId,
  purposeConsentView,
  type SubjectConsentState,
} from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import {
  type AuditEventInput,
  type AuditLedger,
  createInterestTagRepo,
  type DB,
  type InterestTagInput,
  type InterestTagLabel,
  type Vault,
} from "@custos/store";
import type { Kysely } from "kysely";
import type { ConsentService } from "./consent-service.ts";

/**
 * Personal settings and personalisation (CON-8, CON-15): the two personalisation switches, kept in
 * the consent ledger through the consent service; per-purpose pseudonyms for the services that
 * personalise; the interest tags those services infer (vault-encrypted, seen and deleted by the
 * subject, refused while the switch is off or consent is missing); and the "personalised for you"
 * label with its "why am I seeing this".
 */

export type SettingId = NonNullable<Manifest["purposes"][number]["setting"]>;
type Localized = Record<Language, string>;

/** What turning a switch off means (shown next to it), per setting of the manifest schema. */
export const OFF_MEANS: Record<SettingId, Localized> = {
  "personalised-content": {
    en: "Content is no longer chosen from your interests: you see the same general recommendations as everyone else, and the interest tags inferred for recommendations are deleted.",
    "zh-CN":
      "不再根据您的兴趣为您挑选内容：您看到的是与其他人相同的通用推荐，为内容推荐推断的兴趣标签会被删除。",
  },
  "personalised-ads": {
    en: "You still see adverts, as many as before, but they are not personalised: they are no longer chosen from your interests, and the interest tags inferred for advertising are deleted.",
    "zh-CN":
      "您仍会看到与之前数量相同的广告，但不再是个性化广告：不再根据您的兴趣挑选，为广告推断的兴趣标签会被删除。",
  },
};

const SETTING_NAMES: Record<SettingId, Localized> = {
  "personalised-content": { en: "Personalised content recommendation", "zh-CN": "个性化内容推荐" },
  "personalised-ads": { en: "Personalised advertising", "zh-CN": "个性化广告" },
};

/** The label a service shows on an item: personalised, or the generic one. */
const LABELS: Record<SettingId, { personalised: Localized; generic: Localized }> = {
  "personalised-content": {
    personalised: { en: "Personalised for you", "zh-CN": "为您个性化推荐" },
    generic: { en: "Not personalised", "zh-CN": "非个性化推荐" },
  },
  "personalised-ads": {
    personalised: { en: "Ad · Personalised for you", "zh-CN": "广告 · 为您个性化推荐" },
    generic: { en: "Ad", "zh-CN": "广告" },
  },
};

/** At most this many interest tags are kept per subject and purpose. */
export const MAX_TAGS_PER_PURPOSE = 200;
/** At most this many tag ids are returned in a label's "why". */
const MAX_WHY_TAGS = 50;

const PSEUDONYM_SALT = Buffer.from("custos:pseudonym:v1", "utf8");
const PSEUDONYM_PREFIX = "ps1_";

type Deps = {
  db: Kysely<DB>;
  vault: Vault;
  manifest: Manifest;
  consent: Pick<ConsentService, "recordSwitch" | "statesOf" | "decideMany">;
  audit: Pick<AuditLedger, "appendMany">;
  clock: Clock;
  publicUrl: string;
  /** The configured secret the pseudonym keys are derived from (CUSTOS_PSEUDONYM_SECRET). */
  pseudonymSecret: string;
};

export function createSettingsService({
  db,
  vault,
  manifest,
  consent,
  audit,
  clock,
  publicUrl,
  pseudonymSecret,
}: Deps) {
  const tags = createInterestTagRepo(db, vault, newId);
  const manageUrl = `${publicUrl}/center/settings`;
  const personalisationPurposes = manifest.purposes.filter((p) => p.setting !== undefined);
  const settingIds = [...new Set(personalisationPurposes.map((p) => p.setting as SettingId))];
  const categoryById = new Map(manifest.categories.map((c) => [c.id, c]));
  const retentionById = new Map(manifest.retention.map((r) => [r.id, r]));

  /** One HMAC key per personalisation purpose, derived from the configured secret (HKDF). */
  const pseudonymKeys = new Map(
    personalisationPurposes.map((p) => [
      p.id,
      Buffer.from(hkdfSync("sha256", Buffer.from(pseudonymSecret, "utf8"), PSEUDONYM_SALT, p.id, 32)),
    ]),
  );

  /** A purpose governed by a personalisation setting, or 400 listing the ones there are. */
  function personalisationPurpose(purposeId: string) {
    const purpose = personalisationPurposes.find((p) => p.id === purposeId);
    if (!purpose)
      throw new AppError("validation_failed", {
        message: `"${purposeId}" is not a personalisation purpose (one governed by a personalised-content or personalised-ads setting). Use one of: ${personalisationPurposes.map((p) => p.id).join(", ")}.`,
        details: { validPurposes: personalisationPurposes.map((p) => p.id) },
      });
    return { ...purpose, setting: purpose.setting as SettingId };
  }

  function settingOrThrow(id: string): SettingId {
    if (!(settingIds as string[]).includes(id))
      throw new AppError("validation_failed", {
        message: `There is no setting "${id}" in the notice in force. Use one of: ${settingIds.join(", ")}.`,
        details: { valid: settingIds },
      });
    return id as SettingId;
  }

  /** The profile category a purpose keeps its interest tags in, with its vault key group. */
  function tagCategoryOf(purpose: Manifest["purposes"][number]) {
    for (const cid of purpose.categories) {
      const c = categoryById.get(cid);
      if (c?.classification !== "profile") continue;
      const group = retentionById.get(c.retention ?? "")?.group ?? c.id;
      return { category: c, keyGroup: group };
    }
    throw new AppError("validation_failed", {
      message: `The purpose "${purpose.id}" uses no profile category, so it keeps no interest tags. Declare a category with classification: profile for it in the manifest.`,
    });
  }

  const isOn = (state: SubjectConsentState | undefined, setting: SettingId) =>
    !isSwitchedOff(state?.settings?.[setting]);

  const stateOf = async (subjectId: string) => (await consent.statesOf([subjectId])).get(subjectId);

  const labelText = (label: InterestTagLabel, lang: Language) =>
    label[lang] ?? label.en ?? label["zh-CN"] ?? "";

  async function deleteTagsOf(subjectId: string, purposeIds: readonly string[], reason: string) {
    const removed = await tags.removeAll(subjectId, purposeIds);
    if (removed.length === 0) return 0;
    const now = clock.now();
    const events: AuditEventInput[] = removed.map((r) => ({
      actorType: "subject",
      actorId: subjectId,
      action: "delete",
      subjectId,
      category: r.category,
      purpose: r.purposeId,
      outcome: "allowed",
      reason,
      details: { interestTags: r.count },
      occurredAt: now,
    }));
    await db.transaction().execute((tx) => audit.appendMany(tx, events));
    return removed.reduce((n, r) => n + r.count, 0);
  }

  const service = {
    /** The switches the manifest declares, their state (on unless switched off) and what they govern. */
    async settings(subjectId: string, lang: Language) {
      const state = await stateOf(subjectId);
      return {
        noticeVersion: manifest.version,
        manageUrl,
        settings: settingIds.map((id) => {
          return {
            id,
            name: SETTING_NAMES[id][lang],
            on: isOn(state, id),
            offMeans: OFF_MEANS[id][lang],
            purposes: personalisationPurposes
              .filter((p) => p.setting === id)
              .map((p) => ({
                id: p.id,
                name: p.name[lang],
                description: p.description[lang],
                consent: purposeConsentView(manifest, state, p).state,
                personalised: decide(manifest, state, { purposeId: p.id, categories: [] }).allow,
              })),
          };
        }),
      };
    },

    /**
     * Turns a switch on or off (CON-8) through the consent service (so the ledger, receipts and the
     * change stream see it). Off also deletes the interest tags of the purposes it governs, as the
     * manifest's retention rule promises.
     */
    async setSetting(
      subjectId: string,
      input: { setting: string; on: boolean; language: Language; method: "web" | "app" },
    ) {
      const setting = settingOrThrow(input.setting);
      await consent.recordSwitch(subjectId, {
        kind: "setting",
        id: setting,
        state: input.on ? "given" : "withdrawn",
        language: input.language,
        method: input.method,
      });
      if (!input.on)
        await deleteTagsOf(
          subjectId,
          personalisationPurposes.filter((p) => p.setting === setting).map((p) => p.id),
          "setting-off",
        );
      return service.settings(subjectId, input.language);
    },

    /**
     * The subject's pseudonym for a personalisation purpose (CON-15): HMAC-SHA256 under a key derived
     * per purpose from the configured secret. Stable, different for each purpose, and not reversible:
     * Custos offers no lookup from a pseudonym back to a subject.
     */
    pseudonym(subjectId: string, purposeId: string): string {
      const purpose = personalisationPurpose(purposeId);
      const key = pseudonymKeys.get(purpose.id) as Buffer;
      return PSEUDONYM_PREFIX + createHmac("sha256", key).update(subjectId, "utf8").digest("base64url");
    },

    /**
     * Stores interest tags a service inferred (CON-15), refused with 403 and the decision's reason
     * when the purpose may not process the subject's profile now (switch off, consent missing).
     */
    async inferTags(
      serviceName: string,
      input: { subjectId: string; purposeId: string; tags: readonly InterestTagInput[] },
      requestId?: string,
    ) {
      const purpose = personalisationPurpose(input.purposeId);
      const { category, keyGroup } = tagCategoryOf(purpose);
      const [decision] = await consent.decideMany(
        serviceName,
        [{ subjectId: input.subjectId, purposeId: purpose.id, categories: [category.id] }],
        requestId,
      );
      if (!decision?.allow)
        throw new AppError("forbidden", {
          message: `Interest tags for ${purpose.id} may not be inferred for this subject now (${decision?.reason}): ${
            decision?.reason === "setting-off"
              ? `the subject switched ${purpose.setting} off.`
              : "the subject has not consented to this purpose."
          } Do not personalise for this subject; show generic content instead.`,
          details: { reason: decision?.reason ?? "consent-missing", purposeId: purpose.id },
        });
      const total = await tags.countAfterPut(
        input.subjectId,
        purpose.id,
        input.tags.map((t) => t.tagId),
      );
      if (total > MAX_TAGS_PER_PURPOSE)
        throw new AppError("conflict", {
          message: `A subject keeps at most ${MAX_TAGS_PER_PURPOSE} interest tags per purpose; this would make ${total}. Post fewer, more general tags.`,
          details: { max: MAX_TAGS_PER_PURPOSE },
        });
      const stored = await tags.put({
        subjectId: input.subjectId,
        purposeId: purpose.id,
        category: category.id,
        keyGroup,
        source: serviceName,
        inferredAt: clock.now(),
        tags: input.tags,
      });
      await db.transaction().execute((tx) =>
        audit.appendMany(tx, [
          {
            actorType: "service",
            actorId: serviceName,
            action: "create",
            subjectId: input.subjectId,
            category: category.id,
            purpose: purpose.id,
            outcome: "allowed",
            requestId: requestId ?? null,
            details: { interestTags: stored },
          },
        ]),
      );
      return { purposeId: purpose.id, category: category.id, stored, total };
    },

    /** The interest tags inferred about the subject, newest first, with labels in `lang`. */
    async listTags(subjectId: string, lang: Language) {
      const rows = await tags.list(subjectId);
      return {
        tags: rows.map((t) => {
          const purpose = personalisationPurposes.find((p) => p.id === t.purposeId);
          return {
            id: t.id,
            tagId: t.tagId,
            label: labelText(t.label, lang) || t.tagId,
            purposeId: t.purposeId,
            purposeName: purpose?.name[lang] ?? t.purposeId,
            category: t.category,
            categoryName: categoryById.get(t.category)?.name[lang] ?? t.category,
            inferredAt: t.inferredAt.toISOString(),
          };
        }),
      };
    },

    /** Deletes one of the subject's tags (the row goes); 404 when it is not theirs or already gone. */
    async deleteTag(subjectId: string, id: string) {
      const removed = await tags.remove(subjectId, id);
      if (!removed)
        throw new AppError("not_found", {
          message: "There is no such interest tag (it may have been deleted already). Reload the list.",
        });
      await db.transaction().execute((tx) =>
        audit.appendMany(tx, [
          {
            actorType: "subject",
            actorId: subjectId,
            action: "delete",
            subjectId,
            category: removed.category,
            purpose: removed.purposeId,
            outcome: "allowed",
            reason: "subject-request",
            details: { interestTags: 1 },
          },
        ]),
      );
      return { deleted: 1 };
    },

    /** Deletes all the subject's tags, or those of one purpose. */
    async deleteAllTags(subjectId: string, purposeId?: string) {
      const purposeIds = purposeId
        ? [personalisationPurpose(purposeId).id]
        : personalisationPurposes.map((p) => p.id);
      return { deleted: await deleteTagsOf(subjectId, purposeIds, "subject-request") };
    },

    /**
     * The label a service shows on a personalised item or ad, and its "why am I seeing this": the
     * purpose, the tag ids used (never their labels), the switch and where to manage it.
     */
    async label(
      serviceName: string,
      input: { subjectId: string; purposeId: string; itemId?: string | undefined },
      requestId?: string,
    ) {
      const purpose = personalisationPurpose(input.purposeId);
      const { category } = tagCategoryOf(purpose);
      const [decision] = await consent.decideMany(
        serviceName,
        [{ subjectId: input.subjectId, purposeId: purpose.id, categories: [category.id] }],
        requestId,
      );
      const personalised = decision?.allow === true;
      const state = await stateOf(input.subjectId);
      const used = personalised ? await tags.list(input.subjectId, [purpose.id]) : [];
      return {
        ...(input.itemId === undefined ? {} : { itemId: input.itemId }),
        personalised,
        label: personalised ? LABELS[purpose.setting].personalised : LABELS[purpose.setting].generic,
        why: {
          purposes: [purpose.id],
          reason: (decision?.reason ?? "consent-missing") as DecisionReason,
          tags: used.slice(0, MAX_WHY_TAGS).map((t) => t.tagId),
          setting: { id: purpose.setting, on: isOn(state, purpose.setting) },
          manageUrl,
        },
      };
    },

    /** "Why am I seeing this" for the subject: the same facts, with names and tag labels. */
    async why(subjectId: string, purposeId: string, lang: Language) {
      const purpose = personalisationPurpose(purposeId);
      const state = await stateOf(subjectId);
      const decision = decide(manifest, state, { purposeId: purpose.id, categories: [] });
      const own = await tags.list(subjectId, [purpose.id]);
      return {
        purposeId: purpose.id,
        name: purpose.name[lang],
        description: purpose.description[lang],
        personalised: decision.allow,
        reason: decision.reason,
        setting: {
          id: purpose.setting,
          name: SETTING_NAMES[purpose.setting][lang],
          on: isOn(state, purpose.setting),
          offMeans: OFF_MEANS[purpose.setting][lang],
        },
        consent: purposeConsentView(manifest, state, purpose).state,
        categories: purpose.categories.map((id) => ({ id, name: categoryById.get(id)?.name[lang] ?? id })),
        tags: own.map((t) => ({ id: t.id, tagId: t.tagId, label: labelText(t.label, lang) || t.tagId })),
        label: decision.allow
          ? LABELS[purpose.setting].personalised[lang]
          : LABELS[purpose.setting].generic[lang],
        manageUrl,
      };
    },
  };
  return service;
}

export type SettingsService = ReturnType<typeof createSettingsService>;
