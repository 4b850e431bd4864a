-- 0008: cookie-banner choices (CON-2, CON-11). Immutable once released: change it with a new file.
--
-- One row per choice a browser made in the consent banner. The visitor is known only by the
-- random consent id their browser made (no account, no IP address, no user agent: nothing else
-- about the visitor is stored). Append-only: UPDATE, DELETE and TRUNCATE raise.
create table banner_choices (
  id             bigserial primary key,
  consent_id     uuid not null,
  recorded_at    timestamptz not null,
  analytics      boolean not null,
  advertising    boolean not null,
  -- The Global Privacy Control signal: sent by the page (navigator.globalPrivacyControl) or as Sec-GPC: 1.
  gpc            boolean not null,
  action         text not null check (action in ('accept-all', 'reject-all', 'save', 'gpc')),
  language       text not null check (language in ('en', 'zh-CN')),
  notice_version text not null check (length(notice_version) between 1 and 40),
  -- GPC is an opt-out: a row with the signal never records analytics or advertising as allowed.
  check (not gpc or (not analytics and not advertising))
);
create index banner_choices_consent on banner_choices (consent_id, id);

create function banner_choices_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'banner choices are append-only: % on banner_choices is not allowed', tg_op
    using hint = 'record a new choice instead';
end
$$;
create trigger banner_choices_append_only before update or delete on banner_choices
  for each row execute function banner_choices_append_only();
create trigger banner_choices_no_truncate before truncate on banner_choices
  for each statement execute function banner_choices_append_only();
