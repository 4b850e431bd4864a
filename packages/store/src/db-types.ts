import type { ColumnType, Generated } from "kysely";

/**
 * Row types of the tables in migrations/*.sql. Type mapping (docs/adr/0001): int8 → number,
 * timestamptz → Date, jsonb → parsed value (written as a JSON string), bytea → Buffer.
 */

/**
 * A jsonb column: reads the parsed value, writes `JSON.stringify(value)` (node-postgres would
 * otherwise turn a JS array into a PostgreSQL array literal).
 */
export type Jsonb<T = unknown> = ColumnType<T, string, string>;
/** A timestamptz column with a default: optional on insert. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;

export type SchemaMigrationsTable = {
  version: string;
  name: string;
  checksum: string;
  applied_at: CreatedAt;
};

export type ManifestVersionsTable = {
  version: string;
  hash: string;
  manifest: Jsonb;
  source: string;
  published_at: CreatedAt;
  is_current: Generated<boolean>;
};

export type SubjectsTable = {
  subject_id: string;
  region: string;
  status: Generated<string>;
  created_at: CreatedAt;
  updated_at: CreatedAt;
};

export type SubjectKeysTable = {
  subject_id: string;
  key_group: string;
  wrapped_key: Buffer | null;
  master_key_id: string;
  created_at: CreatedAt;
  destroyed_at: NullableTimestamp;
};

export type SubjectFieldsTable = {
  subject_id: string;
  category: string;
  field: string;
  key_group: string;
  ciphertext: Buffer;
  blind_index: Buffer | null;
  updated_at: CreatedAt;
};

export type SystemKeysTable = {
  key_id: string;
  wrapped_key: Buffer;
  master_key_id: string;
  created_at: CreatedAt;
};

export type JobsTable = {
  id: Generated<number>;
  kind: string;
  payload: Jsonb;
  run_at: CreatedAt;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  done_at: NullableTimestamp;
  failed_at: NullableTimestamp;
  last_error: string | null;
  idempotency_key: string | null;
  created_at: CreatedAt;
};

export type MessageChannel = "email" | "sms" | "push" | "inbox";
export type MessageStatus = "queued" | "sent" | "failed" | "read";

export type MessagesTable = {
  id: string;
  subject_id: string | null;
  channel: MessageChannel;
  template: string;
  locale: string;
  recipient_sealed: Buffer | null;
  recipient_masked: Generated<string>;
  subject_line: Generated<string>;
  body: string;
  status: Generated<MessageStatus>;
  error: string | null;
  created_at: CreatedAt;
  sent_at: NullableTimestamp;
  read_at: NullableTimestamp;
  dev: Generated<boolean>;
};

export type DB = {
  schema_migrations: SchemaMigrationsTable;
  manifest_versions: ManifestVersionsTable;
  subjects: SubjectsTable;
  subject_keys: SubjectKeysTable;
  subject_fields: SubjectFieldsTable;
  system_keys: SystemKeysTable;
  jobs: JobsTable;
  messages: MessagesTable;
};
