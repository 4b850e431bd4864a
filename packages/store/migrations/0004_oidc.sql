-- 0004: identities at approved third-party OpenID Connect providers (ACC-2). Immutable once released.
--
-- No personal information in clear columns (SEC-1):
--   * the provider's subject identifier (`sub`) is kept only as a keyed blind index (subject_hash),
--     enough to find the account at the next sign-in;
--   * the claims the user authorised and the manifest maps are subject fields (category
--     `third-party-login`, field `<provider>.<manifest field>`) in subject_fields, encrypted by the
--     vault under the subject's key; claim_fields lists which manifest fields were stored (no values).
-- Every table about a person carries subject_id; no cross-subject foreign keys.

create table linked_identities (
  subject_id    uuid not null references accounts (subject_id),
  provider      text not null check (provider ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
  subject_hash  bytea not null check (octet_length(subject_hash) = 32),
  claim_fields  jsonb not null default '[]'::jsonb,
  linked_at     timestamptz not null,
  last_login_at timestamptz,
  primary key (subject_id, provider)
);
-- One account per identity at a provider.
create unique index linked_identities_identity on linked_identities (provider, subject_hash);
