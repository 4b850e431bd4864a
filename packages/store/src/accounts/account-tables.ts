import type { Generated, Kysely } from "kysely";
import type { CreatedAt, DB, NullableTimestamp, Timestamp } from "../db-types.ts";

/** Row types of migrations/0003_accounts.sql. */
export type AccountStatus = "active" | "locked" | "cancelled";
export type LockedReason = "compromise_reported" | "staff" | "security";
export type SessionKind = "web" | "api";
export type CodePurpose = "register" | "login" | "reauth" | "recover";
export type CodeChannel = "email" | "sms";
export type ThrottleKind = "identifier" | "ip";

export type AccountsTable = {
  subject_id: string;
  status: AccountStatus;
  locked_reason: LockedReason | null;
  locale: string;
  policy_version: string;
  created_at: CreatedAt;
  updated_at: CreatedAt;
};

export type CredentialsTable = {
  subject_id: string;
  password_hash: string;
  updated_at: CreatedAt;
};

export type SessionsTable = {
  id: string;
  subject_id: string;
  token_sha256: Buffer;
  kind: SessionKind;
  method: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  idle_expires_at: Timestamp;
  expires_at: Timestamp;
  fresh_until: NullableTimestamp;
  revoked_at: NullableTimestamp;
  device_hash: Buffer;
  user_agent_summary: string;
};

export type OneTimeCodesTable = {
  id: string;
  purpose: CodePurpose;
  subject_id: string | null;
  channel: CodeChannel;
  target_index: Buffer;
  target_sealed: Buffer;
  code_hash: Buffer;
  payload_sealed: Buffer | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  consumed_at: NullableTimestamp;
};

export type LoginThrottlesTable = {
  key_kind: ThrottleKind;
  key_index: Buffer;
  window_start: Timestamp;
  failures: number;
  locked_until: NullableTimestamp;
};

export type KnownDevicesTable = {
  subject_id: string;
  device_hash: Buffer;
  first_seen: Timestamp;
  last_seen: Timestamp;
};

export type LoginEventsTable = {
  id: string;
  subject_id: string;
  occurred_at: Timestamp;
  method: string;
  new_device: Generated<boolean>;
  key_group: string;
  ciphertext: Buffer;
};

export type AccountTables = {
  accounts: AccountsTable;
  credentials: CredentialsTable;
  sessions: SessionsTable;
  one_time_codes: OneTimeCodesTable;
  login_throttles: LoginThrottlesTable;
  known_devices: KnownDevicesTable;
  login_events: LoginEventsTable;
};

/** Any database handle or transaction; the account tables are added to its type here. */
export type AccountDb = Kysely<DB> | Kysely<DB & AccountTables>;
export type AccountKysely = Kysely<DB & AccountTables>;

export function withAccounts(db: AccountDb): AccountKysely {
  return (db as Kysely<DB>).withTables<AccountTables>() as unknown as AccountKysely;
}
