-- 0012: a staff member signed in with a one-time password (from `custos staff create-admin` or an
-- administrator creating the account) must choose their own password before anything else.
-- Immutable once released: change it with a new file.
-- (Numbered 0012 so that it does not collide with migrations being written in parallel.)

alter table staff add column must_change_password boolean not null default false;
