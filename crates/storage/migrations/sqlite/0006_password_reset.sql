-- Password resets and "this wasn't me" links. Keep in step with the other backend.
-- kind 'reset': an e-mail link (30 minutes) plus a second factor; the SMS code's hash and
--   its attempts live in the row.
-- kind 'not_me': the link in a new-device notice; it ends every session, removes every
--   trusted device and requires a password reset.
CREATE TABLE account_links (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('reset', 'not_me')),
    token_hash  TEXT    NOT NULL CONSTRAINT uq_account_links_token UNIQUE,
    code_hash   TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;
CREATE INDEX ix_account_links_user ON account_links (user_id, kind, created_at);

-- Set by a "this wasn't me" link: the password must be reset before the next login.
ALTER TABLE users ADD COLUMN password_reset_required INTEGER NOT NULL DEFAULT 0;
