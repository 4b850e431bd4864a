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
