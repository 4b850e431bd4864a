import { AppError, type Clock, purposeConsentView, purposeFingerprint } from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import {
  type ConsentLedger,
  createPromptsRepo,
  type DB,
  type PromptKind,
  type PromptOutcome,
} from "@custos/store";
import type { Kysely } from "kysely";
import type { ConsentService } from "./consent-service.ts";
import { permissionNoticeHash } from "./permission-service.ts";

/**
 * Prompts and their cool-down (CON-7). The app asks before it shows a prompt: a separate-consent
 * purpose, a device permission (its purpose notice) or a just-in-time notice. A consent already given,
 * a permission already granted or a notice already acknowledged needs no prompt; a prompt refused or
 * dismissed (in the prompt log, or a refusal or withdrawal in the consent ledger) is not shown again
 * until the cool-down has passed.
 */

export const PROMPT_KINDS = ["purpose", "permission", "notice"] as const;
export const PROMPT_OUTCOMES = ["shown", "accepted", "refused", "dismissed"] as const;
export const SHOW_REASONS = [
  "not-asked",
  "cool-down-over",
  "ask-again",
  "consent-given",
  "granted",
  "acknowledged",
  "cool-down",
] as const;
export type ShowReason = (typeof SHOW_REASONS)[number];

export type ShouldShow = {
  show: boolean;
  reason: ShowReason;
  /** When a prompt in cool-down may be shown again (ISO 8601); null otherwise. */
  nextAt: string | null;
  cooldownHours: number;
};

type Deps = {
  db: Kysely<DB>;
  manifest: Manifest;
  consent: Pick<ConsentService, "statesOf">;
  /** For the time of the latest refusal or withdrawal in the ledger (read only). */
  ledger: Pick<ConsentLedger, "stateRows">;
  clock: Clock;
  cooldownHours: number;
};

const LEDGER_KIND = { purpose: "purpose", permission: "permission" } as const;

export function createPromptService({ db, manifest, consent, ledger, clock, cooldownHours }: Deps) {
  const repo = createPromptsRepo(db);
  const cooldownMs = cooldownHours * 3_600_000;

  /** The prompt's target and the version of what it asks (so a changed prompt is asked again). */
  function targetOf(kind: PromptKind, id: string, lang: Language = "en") {
    const invalid = (valid: string[], what: string) =>
      new AppError("validation_failed", {
        message: `There is no ${what} "${id}" to prompt for in the notice in force. Use one of: ${valid.join(", ")}.`,
        details: { valid },
      });
    if (kind === "purpose") {
      const purpose = manifest.purposes.find((p) => p.id === id && p.consent !== "none");
      if (!purpose)
        throw invalid(
          manifest.purposes.filter((p) => p.consent !== "none").map((p) => p.id),
          "purpose that needs consent",
        );
      return { kind, purpose, version: purposeFingerprint(purpose) } as const;
    }
    if (kind === "permission") {
      const permission = manifest.permissions.find((p) => p.id === id);
      if (!permission)
        throw invalid(
          manifest.permissions.map((p) => p.id),
          "device permission",
        );
      return { kind, permission, version: permissionNoticeHash(permission.notice[lang]) } as const;
    }
    const notice = manifest.notices.find((n) => n.id === id);
    if (!notice)
      throw invalid(
        manifest.notices.map((n) => n.id),
        "notice",
      );
    return { kind, notice, version: notice.version } as const;
  }

  const answer = (show: boolean, reason: ShowReason, nextAt: Date | null = null): ShouldShow => ({
    show,
    reason,
    nextAt: nextAt ? nextAt.toISOString() : null,
    cooldownHours,
  });

  /** The latest refusal: a refused or dismissed prompt, or a refusal or withdrawal in the ledger. */
  async function lastRefusal(subjectId: string, kind: PromptKind, id: string): Promise<Date | null> {
    const history = await repo.promptHistory(subjectId, kind, id);
    let last = history.lastRefusedAt;
    if (kind !== "notice") {
      const row = (await ledger.stateRows(subjectId)).find(
        (r) => r.targetKind === LEDGER_KIND[kind] && r.targetId === id,
      );
      if (row && (row.state === "refused" || row.state === "withdrawn"))
        if (!last || row.updatedAt > last) last = row.updatedAt;
    }
    return last;
  }

  const service = {
    cooldownHours,

    /** Whether the app may show the prompt now (CON-7). */
    async shouldShow(subjectId: string, kind: PromptKind, id: string): Promise<ShouldShow> {
      const target = targetOf(kind, id);
      let askAgain = false;
      if (target.kind === "purpose") {
        const state = (await consent.statesOf([subjectId])).get(subjectId);
        const view = purposeConsentView(manifest, state, target.purpose);
        if (view.state === "given" && !view.askAgain) return answer(false, "consent-given");
        askAgain = view.askAgain;
      } else if (target.kind === "permission") {
        const state = (await consent.statesOf([subjectId])).get(subjectId);
        if (state?.permissions?.[id]?.state === "given") return answer(false, "granted");
      } else {
        const accepted = (await repo.promptHistory(subjectId, kind, id)).lastAccepted;
        if (accepted && accepted.targetVersion === target.version) return answer(false, "acknowledged");
      }
      const refusedAt = await lastRefusal(subjectId, kind, id);
      const nextAt = refusedAt ? new Date(refusedAt.getTime() + cooldownMs) : null;
      if (nextAt && clock.now() < nextAt) return answer(false, "cool-down", nextAt);
      // A consent given to a since-changed purpose is asked again (CON-13), unless just refused.
      if (askAgain) return answer(true, "ask-again");
      return answer(true, refusedAt ? "cool-down-over" : "not-asked");
    },

    /** Logs a prompt outcome and answers whether it may be shown again now. */
    async recordOutcome(
      subjectId: string,
      kind: PromptKind,
      id: string,
      input: { outcome: PromptOutcome; language: Language },
    ) {
      const target = targetOf(kind, id, input.language);
      const occurredAt = clock.now();
      await repo.addPromptEvent({
        subjectId,
        kind,
        targetId: id,
        outcome: input.outcome,
        targetVersion: target.version,
        language: input.language,
        occurredAt,
      });
      return {
        recorded: { kind, id, outcome: input.outcome, occurredAt: occurredAt.toISOString() },
        next: await service.shouldShow(subjectId, kind, id),
      };
    },
  };
  return service;
}
export type PromptService = ReturnType<typeof createPromptService>;
