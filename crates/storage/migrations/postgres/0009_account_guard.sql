-- Blocking account theft (S8). Keep in step with the other backend.
-- One row per e-mail address tried (a SHA-256 of it, normalised), known or not, so that an
-- unknown address is delayed and locked exactly like an account.
CREATE TABLE login_guards (
    subject             TEXT    NOT NULL PRIMARY KEY,
    user_id             TEXT    REFERENCES users (id) ON DELETE CASCADE,
    failures            BIGINT  NOT NULL DEFAULT 0,
    last_attempt_at     BIGINT,
    locked_until        BIGINT,
    locked_permanently  BIGINT  NOT NULL DEFAULT 0,
    -- Failures before this instant (the last completed login or unlock) no longer count.
    counted_since       BIGINT  NOT NULL
);
CREATE INDEX ix_login_guards_user ON login_guards (user_id);

-- Every failed or refused sign-in attempt: for the 24-hour count, the per-source blocks
-- and the administrators' list of recent failures. No address in clear.
CREATE TABLE auth_failures (
    id          TEXT    NOT NULL PRIMARY KEY,
    at          BIGINT  NOT NULL,
    subject     TEXT    NOT NULL,
    user_id     TEXT    REFERENCES users (id) ON DELETE SET NULL,
    ip          TEXT    NOT NULL,
    network     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('password', 'second_factor', 'refused'))
);
CREATE INDEX ix_auth_failures_subject ON auth_failures (subject, at);
CREATE INDEX ix_auth_failures_ip ON auth_failures (ip, at);
CREATE INDEX ix_auth_failures_network ON auth_failures (network, at);
CREATE INDEX ix_auth_failures_user ON auth_failures (user_id, at);

-- Sources (an IP address or a /24, /64 network) whose sign-in attempts are refused.
CREATE TABLE source_blocks (
    source         TEXT    NOT NULL PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('ip', 'network')),
    reason         TEXT    NOT NULL,
    level          BIGINT  NOT NULL,
    blocked_at     BIGINT  NOT NULL,
    blocked_until  BIGINT  NOT NULL
);

-- Locks, blocks, unlocks and unblocks (kept for the audit log).
CREATE TABLE security_events (
    id        TEXT    NOT NULL PRIMARY KEY,
    at        BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    user_id   TEXT,
    actor_id  TEXT,
    source    TEXT,
    detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX ix_security_events_at ON security_events (at);
CREATE INDEX ix_security_events_user ON security_events (user_id, at);
