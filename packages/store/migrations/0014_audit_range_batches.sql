-- 0014: audit batches sealed by id range (SEC-4). Immutable once released: change it with a new file.
--
-- A batch normally names its events by stamping batch_id on each of them (0002): with several
-- writers, ids are not committed in id order, so a range of ids could still gain events after it
-- was sealed. When only one connection ever writes (the embedded PGlite database: every
-- transaction holds the one connection until it ends), ids are committed in order, so a batch can
-- instead hold exactly the events whose id lies in [first_event_id, last_event_id]: those events
-- keep batch_id null, and the sealer writes one row instead of updating every event.
-- Verification treats both kinds alike: the batch's events, in id order, must hash to its
-- event_hashes, so an event deleted from, edited in or inserted into a sealed range breaks the chain.
alter table audit_batches add column by_range boolean not null default false;
create index audit_batches_by_range on audit_batches (last_event_id) where by_range;

-- The one update the append-only trigger allowed, stamping an unsealed event, must not reach an
-- event a range batch already holds (its batch_id stays null): same rule otherwise as 0002.
create or replace function audit_events_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE'
     and old.batch_id is null and new.batch_id is not null
     and (new.id, new.occurred_at, new.actor_type, new.actor_id, new.action, new.subject_id, new.category,
          new.purpose, new.outcome, new.reason, new.request_id, new.details)
         is not distinct from
         (old.id, old.occurred_at, old.actor_type, old.actor_id, old.action, old.subject_id, old.category,
          old.purpose, old.outcome, old.reason, old.request_id, old.details)
     and not exists (
       select 1
       from (select first_event_id from audit_batches
             where by_range and last_event_id >= old.id
             order by last_event_id limit 1) r
       where r.first_event_id <= old.id) then
    return new;
  end if;
  raise exception 'the audit ledger is append-only: % on audit_events is not allowed', tg_op
    using hint = 'audit events can only be inserted; record a correcting event instead';
end
$$;
