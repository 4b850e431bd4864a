-- 0005: staff accounts, sessions, training records and access grants (ACC-5, SEC-3, SEC-8, CHD-8).
-- Immutable once released: change it with a new file.
--
-- Staff are not data subjects of the product, but their email and name are personal information:
-- both are sealed by the vault (system key); the email is found by its keyed blind index.
-- Passwords are argon2id hashes; the TOTP secret is sealed. Session tokens are stored as SHA-256.

create table staff (
  id                 uuid primary key,
  email_index        bytea not null unique,
  email_sealed       bytea not null,
  name_sealed        bytea not null,
  role               text not null check (role in ('admin', 'privacy-officer', 'children-officer',
                                                   'support-agent', 'security-analyst', 'auditor')),
  status             text not null default 'active' check (status in ('active', 'suspended')),
  password_hash      text not null check (password_hash like '$argon2id$%'),
  totp_secret_sealed bytea,
  -- null until the first code confirms enrolment; a pending secret may be replaced.
  mfa_enrolled_at    timestamptz,
  -- the last accepted TOTP time step: a code is never accepted twice.
  totp_last_step     bigint,
  failed_attempts    integer not null default 0 check (failed_attempts >= 0),
  locked_until       timestamptz,
  created_by         uuid,
  created_at         timestamptz not null default now()
);
create index staff_role on staff (role) where status = 'active';

create table staff_sessions (
  token_hash bytea primary key check (octet_length(token_hash) = 32),
  staff_id   uuid not null references staff (id),
  -- 'mfa': password accepted, second factor pending; 'active': signed in.
  stage      text not null check (stage in ('mfa', 'active')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index staff_sessions_staff on staff_sessions (staff_id);

create table staff_training (
  id           bigserial primary key,
  staff_id     uuid not null references staff (id),
  kind         text not null check (kind in ('confidentiality', 'privacy-training')),
  completed_at timestamptz not null,
  -- null: does not expire (a signed confidentiality agreement usually does not).
  expires_at   timestamptz check (expires_at is null or expires_at > completed_at),
  recorded_by  uuid not null references staff (id),
  recorded_at  timestamptz not null default now()
);
create index staff_training_staff on staff_training (staff_id, kind, completed_at desc);

create table access_grants (
  id                 uuid primary key,
  staff_id           uuid not null references staff (id),
  scope              text not null check (scope in ('subject-pi', 'children-pi', 'bulk-export')),
  subject_id         uuid,
  categories         jsonb not null check (jsonb_typeof(categories) = 'array'),
  -- a processing purpose id of the manifest, plus the requester's justification (sealed free text).
  purpose            text not null check (length(purpose) between 1 and 100),
  justification_sealed bytea not null,
  duration_minutes   integer not null check (duration_minutes between 1 and 480),
  status             text not null default 'pending'
                     check (status in ('pending', 'approved', 'rejected', 'expired', 'revoked')),
  requested_at       timestamptz not null,
  decided_by         uuid references staff (id),
  decided_at         timestamptz,
  expires_at         timestamptz,
  check ((scope = 'bulk-export') = (subject_id is null)),
  check (status <> 'approved' or (decided_by is not null and decided_at is not null and expires_at is not null)),
  check (decided_by is null or decided_by <> staff_id)
);
create index access_grants_staff on access_grants (staff_id, requested_at desc);
create index access_grants_subject on access_grants (subject_id, staff_id) where status = 'approved';
create index access_grants_pending on access_grants (requested_at) where status = 'pending';
