import type { Generated, Kysely } from "kysely";
import type { DB, Timestamp } from "../db-types.ts";

/**
 * Device-permission prompts (CON-10), the prompt log (CON-7) and SDK switches (CON-16):
 * migrations/0013_prompts.sql. The only code that runs SQL on those tables.
 */

export type PermissionPromptState = "granted" | "denied" | "revoked";
export type PromptKind = "purpose" | "permission" | "notice";
export type PromptOutcome = "shown" | "accepted" | "refused" | "dismissed";
export type PromptLanguage = "en" | "zh-CN";

export type PermissionPromptsTable = {
  id: Generated<number>;
  subject_id: string;
  permission: string;
  state: PermissionPromptState;
  notice_hash: string | null;
  notice_version: string | null;
  notice_language: PromptLanguage | null;
  notice_current: boolean;
  platform_name: string | null;
  language: PromptLanguage;
  reported_by: string;
  occurred_at: Timestamp;
};

export type PromptEventsTable = {
  id: Generated<number>;
  subject_id: string;
  kind: PromptKind;
  target_id: string;
  outcome: PromptOutcome;
  target_version: string;
  language: PromptLanguage;
  occurred_at: Timestamp;
};

export type SdkSwitchesTable = {
  sdk_id: string;
  enabled: boolean;
  reason: string;
  changed_by: string;
  changed_at: Timestamp;
};

export type PromptTables = {
  permission_prompts: PermissionPromptsTable;
  prompt_events: PromptEventsTable;
  sdk_switches: SdkSwitchesTable;
};

export type PermissionPrompt = {
  id: number;
  subjectId: string;
  permission: string;
  state: PermissionPromptState;
  noticeHash: string | null;
  noticeVersion: string | null;
  noticeLanguage: PromptLanguage | null;
  noticeCurrent: boolean;
  platformName: string | null;
  language: PromptLanguage;
  reportedBy: string;
  occurredAt: Date;
};

export type PromptEvent = {
  subjectId: string;
  kind: PromptKind;
  targetId: string;
  outcome: PromptOutcome;
  targetVersion: string;
  language: PromptLanguage;
  occurredAt: Date;
};

export type SdkSwitch = {
  sdkId: string;
  enabled: boolean;
  reason: string;
  changedBy: string;
  changedAt: Date;
};

/** The refusals and acceptances of one prompt that the cool-down needs. */
export type PromptHistory = {
  /** The latest `refused` or `dismissed` outcome, if any. */
  lastRefusedAt: Date | null;
  /** The latest `accepted` outcome and what was accepted, if any. */
  lastAccepted: { at: Date; targetVersion: string } | null;
};

/** Takes `db` or a transaction. */
export function createPromptsRepo(db: Kysely<DB>) {
  const pdb = db.withTables<PromptTables>();
  return {
    async addPermissionPrompt(row: Omit<PermissionPrompt, "id">): Promise<number> {
      const inserted = await pdb
        .insertInto("permission_prompts")
        .values({
          subject_id: row.subjectId,
          permission: row.permission,
          state: row.state,
          notice_hash: row.noticeHash,
          notice_version: row.noticeVersion,
          notice_language: row.noticeLanguage,
          notice_current: row.noticeCurrent,
          platform_name: row.platformName,
          language: row.language,
          reported_by: row.reportedBy,
          occurred_at: row.occurredAt,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      return Number(inserted.id);
    },

    /** A subject's permission prompts, newest first. */
    async permissionPrompts(subjectId: string, limit = 500): Promise<PermissionPrompt[]> {
      const rows = await pdb
        .selectFrom("permission_prompts")
        .selectAll()
        .where("subject_id", "=", subjectId)
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        subjectId: r.subject_id,
        permission: r.permission,
        state: r.state,
        noticeHash: r.notice_hash,
        noticeVersion: r.notice_version,
        noticeLanguage: r.notice_language,
        noticeCurrent: r.notice_current,
        platformName: r.platform_name,
        language: r.language,
        reportedBy: r.reported_by,
        occurredAt: r.occurred_at,
      }));
    },

    async addPromptEvent(row: PromptEvent): Promise<void> {
      await pdb
        .insertInto("prompt_events")
        .values({
          subject_id: row.subjectId,
          kind: row.kind,
          target_id: row.targetId,
          outcome: row.outcome,
          target_version: row.targetVersion,
          language: row.language,
          occurred_at: row.occurredAt,
        })
        .execute();
    },

    /** What the cool-down of one prompt needs: the latest refusal and the latest acceptance. */
    async promptHistory(subjectId: string, kind: PromptKind, targetId: string): Promise<PromptHistory> {
      const base = pdb
        .selectFrom("prompt_events")
        .where("subject_id", "=", subjectId)
        .where("kind", "=", kind)
        .where("target_id", "=", targetId);
      const refused = await base
        .select("occurred_at")
        .where("outcome", "in", ["refused", "dismissed"])
        .orderBy("occurred_at", "desc")
        .limit(1)
        .executeTakeFirst();
      const accepted = await base
        .select(["occurred_at", "target_version"])
        .where("outcome", "=", "accepted")
        .orderBy("occurred_at", "desc")
        .limit(1)
        .executeTakeFirst();
      return {
        lastRefusedAt: refused?.occurred_at ?? null,
        lastAccepted: accepted ? { at: accepted.occurred_at, targetVersion: accepted.target_version } : null,
      };
    },

    async sdkSwitches(): Promise<SdkSwitch[]> {
      const rows = await pdb.selectFrom("sdk_switches").selectAll().orderBy("sdk_id").execute();
      return rows.map((r) => ({
        sdkId: r.sdk_id,
        enabled: r.enabled,
        reason: r.reason,
        changedBy: r.changed_by,
        changedAt: r.changed_at,
      }));
    },

    async sdkSwitch(sdkId: string): Promise<SdkSwitch | undefined> {
      const r = await pdb
        .selectFrom("sdk_switches")
        .selectAll()
        .where("sdk_id", "=", sdkId)
        .executeTakeFirst();
      return r
        ? {
            sdkId: r.sdk_id,
            enabled: r.enabled,
            reason: r.reason,
            changedBy: r.changed_by,
            changedAt: r.changed_at,
          }
        : undefined;
    },

    async setSdkSwitch(row: SdkSwitch): Promise<void> {
      await pdb
        .insertInto("sdk_switches")
        .values({
          sdk_id: row.sdkId,
          enabled: row.enabled,
          reason: row.reason,
          changed_by: row.changedBy,
          changed_at: row.changedAt,
        })
        .onConflict((oc) =>
          oc.column("sdk_id").doUpdateSet({
            enabled: row.enabled,
            reason: row.reason,
            changed_by: row.changedBy,
            changed_at: row.changedAt,
          }),
        )
        .execute();
    },
  };
}
export type PromptsRepo = ReturnType<typeof createPromptsRepo>;
