-- Foundation: practices, users, memberships and first-run set-up tokens.
-- Instants are BIGINT microseconds since the Unix epoch (UTC); ids are UUID text, so that
-- rows move unchanged between SQLite and PostgreSQL (backups restore across backends).
-- Keep in step with ../sqlite/0001_foundation.sql: same tables, columns and constraint names.

CREATE TABLE organizations (
    id          TEXT   NOT NULL PRIMARY KEY,
    slug        TEXT   NOT NULL CONSTRAINT uq_organizations_slug UNIQUE,
    name        TEXT   NOT NULL,
    time_zone   TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                TEXT   NOT NULL PRIMARY KEY,
    email             TEXT   NOT NULL,
    email_normalized  TEXT   NOT NULL CONSTRAINT uq_users_email UNIQUE,
    phone             TEXT   NOT NULL,
    password_hash     TEXT   NOT NULL,
    status            TEXT   NOT NULL
        CHECK (status IN ('verification_pending', 'active', 'disabled')),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id      TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE INDEX ix_memberships_user ON memberships (user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT   NOT NULL PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
