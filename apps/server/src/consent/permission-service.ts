import { createHash } from "node:crypto";
import { AppError, type Clock } from "@custos/core";
import type { Language, Manifest } from "@custos/manifest";
import type { DB, PermissionPrompt, PermissionPromptState } from "@custos/store";
import { createPromptsRepo } from "@custos/store";
import type { Kysely } from "kysely";
import type { ConsentService } from "./consent-service.ts";

/**
 * Device permissions reported by the app (CON-10). Before the system prompt the app shows the
 * permission's purpose notice (manifest `permissions[].notice`); it then reports the outcome with
 * WHICH notice it showed: the SHA-256 of the exact text in the language shown (or the manifest
 * version). A grant is recorded only after the notice in force; the grant, denial or revocation is a
 * consent event (target kind `permission`) through the consent service, so decisions, receipts and
 * the change stream see it, and the notice evidence is kept in `permission_prompts`.
 */

export type PermissionReportState = PermissionPromptState;

export type NoticeShown = {
  language: Language;
  /** SHA-256 (lower-case hex) of the exact notice text shown, in `language`. */
  noticeHash?: string | undefined;
  /** Or: the manifest (notice) version whose text was shown. */
  version?: string | undefined;
};

export type PermissionReport = {
  permission: string;
  state: PermissionReportState;
  noticeShown?: NoticeShown | undefined;
  /** The platform's permission name (android.permission.CAMERA, ...), one the manifest declares. */
  platformName?: string | undefined;
  /** The language of the app's interface when the person answered. */
  language: Language;
};

/** The current state of a device permission as the person sees it. */
export type PermissionCurrentState = "granted" | "denied" | "revoked" | "not-asked";

/** SHA-256 (hex) of a notice's exact text (UTF-8): how the app names the notice it showed. */
export function permissionNoticeHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

const LEDGER_STATE = { granted: "given", denied: "refused", revoked: "withdrawn" } as const;

const currentState = (ledgerState: string | undefined): PermissionCurrentState =>
  ledgerState === "given"
    ? "granted"
    : ledgerState === "refused"
      ? "denied"
      : ledgerState === "withdrawn"
        ? "revoked"
        : "not-asked";

type Deps = {
  db: Kysely<DB>;
  manifest: Manifest;
  consent: Pick<ConsentService, "recordSwitch" | "statesOf">;
  clock: Clock;
};

export function createPermissionService({ db, manifest, consent, clock }: Deps) {
  const repo = createPromptsRepo(db);

  function permissionOrThrow(id: string) {
    const permission = manifest.permissions.find((p) => p.id === id);
    if (!permission)
      throw new AppError("validation_failed", {
        message: `There is no device permission "${id}" in the notice in force. Use one of: ${manifest.permissions.map((p) => p.id).join(", ")}.`,
        details: { validPermissions: manifest.permissions.map((p) => p.id) },
      });
    return permission;
  }

  const historyEntry = (row: PermissionPrompt) => ({
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    permissionId: row.permission,
    state: row.state,
    platformName: row.platformName,
    notice:
      row.noticeLanguage === null && row.noticeHash === null
        ? null
        : {
            hash: row.noticeHash,
            language: row.noticeLanguage,
            version: row.noticeVersion,
            current: row.noticeCurrent,
          },
  });

  const service = {
    /**
     * Records one report from the app. A grant needs the current notice (400 when no notice is named,
     * 409 when it is not the one in force); a denial or revocation is always recorded, with whatever
     * notice the app names.
     */
    async report(subjectId: string, input: PermissionReport, reportedBy: string) {
      const permission = permissionOrThrow(input.permission);
      if (
        input.platformName !== undefined &&
        permission.platformNames.length > 0 &&
        !permission.platformNames.includes(input.platformName)
      )
        throw new AppError("validation_failed", {
          message: `The platform permission "${input.platformName}" is not declared for "${permission.id}". Use one of: ${permission.platformNames.join(", ")}, or declare it in the manifest first.`,
          details: { validPlatformNames: permission.platformNames },
        });

      let notice: {
        hash: string | null;
        version: string | null;
        language: Language | null;
        current: boolean;
      } = { hash: null, version: null, language: null, current: false };
      if (input.noticeShown) {
        const shown = input.noticeShown;
        const currentHash = permissionNoticeHash(permission.notice[shown.language]);
        const current =
          shown.noticeHash !== undefined
            ? shown.noticeHash === currentHash
            : shown.version === manifest.version;
        notice = {
          hash: shown.noticeHash ?? (current ? currentHash : null),
          version: current ? manifest.version : (shown.version ?? null),
          language: shown.language,
          current,
        };
      }
      if (input.state === "granted") {
        if (!input.noticeShown)
          throw new AppError("validation_failed", {
            message: `A grant of "${permission.id}" must say which purpose notice was shown before the system prompt: send noticeShown { language, noticeHash } (SHA-256 hex of the notice text) or { language, version }.`,
          });
        if (!notice.current)
          throw new AppError("conflict", {
            message: `The notice shown before the "${permission.id}" prompt is not the current one. Show the current notice (manifest version ${manifest.version}, listed with its hash by GET /api/v1/me/permissions), ask again, and report the grant with its hash.`,
            details: {
              permission: permission.id,
              noticeVersion: manifest.version,
              language: input.noticeShown.language,
              currentNoticeHash: permissionNoticeHash(permission.notice[input.noticeShown.language]),
            },
          });
      }

      const prompt = {
        subjectId,
        permission: permission.id,
        state: input.state,
        noticeHash: notice.hash,
        noticeVersion: notice.version,
        noticeLanguage: notice.language,
        noticeCurrent: notice.current,
        platformName: input.platformName ?? null,
        language: input.language,
        reportedBy,
        occurredAt: clock.now(),
      };
      // The evidence first: a grant never takes effect without the record of its notice.
      const id = await repo.addPermissionPrompt(prompt);
      const state = await consent.recordSwitch(subjectId, {
        kind: "permission",
        id: permission.id,
        state: LEDGER_STATE[input.state],
        language: input.language,
        method: "app",
      });
      return {
        recorded: historyEntry({ id, ...prompt }),
        permissionId: permission.id,
        current: currentState(state.permissions?.[permission.id]?.state),
      };
    },

    /** Every device permission with its notice and current state, and the history of reports. */
    async view(subjectId: string, lang: Language) {
      const state = (await consent.statesOf([subjectId])).get(subjectId);
      const rows = await repo.permissionPrompts(subjectId, 500);
      return {
        noticeVersion: manifest.version,
        permissions: manifest.permissions.map((p) => ({
          permissionId: p.id,
          name: p.name[lang],
          notice: p.notice[lang],
          noticeHash: permissionNoticeHash(p.notice[lang]),
          platformNames: p.platformNames,
          sensitive: p.sensitive,
          refusalImpact: p.refusalImpact[lang],
          purposes: manifest.purposes
            .filter((purpose) => purpose.permissions?.includes(p.id))
            .map((purpose) => ({ purposeId: purpose.id, name: purpose.name[lang] })),
          state: currentState(state?.permissions?.[p.id]?.state),
        })),
        history: rows.map(historyEntry),
      };
    },
  };
  return service;
}
export type PermissionService = ReturnType<typeof createPermissionService>;
