-- 0003: subject accounts (ACC-1, ACC-3, ACC-4, ACC-6). Immutable once released: change it with a new file.
--
-- No personal information in clear columns (SEC-1):
--   * contacts (phone, email) and the username are subject fields (category `registration`) in
--     subject_fields, encrypted by the vault, with blind indexes of kind phone / email / username;
--   * the password is an argon2id hash (credentials);
--   * a pending registration and a code's target are sealed by the vault (system key);
--   * IP addresses and user agents of logins are encrypted per subject in login_events (key group
--     of the manifest's `logs` category); throttles key on keyed blind indexes, never the value;
--   * sessions keep a SHA-256 of the token and a browser/OS family summary only.
-- Every table about a person carries subject_id; no cross-subject foreign keys.

create table accounts (
  subject_id     uuid primary key references subjects (subject_id),
  status         text not null default 'active' check (status in ('active', 'locked', 'cancelled')),
  locked_reason  text check (locked_reason in ('compromise_reported', 'staff', 'security')),
  locale         text not null check (locale in ('en', 'zh-CN')),
  policy_version text not null check (length(policy_version) between 1 and 40),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  check ((status = 'locked') = (locked_reason is not null))
);

-- One account per contact and per username: the registration fields' blind indexes are unique.
create unique index subject_fields_registration_unique
  on subject_fields (field, blind_index)
  where category = 'registration' and blind_index is not null;

create table credentials (
  subject_id    uuid primary key references accounts (subject_id),
  password_hash text not null check (password_hash like '$argon2id$%' and length(password_hash) <= 200),
  updated_at    timestamptz not null default now()
);

create table sessions (
  id                 uuid primary key,
  subject_id         uuid not null references accounts (subject_id),
  token_sha256       bytea not null unique check (octet_length(token_sha256) = 32),
  kind               text not null check (kind in ('web', 'api')),
  method             text not null check (method ~ '^[a-z][a-z0-9-]{0,39}$'),
  created_at         timestamptz not null,
  last_seen_at       timestamptz not null,
  idle_expires_at    timestamptz not null,
  expires_at         timestamptz not null,
  fresh_until        timestamptz,
  revoked_at         timestamptz,
  device_hash        bytea not null check (octet_length(device_hash) = 32),
  user_agent_summary text not null default '' check (length(user_agent_summary) <= 80)
);
create index sessions_subject on sessions (subject_id, created_at desc);

create table one_time_codes (
  id            uuid primary key,
  purpose       text not null check (purpose in ('register', 'login', 'reauth', 'recover')),
  subject_id    uuid,
  channel       text not null check (channel in ('email', 'sms')),
  target_index  bytea not null check (octet_length(target_index) = 32),
  target_sealed bytea not null,
  code_hash     bytea not null check (octet_length(code_hash) = 32),
  -- A pending registration (contact, username, password hash, locale, policy version), sealed.
  payload_sealed bytea,
  created_at    timestamptz not null,
  expires_at    timestamptz not null,
  attempts      integer not null default 0 check (attempts >= 0),
  max_attempts  integer not null default 5 check (max_attempts >= 1),
  consumed_at   timestamptz
);
create index one_time_codes_target on one_time_codes (target_index, created_at desc);

-- Failed-attempt counters (ACC-3), keyed by a blind index of the identifier or of the client IP.
create table login_throttles (
  key_kind     text not null check (key_kind in ('identifier', 'ip')),
  key_index    bytea not null check (octet_length(key_index) = 32),
  window_start timestamptz not null,
  failures     integer not null default 0 check (failures >= 0),
  locked_until timestamptz,
  primary key (key_kind, key_index)
);

create table known_devices (
  subject_id  uuid not null references accounts (subject_id),
  device_hash bytea not null check (octet_length(device_hash) = 32),
  first_seen  timestamptz not null,
  last_seen   timestamptz not null,
  primary key (subject_id, device_hash)
);

-- Login records (manifest category `logs`): method and time in clear, IP and user agent encrypted
-- under the subject's key for the logs key group, so shredding that group erases them.
create table login_events (
  id          uuid primary key,
  subject_id  uuid not null references accounts (subject_id),
  occurred_at timestamptz not null,
  method      text not null check (method ~ '^[a-z][a-z0-9-]{0,39}$'),
  new_device  boolean not null default false,
  key_group   text not null,
  ciphertext  bytea not null
);
create index login_events_subject on login_events (subject_id, occurred_at desc);
