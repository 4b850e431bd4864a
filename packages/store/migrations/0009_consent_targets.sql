-- 0009: more kinds of consent in the one ledger (CON-8, CON-9, CON-10). Immutable once released.
--
-- Personal settings (the personalisation switches), marketing subscriptions per channel and device
-- permission grants are consents too: they are recorded as consent events with their own target kind,
-- chained with the subject's other consent events, and projected into consent_state, so receipts,
-- the change stream and decisions read one source.
--   target_kind 'setting'    target_id = personalised-content | personalised-ads
--   target_kind 'marketing'  target_id = a manifest marketing channel (sms, email, push, social)
--   target_kind 'permission' target_id = a manifest device permission (storage, location, ...)
-- Two new methods: 'sms' (a reply to a marketing SMS) and 'email' (a one-click unsubscribe link).

alter table consent_events drop constraint consent_events_target_kind_check;
alter table consent_events add constraint consent_events_target_kind_check
  check (target_kind in ('purpose', 'permission', 'cookie', 'policy', 'setting', 'marketing'));
alter table consent_state drop constraint consent_state_target_kind_check;
alter table consent_state add constraint consent_state_target_kind_check
  check (target_kind in ('purpose', 'permission', 'cookie', 'policy', 'setting', 'marketing'));
alter table consent_events drop constraint consent_events_method_check;
alter table consent_events add constraint consent_events_method_check
  check (method in ('web', 'app', 'api', 'banner', 'import', 'system', 'sms', 'email'));
