-- 0001: foundation tables. Immutable once released: change the schema with a new file.
-- Every table about a person carries subject_id (the distribution key); no cross-subject foreign keys.

create table manifest_versions (
  version      text primary key,
  hash         text not null,
  manifest     jsonb not null,
  source       text not null,
  published_at timestamptz not null default now(),
  is_current   boolean not null default false
);
create unique index manifest_versions_one_current on manifest_versions (is_current) where is_current;

create table subjects (
  subject_id uuid primary key,
  region     text not null,
  status     text not null default 'active',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Per-subject data keys, one per key group (retention group), wrapped by the master key.
-- Shredding sets destroyed_at and removes wrapped_key.
create table subject_keys (
  subject_id    uuid not null,
  key_group     text not null,
  wrapped_key   bytea,
  master_key_id text not null,
  created_at    timestamptz not null default now(),
  destroyed_at  timestamptz,
  primary key (subject_id, key_group),
  check ((destroyed_at is null) = (wrapped_key is not null))
);

-- Personal fields, encrypted per field under the subject's key for key_group.
create table subject_fields (
  subject_id  uuid not null,
  category    text not null,
  field       text not null,
  key_group   text not null,
  ciphertext  bytea not null,
  blind_index bytea,
  updated_at  timestamptz not null default now(),
  primary key (subject_id, category, field)
);
create index subject_fields_blind_index on subject_fields (field, blind_index) where blind_index is not null;

-- Keys for personal information not yet bound to a subject (e.g. a message recipient).
create table system_keys (
  key_id        text primary key,
  wrapped_key   bytea not null,
  master_key_id text not null,
  created_at    timestamptz not null default now()
);

create table jobs (
  id              bigserial primary key,
  kind            text not null,
  payload         jsonb not null default '{}'::jsonb,
  run_at          timestamptz not null default now(),
  attempts        integer not null default 0,
  max_attempts    integer not null default 5 check (max_attempts >= 1),
  locked_by       text,
  locked_until    timestamptz,
  done_at         timestamptz,
  failed_at       timestamptz,
  last_error      text,
  idempotency_key text unique,
  created_at      timestamptz not null default now()
);
create index jobs_claim on jobs (run_at) where done_at is null and failed_at is null;

-- The notifier's outbox (and the in-app inbox). The recipient is sealed, never stored in clear.
create table messages (
  id               uuid primary key,
  subject_id       uuid,
  channel          text not null check (channel in ('email', 'sms', 'push', 'inbox')),
  template         text not null,
  locale           text not null,
  recipient_sealed bytea,
  recipient_masked text not null default '',
  subject_line     text not null default '',
  body             text not null,
  status           text not null default 'queued' check (status in ('queued', 'sent', 'failed', 'read')),
  error            text,
  created_at       timestamptz not null default now(),
  sent_at          timestamptz,
  read_at          timestamptz,
  dev              boolean not null default false
);
create index messages_subject on messages (subject_id, created_at desc) where subject_id is not null;
create index messages_dev_outbox on messages (channel, created_at desc) where dev;
