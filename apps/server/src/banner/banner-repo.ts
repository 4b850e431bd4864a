import type { Database } from "@custos/store";
import { sql } from "kysely";

type Db = Database["db"];

/** One cookie-banner choice as stored: the random consent id and the choice, nothing about the visitor. */
export type BannerChoiceRow = {
  consentId: string;
  recordedAt: Date;
  analytics: boolean;
  advertising: boolean;
  gpc: boolean;
  action: "accept-all" | "reject-all" | "save" | "gpc";
  language: "en" | "zh-CN";
  noticeVersion: string;
};

/** banner_choices (migration 0008): append-only, so the repo can only add and read. */
export function createBannerRepo(db: Db) {
  return {
    async append(row: BannerChoiceRow): Promise<void> {
      await sql`
        insert into banner_choices
          (consent_id, recorded_at, analytics, advertising, gpc, action, language, notice_version)
        values (${row.consentId}, ${row.recordedAt}, ${row.analytics}, ${row.advertising}, ${row.gpc},
                ${row.action}, ${row.language}, ${row.noticeVersion})`.execute(db);
    },
    async listFor(consentId: string): Promise<BannerChoiceRow[]> {
      const { rows } = await sql<BannerChoiceRow>`
        select consent_id as "consentId", recorded_at as "recordedAt", analytics, advertising, gpc, action,
               language, notice_version as "noticeVersion"
          from banner_choices where consent_id = ${consentId} order by id`.execute(db);
      return rows;
    },
  };
}
export type BannerRepo = ReturnType<typeof createBannerRepo>;
