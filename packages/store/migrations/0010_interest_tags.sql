-- 0010: interest tags inferred about a subject (CON-15). Immutable once released: change it with a new file.
--
-- A service that infers interests for personalised content or advertising posts them here; the subject
-- sees them in the privacy center and deletes one or all, which deletes the rows for real. A tag is
-- personal information (manifest category recommendation-profile or advertising-profile), so its id
-- and label are vault ciphertext (AES-256-GCM under the subject's data key of the category's retention
-- group, bound to subject, group and field "<category>.interest-tag:<tag_hash hex>"). tag_hash is a
-- keyed HMAC (vault blind index) of subject, purpose and tag id: it makes a re-posted tag replace the
-- stored one without the tag id ever being stored in clear, and it differs per subject, so equal tags
-- of two people cannot be linked. Destroying the subject's key erases the tags everywhere.

create table interest_tags (
  id            uuid primary key,
  subject_id    uuid not null,
  -- The purpose that inferred the tag (a manifest purpose with a personalisation setting).
  purpose_id    text not null check (purpose_id ~ '^[a-z][a-z0-9-]{0,63}$'),
  -- The manifest category the tag belongs to (recommendation-profile, advertising-profile).
  category      text not null check (category ~ '^[a-z][a-z0-9-]{0,63}$'),
  tag_hash      bytea not null check (octet_length(tag_hash) = 32),
  key_group     text not null check (length(key_group) between 1 and 64),
  ciphertext    bytea not null,
  -- The service that posted it (a configured service name, not personal information).
  source        text not null check (length(source) between 1 and 100),
  inferred_at   timestamptz not null,
  created_at    timestamptz not null default now(),
  unique (subject_id, purpose_id, tag_hash)
);
create index interest_tags_subject on interest_tags (subject_id, purpose_id, inferred_at desc);
