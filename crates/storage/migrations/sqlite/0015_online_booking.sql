-- Online booking by patients (issue 7). Keep in step with the other backend.
-- A booking holds its slot while the patient confirms with the code sent to their phone:
-- a pending booking whose expires_at lies ahead occupies the practitioner's time like an
-- appointment (the overlap check under the practitioner's lock reads both). Confirming
-- turns it into an appointment in the same transaction.
CREATE TABLE bookings (
    id               TEXT    NOT NULL PRIMARY KEY,
    org_id           TEXT    NOT NULL,
    practitioner_id  TEXT    NOT NULL,
    visit_type_id    TEXT    NOT NULL,
    start_at         INTEGER  NOT NULL,
    end_at           INTEGER  NOT NULL,
    block_start      INTEGER  NOT NULL,
    block_end        INTEGER  NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed')),
    expires_at       INTEGER  NOT NULL,
    given_name       TEXT    NOT NULL,
    family_name      TEXT    NOT NULL,
    birth_date       TEXT    NOT NULL,
    phone            TEXT    NOT NULL,
    email            TEXT,
    -- The SMS code, salted and hashed; attempts are counted before a code is compared.
    code_hash        TEXT    NOT NULL,
    attempts         INTEGER  NOT NULL DEFAULT 0,
    appointment_id   TEXT,
    created_at       INTEGER  NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id),
    FOREIGN KEY (org_id, visit_type_id) REFERENCES visit_types (org_id, id)
) STRICT;
CREATE INDEX ix_bookings_calendar ON bookings (org_id, practitioner_id, block_start);
CREATE INDEX ix_bookings_phone ON bookings (org_id, phone, expires_at);

-- The patient's link to see, add to a calendar, cancel or move their appointment: only the
-- SHA-256 of the 256-bit token is kept.
CREATE TABLE manage_links (
    token_hash      TEXT   NOT NULL PRIMARY KEY,
    org_id          TEXT   NOT NULL,
    appointment_id  TEXT   NOT NULL,
    created_at      INTEGER NOT NULL,
    FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE
) STRICT;
