-- The durable outbox: every e-mail and SMS is written here in the transaction that caused
-- it, then delivered by a worker on any instance. Keep in step with ../postgres/0002_outbox.sql.
CREATE TABLE outbox (
    id               TEXT    NOT NULL PRIMARY KEY,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        TEXT    NOT NULL,
    subject          TEXT,
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    -- While 'sending': which worker holds the message and until when.
    lease_owner      TEXT,
    lease_until      INTEGER,
    sent_at          INTEGER,
    last_error       TEXT
) STRICT;

CREATE INDEX ix_outbox_due ON outbox (status, next_attempt_at);
