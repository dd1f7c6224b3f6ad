-- Foundation: practices, users, memberships and first-run set-up tokens.
-- Instants are INTEGER microseconds since the Unix epoch (UTC); ids are UUID text.
-- Keep in step with ../postgres/0001_foundation.sql: same tables, columns and constraint names.

CREATE TABLE organizations (
    id          TEXT    NOT NULL PRIMARY KEY,
    slug        TEXT    NOT NULL CONSTRAINT uq_organizations_slug UNIQUE,
    name        TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id                TEXT    NOT NULL PRIMARY KEY,
    email             TEXT    NOT NULL,
    email_normalized  TEXT    NOT NULL CONSTRAINT uq_users_email UNIQUE,
    phone             TEXT    NOT NULL,
    password_hash     TEXT    NOT NULL,
    status            TEXT    NOT NULL
        CHECK (status IN ('verification_pending', 'active', 'disabled')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    org_id      TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT;

CREATE INDEX ix_memberships_user ON memberships (user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT    NOT NULL PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
