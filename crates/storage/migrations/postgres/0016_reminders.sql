-- Appointment reminders (issue 7): scheduled with the appointment, moved into the outbox
-- when due by whichever instance claims them first (a conditional UPDATE), so that none is
-- sent twice. Keep in step with the other backend.
-- The practice's reminder rule as JSON; empty: the defaults.
ALTER TABLE organizations ADD COLUMN reminder_policy TEXT NOT NULL DEFAULT '';

CREATE TABLE reminders (
    id              TEXT  NOT NULL PRIMARY KEY,
    org_id          TEXT  NOT NULL,
    appointment_id  TEXT  NOT NULL,
    channel         TEXT  NOT NULL CHECK (channel IN ('email', 'sms')),
    due_at          BIGINT NOT NULL,
    status          TEXT  NOT NULL CHECK (status IN ('pending', 'queued', 'skipped')),
    -- The outbox message it became, for its delivery state.
    outbox_id       TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (appointment_id, channel, due_at),
    FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_reminders_due ON reminders (status, due_at);
