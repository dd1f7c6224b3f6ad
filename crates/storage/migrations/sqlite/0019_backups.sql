-- Backups (issue 8). What every upload and check did, per target: the status page and the
-- "protected" status read it, whichever instance ran the job.
CREATE TABLE backup_runs (
    id          TEXT   PRIMARY KEY,
    backup_id   TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    -- 'backup' (made, uploaded, read back) or 'verify' (checked again later)
    kind        TEXT   NOT NULL,
    finished_at INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    bytes       INTEGER,
    -- a short error code, never a server's text (it could quote credentials)
    error       TEXT
);
CREATE INDEX backup_runs_target_time ON backup_runs (target, kind, finished_at);

-- Jobs that exactly one instance runs per due time (the daily backup, the weekly check):
-- claiming is one conditional UPDATE on the lease; a lease that runs out (the instance died)
-- lets another instance take the job.
CREATE TABLE scheduled_jobs (
    name        TEXT   PRIMARY KEY,
    done_slot   INTEGER,
    lease_owner TEXT,
    lease_until INTEGER
);

-- The installation's key for signing backup manifests (Ed25519, PKCS#8 as hex). Shared by
-- every instance, and carried inside the backups, so a restored server signs with the same
-- key the operator trusts. Its public half is what `termin backup key` prints.
CREATE TABLE backup_signing_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT   NOT NULL,
    public_key  TEXT   NOT NULL,
    created_at  INTEGER NOT NULL
);
