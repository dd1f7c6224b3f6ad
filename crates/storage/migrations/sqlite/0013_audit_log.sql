-- The tamper-evident audit log, one hash chain per practice. Keep in step with the other
-- backend. Each entry carries the hash of the one before; the primary key (practice,
-- sequence number) lets no two instances append the same place. Entries hold ids, never
-- medical content. Old entries are removed only whole from the start of a chain; the
-- anchor keeps the sequence number and hash of the last removed one.
CREATE TABLE audit_log (
    org_id     TEXT    NOT NULL,
    seq        INTEGER  NOT NULL,
    at         INTEGER  NOT NULL,
    actor_id   TEXT,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL DEFAULT '',
    source     TEXT    NOT NULL DEFAULT '',
    outcome    TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    PRIMARY KEY (org_id, seq)
) STRICT;
CREATE INDEX ix_audit_log_at ON audit_log (org_id, at);

CREATE TABLE audit_anchors (
    org_id  TEXT    NOT NULL PRIMARY KEY,
    seq     INTEGER  NOT NULL,
    hash    TEXT    NOT NULL
) STRICT;
