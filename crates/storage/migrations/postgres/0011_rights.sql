-- Per-member adjustments of a role's preset (S7). Keep in step with the other backend.
-- mode 'grant': the permission is held (added if the role lacks it), for the practitioners
--   listed (comma-separated ids; empty: the whole practice);
-- mode 'remove': the permission is not held although the role has it.
CREATE TABLE membership_rights (
    org_id            TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    permission        TEXT NOT NULL,
    mode              TEXT NOT NULL CHECK (mode IN ('grant', 'remove')),
    practitioner_ids  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, user_id, permission),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
