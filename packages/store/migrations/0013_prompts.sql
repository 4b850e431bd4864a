-- 0013: device-permission prompts (CON-10), the prompt log (CON-7) and SDK switches (CON-16).
-- Immutable once released: change it with a new file.
--
-- permission_prompts: one row per device-permission prompt outcome the app reports (granted, denied,
-- revoked), with WHICH purpose notice was shown before the system prompt: the SHA-256 (hex) of the
-- exact notice text in the language shown, the manifest version that text belongs to, the language and
-- the platform permission name (android.permission.CAMERA, ...). The grant or revocation itself is a
-- consent event (target_kind 'permission') in consent_events; this table is the evidence of the notice.
-- A grant always names the current notice (the server refuses a grant after an outdated or unknown
-- notice). Append-only, like the consent ledger it backs.
--
-- prompt_events: the prompt log. Each time the app shows a prompt (a separate-consent purpose, a device
-- permission, a just-in-time notice) and how the person answered it, so that a refused or dismissed
-- prompt is not shown again before the cool-down (CUSTOS_PROMPT_COOLDOWN_HOURS). target_version is
-- what was asked: the purpose fingerprint, the permission notice hash or the notice version.
--
-- sdk_switches: the runtime switch of a third-party SDK (a manifest recipient of kind sdk), flipped in
-- the console by an admin or the privacy officer. No row means the manifest's `enabled` decides; a row
-- with enabled = false refuses every start of that SDK. Each change is also an audit event.
-- None of these tables holds personal information beyond the pseudonymous subject id.

create table permission_prompts (
  id               bigserial primary key,
  subject_id       uuid not null,
  permission       text not null check (permission ~ '^[a-z][a-z0-9-]{0,63}$'),
  state            text not null check (state in ('granted', 'denied', 'revoked')),
  notice_hash      text check (notice_hash ~ '^[0-9a-f]{64}$'),
  -- The manifest version whose notice text the hash matches; null when it matched no notice we know.
  notice_version   text check (length(notice_version) between 1 and 40),
  notice_language  text check (notice_language in ('en', 'zh-CN')),
  -- Whether the notice shown was the one in force when reported (always true for a grant).
  notice_current   boolean not null,
  platform_name    text check (length(platform_name) between 1 and 120),
  language         text not null check (language in ('en', 'zh-CN')),
  -- Who reported it: a configured service (its name) or the subject's own session ('self').
  reported_by      text not null check (length(reported_by) between 1 and 100),
  occurred_at      timestamptz not null,
  check (state <> 'granted' or (notice_current and notice_hash is not null and notice_language is not null))
);
create index permission_prompts_subject on permission_prompts (subject_id, id);

create function permission_prompts_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'permission prompts are append-only: % on permission_prompts is not allowed', tg_op
    using hint = 'report a new grant, denial or revocation instead';
end
$$;
create trigger permission_prompts_append_only before update or delete on permission_prompts
  for each row execute function permission_prompts_append_only();
create trigger permission_prompts_no_truncate before truncate on permission_prompts
  for each statement execute function permission_prompts_append_only();

create table prompt_events (
  id              bigserial primary key,
  subject_id      uuid not null,
  kind            text not null check (kind in ('purpose', 'permission', 'notice')),
  target_id       text not null check (target_id ~ '^[a-z][a-z0-9-]{0,63}$'),
  outcome         text not null check (outcome in ('shown', 'accepted', 'refused', 'dismissed')),
  target_version  text not null check (length(target_version) between 1 and 64),
  language        text not null check (language in ('en', 'zh-CN')),
  occurred_at     timestamptz not null
);
create index prompt_events_target on prompt_events (subject_id, kind, target_id, occurred_at desc);

create table sdk_switches (
  sdk_id      text primary key check (sdk_id ~ '^[a-z][a-z0-9-]{0,63}$'),
  enabled     boolean not null,
  reason      text not null check (length(reason) between 1 and 500),
  changed_by  uuid not null,
  changed_at  timestamptz not null
);
