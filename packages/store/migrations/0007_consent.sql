-- 0007: the consent ledger (CON-3, CON-4, CON-5, CON-13). Immutable once released: change it with a new file.
--
-- consent_events is append-only (UPDATE, DELETE and TRUNCATE raise, on PGlite and PostgreSQL alike) and
-- chained by hash per subject: hash = SHA-256(prev_hash || canonical JSON of the event), where prev_hash
-- is the hash of the subject's previous event (32 zero bytes for the first). unique (subject_id, prev_hash)
-- means two writers can never both extend the same subject's chain (no fork). Chaining per subject keeps
-- writers for different subjects independent and lets the table be distributed on subject_id.
-- The exact encoding is in packages/store/src/consent/consent-ledger.ts (consentEventHash).
--
-- consent_state is the projection the decisions read: the latest event per (subject, target), written in
-- the same transaction as the event. It can always be rebuilt from consent_events.
-- Neither table holds personal information beyond the pseudonymous subject id (no names, no contacts).

create table consent_events (
  id                  bigserial primary key,
  subject_id          uuid not null,
  target_kind         text not null check (target_kind in ('purpose', 'permission', 'cookie', 'policy')),
  target_id           text not null check (target_id ~ '^[a-z][a-z0-9-]{0,63}$'),
  state               text not null check (state in ('given', 'refused', 'withdrawn', 'expired', 'invalidated')),
  -- The manifest (notice) version the person saw.
  notice_version      text not null check (length(notice_version) between 1 and 40),
  -- SHA-256 (hex) of the purpose definition's canonical JSON at the time (CON-13).
  purpose_fingerprint text not null check (purpose_fingerprint ~ '^[0-9a-f]{64}$'),
  language            text not null check (language in ('en', 'zh-CN')),
  method              text not null check (method in ('web', 'app', 'api', 'banner', 'import', 'system')),
  actor               text not null check (actor in ('self', 'guardian', 'staff', 'system')),
  actor_id            text check (length(actor_id) between 1 and 200),
  -- A reason code or ticket reference; required when staff record an event for someone.
  reason              text check (length(reason) between 1 and 500),
  -- The no-consent legal basis, for records of processing without consent (CON-14).
  basis               text check (basis in ('contract', 'legal-obligation', 'vital-interests',
                                            'public-interest-news', 'publicly-disclosed', 'other-law')),
  occurred_at         timestamptz not null,
  prev_hash           bytea not null check (octet_length(prev_hash) = 32),
  hash                bytea not null check (octet_length(hash) = 32),
  check (actor <> 'staff' or (reason is not null and actor_id is not null)),
  unique (subject_id, prev_hash)
);
create index consent_events_subject on consent_events (subject_id, id);
create index consent_events_target on consent_events (target_kind, target_id, state);

create function consent_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the consent ledger is append-only: % on % is not allowed', tg_op, tg_table_name
    using hint = 'record a new consent event (withdrawn, invalidated, ...) instead';
end
$$;

create trigger consent_events_append_only before update or delete on consent_events
  for each row execute function consent_events_append_only();
create trigger consent_events_no_truncate before truncate on consent_events
  for each statement execute function consent_events_append_only();

create table consent_state (
  subject_id     uuid not null,
  target_kind    text not null check (target_kind in ('purpose', 'permission', 'cookie', 'policy')),
  target_id      text not null,
  state          text not null check (state in ('given', 'refused', 'withdrawn', 'expired', 'invalidated')),
  notice_version text not null,
  fingerprint    text not null,
  event_id       bigint not null references consent_events (id),
  updated_at     timestamptz not null,
  primary key (subject_id, target_kind, target_id)
);
create index consent_state_target on consent_state (target_kind, target_id) where state = 'given';
