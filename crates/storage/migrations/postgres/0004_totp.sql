-- TOTP and recovery codes. Keep in step with the other backend.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
-- Set while the user enrols, until the first code from the app confirms it.
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
-- The last accepted step: a step (and so a code) is accepted once.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Wrong TOTP or recovery codes tried in one login; the login ends after five.
ALTER TABLE sessions ADD COLUMN factor_failures BIGINT NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX ix_recovery_codes_user ON recovery_codes (user_id, code_hash);
