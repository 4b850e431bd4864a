-- 0002: the audit ledger (SEC-4, SEC-6, RET-6). Immutable once released: change it with a new file.
--
-- audit_events is append-only, enforced here by triggers (on PGlite and PostgreSQL alike): UPDATE,
-- DELETE and TRUNCATE raise. The one allowed update is the sealer stamping batch_id on an unsealed
-- event (null -> a batch id, every other column unchanged). audit_batches is append-only too.
-- Sealed events are chained by hash in batches (packages/core/src/hash-chain.ts):
--   batch.hash = SHA-256(prev_hash || batch_id || event_count || H(e1) || ... || H(en))
-- and `custos audit verify` (verifyAuditLedger) recomputes the chain.
--
-- Retention (RET-6): these tables are never purged by ordinary sweeps; the triggers refuse it.
-- details holds ids and counts only, never personal information (SEC-6).
--
-- audit_counts aggregates allowed, non-sensitive decisions per service, purpose, category and
-- minute (upsert-add). It is not append-only, so it is not evidence by itself: once a minute has
-- closed, the sealer folds each row's not-yet-folded count into an audit event of action
-- 'decide-count' (details: minute, count) and raises folded_count, in one transaction. Those
-- events are chained like any other, so every counted decision ends up covered by the chain.

create table audit_events (
  id          bigserial primary key,
  occurred_at timestamptz not null,
  actor_type  text not null check (actor_type in ('staff', 'service', 'subject', 'system')),
  actor_id    text not null check (length(actor_id) between 1 and 200),
  action      text not null check (action ~ '^[a-z][a-z0-9-]{0,39}$'),
  subject_id  uuid,
  category    text check (length(category) between 1 and 100),
  purpose     text check (length(purpose) between 1 and 100),
  outcome     text not null check (outcome in ('allowed', 'denied', 'error')),
  reason      text check (length(reason) between 1 and 500),
  request_id  text check (length(request_id) between 1 and 200),
  details     jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object' and length(details::text) <= 4000),
  batch_id    bigint
);
-- Verification streams sealed events in chain order; the sealer reads unsealed ones.
create index audit_events_chain on audit_events (batch_id, id) where batch_id is not null;
create index audit_events_unsealed on audit_events (id) where batch_id is null;
-- Console filters (newest first).
create index audit_events_subject on audit_events (subject_id, id) where subject_id is not null;
create index audit_events_actor on audit_events (actor_id, id);
create index audit_events_occurred on audit_events (occurred_at);

create table audit_batches (
  batch_id       bigint primary key check (batch_id >= 1),
  first_event_id bigint not null,
  last_event_id  bigint not null check (last_event_id >= first_event_id),
  event_count    integer not null check (event_count >= 1),
  -- unique: two sealers can never both extend the same batch (no fork of the chain).
  prev_hash      bytea not null unique check (octet_length(prev_hash) = 32),
  hash           bytea not null check (octet_length(hash) = 32),
  -- H(e1) || ... || H(en): names the first changed event when verification fails.
  event_hashes   bytea not null check (octet_length(event_hashes) = 32 * event_count),
  sealed_at      timestamptz not null default now()
);

create table audit_counts (
  service      text not null check (length(service) between 1 and 200),
  purpose      text not null check (length(purpose) between 1 and 100),
  category     text not null check (length(category) between 1 and 100),
  minute       timestamptz not null,
  count        bigint not null check (count >= 0),
  folded_count bigint not null default 0 check (folded_count >= 0 and folded_count <= count),
  primary key (service, purpose, category, minute)
);
create index audit_counts_unfolded on audit_counts (minute) where count > folded_count;

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE'
     and old.batch_id is null and new.batch_id is not null
     and (new.id, new.occurred_at, new.actor_type, new.actor_id, new.action, new.subject_id, new.category,
          new.purpose, new.outcome, new.reason, new.request_id, new.details)
         is not distinct from
         (old.id, old.occurred_at, old.actor_type, old.actor_id, old.action, old.subject_id, old.category,
          old.purpose, old.outcome, old.reason, old.request_id, old.details) then
    return new;
  end if;
  raise exception 'the audit ledger is append-only: % on audit_events is not allowed', tg_op
    using hint = 'audit events can only be inserted; record a correcting event instead';
end
$$;

create function audit_ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit ledger is append-only: % on % is not allowed', tg_op, tg_table_name
    using hint = 'sealed audit records can never change';
end
$$;

create trigger audit_events_append_only before update or delete on audit_events
  for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_ledger_append_only();
create trigger audit_batches_append_only before update or delete on audit_batches
  for each row execute function audit_ledger_append_only();
create trigger audit_batches_no_truncate before truncate on audit_batches
  for each statement execute function audit_ledger_append_only();
