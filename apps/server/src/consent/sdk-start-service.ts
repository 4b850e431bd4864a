import { AppError, type Clock, DECISION_REASONS, decide } from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import { type AuditLedger, createPromptsRepo, type DB, inTransaction, type SdkSwitch } from "@custos/store";
import type { Kysely } from "kysely";
import type { ConsentService } from "./consent-service.ts";

/**
 * Third-party SDK start checks (CON-16). The app asks before it initialises an embedded SDK (a
 * manifest recipient of kind `sdk`). The answer is no while the SDK is switched off (manifest
 * `enabled: false`, or the runtime switch an admin or the privacy officer flips in the console), and
 * no until `decide()` allows at least one of the SDK's purposes for that subject; the answer lists
 * each purpose, so the app initialises the SDK only for those allowed. Every refusal is audited.
 */

export const SDK_START_REASONS = [
  "purposes-allowed",
  "no-purpose-allowed",
  "switched-off",
  "disabled-in-manifest",
] as const;
export type SdkStartReason = (typeof SDK_START_REASONS)[number];

/** Why one purpose may or may not use the SDK: a decision reason, or the SDK being off. */
export const SDK_PURPOSE_REASONS = [...DECISION_REASONS, "sdk-switched-off"] as const;
export type SdkPurposeReason = (typeof SDK_PURPOSE_REASONS)[number];

export type SdkStartAnswer = {
  sdkId: string;
  start: boolean;
  reason: SdkStartReason;
  purposes: { purposeId: string; allowed: boolean; reason: SdkPurposeReason }[];
};

type Deps = {
  db: Kysely<DB>;
  manifest: Manifest;
  consent: Pick<ConsentService, "statesOf">;
  audit: AuditLedger;
  clock: Clock;
};

export function createSdkStartService({ db, manifest, consent, audit, clock }: Deps) {
  const repo = createPromptsRepo(db);
  const sdks = manifest.recipients.filter((r) => r.kind === "sdk");

  function sdkOrThrow(sdkId: string) {
    const sdk = sdks.find((r) => r.id === sdkId);
    if (!sdk)
      throw new AppError("not_found", {
        message: `There is no SDK "${sdkId}" in the notice in force. SDKs are the manifest recipients of kind sdk: ${sdks.map((s) => s.id).join(", ")}.`,
        details: { validSdks: sdks.map((s) => s.id) },
      });
    return sdk;
  }

  const switchView = (row: SdkSwitch | undefined) =>
    row
      ? {
          enabled: row.enabled,
          reason: row.reason,
          changedBy: row.changedBy,
          changedAt: row.changedAt.toISOString(),
        }
      : null;

  const service = {
    /** May `sdkId` start for `subjectId`? Audits a refusal. */
    async mayStart(
      serviceName: string,
      sdkId: string,
      subjectId: string,
      requestId?: string,
    ): Promise<SdkStartAnswer> {
      const sdk = sdkOrThrow(sdkId);
      const switched = await repo.sdkSwitch(sdkId);
      const on = sdk.enabled && switched?.enabled !== false;
      const state = (await consent.statesOf([subjectId])).get(subjectId);
      const purposes = sdk.purposes.map((purposeId) => {
        const purpose = manifest.purposes.find((p) => p.id === purposeId);
        // What the SDK receives for this purpose: its categories that the purpose declares.
        const categories = sdk.categories.filter((c) => purpose?.categories.includes(c));
        const d = decide(manifest, state, { purposeId, categories });
        return on
          ? { purposeId, allowed: d.allow, reason: d.reason as SdkPurposeReason }
          : { purposeId, allowed: false, reason: "sdk-switched-off" as const };
      });
      const reason: SdkStartReason = !sdk.enabled
        ? "disabled-in-manifest"
        : !on
          ? "switched-off"
          : purposes.some((p) => p.allowed)
            ? "purposes-allowed"
            : "no-purpose-allowed";
      const answer = { sdkId, start: reason === "purposes-allowed", reason, purposes };
      if (!answer.start) {
        const denied = on ? purposes : [];
        await audit.append(db, {
          actorType: "service",
          actorId: serviceName,
          action: "decide",
          subjectId,
          outcome: "denied",
          reason: `sdk-start:${reason}`,
          requestId: requestId ?? null,
          details: {
            sdkId,
            purposes: sdk.purposes.slice(0, 100),
            purposeReasons: denied.map((p) => p.reason).slice(0, 100),
          },
          occurredAt: clock.now(),
        });
      }
      return answer;
    },

    /** Every SDK with its purposes and switch, for the console. */
    async list(lang: Language) {
      const switches = new Map((await repo.sdkSwitches()).map((s) => [s.sdkId, s]));
      return sdks.map((sdk) => {
        const row = switches.get(sdk.id);
        return {
          sdkId: sdk.id,
          name: sdk.name[lang],
          company: sdk.company[lang],
          sdkPurposes: sdk.sdkPurposes.map((id) => ({
            id,
            name: manifest.sdkPurposes.find((p) => p.id === id)?.name[lang] ?? id,
          })),
          purposes: sdk.purposes.map((purposeId) => {
            const purpose = manifest.purposes.find((p) => p.id === purposeId);
            return {
              purposeId,
              name: purpose?.name[lang] ?? purposeId,
              legalBasis: purpose?.legalBasis ?? "",
              consent: purpose?.consent ?? "none",
            };
          }),
          categories: sdk.categories,
          manifestEnabled: sdk.enabled,
          enabled: sdk.enabled && row?.enabled !== false,
          switch: switchView(row),
        };
      });
    },

    /** Flips the runtime switch of an SDK (admin or privacy officer), with an audit event. */
    async setSwitch(
      staffId: string,
      sdkId: string,
      input: { enabled: boolean; reason: string },
      lang: Language,
    ) {
      const sdk = sdkOrThrow(sdkId);
      if (input.enabled && !sdk.enabled)
        throw new AppError("conflict", {
          message: `The SDK "${sdkId}" is switched off in the manifest (enabled: false). Publish a manifest that enables it; the console can only switch off further.`,
        });
      const changedAt = clock.now();
      await inTransaction(db, async (tx) => {
        await createPromptsRepo(tx).setSdkSwitch({
          sdkId,
          enabled: input.enabled,
          reason: input.reason,
          changedBy: staffId,
          changedAt,
        });
        await audit.append(tx, {
          actorType: "staff",
          actorId: staffId,
          action: "update",
          outcome: "allowed",
          reason: input.reason,
          details: { target: "sdk-switch", sdkId, enabled: input.enabled },
          occurredAt: changedAt,
        });
      });
      const entry = (await service.list(lang)).find((s) => s.sdkId === sdkId);
      if (!entry) throw new Error("the SDK disappeared from the manifest");
      return entry;
    },
  };
  return service;
}
export type SdkStartService = ReturnType<typeof createSdkStartService>;
