-- The durable outbox: every e-mail and SMS is written here in the transaction that caused
-- it, then delivered by a worker on any instance. Keep in step with ../sqlite/0002_outbox.sql.
CREATE TABLE outbox (
    id               TEXT    NOT NULL PRIMARY KEY,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        TEXT    NOT NULL,
    subject          TEXT,
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    next_attempt_at  BIGINT  NOT NULL,
    -- While 'sending': which worker holds the message and until when.
    lease_owner      TEXT,
    lease_until      BIGINT,
    sent_at          BIGINT,
    last_error       TEXT
);

CREATE INDEX ix_outbox_due ON outbox (status, next_attempt_at);
