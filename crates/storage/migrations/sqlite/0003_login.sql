-- Logins: sessions, one-time codes and trusted devices. Keep in step with the other backend.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
ALTER TABLE users ADD COLUMN phone_verified_at INTEGER;

-- A session is a login: 'pending' until the second factor or the account's verification
-- is done, then 'authenticated'. Only hashes of the cookie token and the CSRF token are kept.
CREATE TABLE sessions (
    id                TEXT    NOT NULL PRIMARY KEY,
    token_hash        TEXT    NOT NULL CONSTRAINT uq_sessions_token UNIQUE,
    csrf_hash         TEXT    NOT NULL,
    user_id           TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage             TEXT    NOT NULL CHECK (stage IN ('pending', 'authenticated')),
    created_at        INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    authenticated_at  INTEGER,
    ip                TEXT    NOT NULL,
    user_agent        TEXT    NOT NULL
) STRICT;
CREATE INDEX ix_sessions_user ON sessions (user_id);

-- One-time codes, bound to the login (session) they were sent for. 'attempts' only grows;
-- a code is tried at most 5 times and used once.
CREATE TABLE one_time_codes (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('verify_email', 'verify_phone', 'new_device')),
    code_hash   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    used_at     INTEGER
) STRICT;
CREATE INDEX ix_codes_session ON one_time_codes (session_id, purpose);
CREATE INDEX ix_codes_user ON one_time_codes (user_id, purpose, created_at);

-- Devices on which a user completed a login; recognised by a long-lived random cookie.
CREATE TABLE trusted_devices (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT    NOT NULL CONSTRAINT uq_trusted_devices_token UNIQUE,
    name          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    last_ip       TEXT    NOT NULL,
    expires_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX ix_trusted_devices_user ON trusted_devices (user_id);
