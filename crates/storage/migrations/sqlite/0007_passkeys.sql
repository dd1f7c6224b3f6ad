-- Passkeys (WebAuthn credentials) and the server side of a WebAuthn ceremony.
-- Keep in step with the other backend.
CREATE TABLE passkeys (
    id             TEXT    NOT NULL PRIMARY KEY,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The authenticator's credential id, base64url: unique across all users.
    credential_id  TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    -- webauthn-rs's Passkey as JSON: the public key and the signature counter.
    credential     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    CONSTRAINT uq_passkeys_credential_id UNIQUE (credential_id)
) STRICT;
CREATE INDEX ix_passkeys_user ON passkeys (user_id);

-- The challenge of a started registration or authentication, kept server-side so that any
-- instance can finish it and it is used once. Dies with its session.
CREATE TABLE webauthn_ceremonies (
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('register', 'authenticate')),
    state       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, kind)
) STRICT;
