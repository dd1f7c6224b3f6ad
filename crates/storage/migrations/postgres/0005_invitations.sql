-- Invitations of new users by a practice's administrators. Keep in step with the other backend.
CREATE TABLE invitations (
    id                TEXT    NOT NULL PRIMARY KEY,
    org_id            TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email             TEXT    NOT NULL,
    phone             TEXT    NOT NULL,
    role              TEXT    NOT NULL,
    token_hash        TEXT    NOT NULL CONSTRAINT uq_invitations_token UNIQUE,
    invited_by        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    accepted_at       BIGINT
);
CREATE INDEX ix_invitations_org ON invitations (org_id);
