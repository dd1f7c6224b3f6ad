-- The practice's calendar data (tenancy: every row carries its practice's id, and every
-- reference between rows includes it, so a row can never point into another practice).
-- Keep in step with the other backend.

CREATE TABLE practitioners (
    id             TEXT    NOT NULL PRIMARY KEY,
    org_id         TEXT    NOT NULL REFERENCES organizations (id),
    name           TEXT    NOT NULL,
    title          TEXT,
    specialty      TEXT,
    colour         TEXT    NOT NULL,
    room           TEXT,
    -- Weekly opening hours as JSON (the domain's rule list), replaced as a whole.
    opening_hours  TEXT    NOT NULL DEFAULT '[]',
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER  NOT NULL,
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE visit_types (
    id                     TEXT    NOT NULL PRIMARY KEY,
    org_id                 TEXT    NOT NULL REFERENCES organizations (id),
    name                   TEXT    NOT NULL,
    duration_minutes       INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    buffer_before_minutes  INTEGER NOT NULL DEFAULT 0,
    buffer_after_minutes   INTEGER NOT NULL DEFAULT 0,
    online_bookable        INTEGER NOT NULL DEFAULT 0,
    new_patients           INTEGER NOT NULL DEFAULT 1,
    returning_patients     INTEGER NOT NULL DEFAULT 1,
    -- Comma-separated insurance kinds; empty: all.
    insurances             TEXT    NOT NULL DEFAULT '',
    instructions           TEXT,
    min_lead_minutes       INTEGER NOT NULL,
    max_horizon_days       INTEGER NOT NULL,
    cancel_deadline_hours  INTEGER NOT NULL,
    active                 INTEGER NOT NULL DEFAULT 1,
    created_at             INTEGER  NOT NULL,
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE visit_type_practitioners (
    org_id           TEXT NOT NULL,
    visit_type_id    TEXT NOT NULL,
    practitioner_id  TEXT NOT NULL,
    PRIMARY KEY (visit_type_id, practitioner_id),
    FOREIGN KEY (org_id, visit_type_id) REFERENCES visit_types (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id)
) STRICT;

CREATE TABLE absences (
    id                   TEXT   NOT NULL PRIMARY KEY,
    org_id               TEXT   NOT NULL REFERENCES organizations (id),
    start_date           TEXT   NOT NULL,
    end_date             TEXT   NOT NULL,
    start_time           TEXT,
    end_time             TEXT,
    repeat_weekly_until  TEXT,
    reason               TEXT,
    created_at           INTEGER NOT NULL,
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE absence_practitioners (
    org_id           TEXT NOT NULL,
    absence_id       TEXT NOT NULL,
    practitioner_id  TEXT NOT NULL,
    PRIMARY KEY (absence_id, practitioner_id),
    FOREIGN KEY (org_id, absence_id) REFERENCES absences (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id)
) STRICT;
CREATE INDEX ix_absence_practitioners ON absence_practitioners (org_id, practitioner_id);

CREATE TABLE patients (
    id                TEXT   NOT NULL PRIMARY KEY,
    org_id            TEXT   NOT NULL REFERENCES organizations (id),
    given_name        TEXT   NOT NULL,
    family_name       TEXT   NOT NULL,
    birth_date        TEXT   NOT NULL,
    phone             TEXT,
    email             TEXT,
    street            TEXT,
    postal_code       TEXT,
    city              TEXT,
    insurance         TEXT,
    insurance_number  TEXT,
    notes             TEXT,
    -- Who created the record: they see it even before it has an appointment.
    created_by        TEXT,
    -- Search keys (see termin_domain::schedule::patient::SearchKeys).
    family_key        TEXT   NOT NULL,
    family_plain      TEXT   NOT NULL,
    given_key         TEXT   NOT NULL,
    given_plain       TEXT   NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (org_id, id)
) STRICT;
CREATE INDEX ix_patients_family_key ON patients (org_id, family_key);
CREATE INDEX ix_patients_family_plain ON patients (org_id, family_plain);
CREATE INDEX ix_patients_given_key ON patients (org_id, given_key);
CREATE INDEX ix_patients_birth_date ON patients (org_id, birth_date);
CREATE INDEX ix_patients_phone ON patients (org_id, phone);

-- block_start/block_end: the time the appointment occupies, its visit type's buffers
-- included; two occupying appointments of one practitioner never overlap there unless one
-- was explicitly overbooked (checked under the practitioner's row lock).
CREATE TABLE appointments (
    id               TEXT    NOT NULL PRIMARY KEY,
    org_id           TEXT    NOT NULL,
    practitioner_id  TEXT    NOT NULL,
    visit_type_id    TEXT    NOT NULL,
    patient_id       TEXT    NOT NULL,
    start_at         INTEGER  NOT NULL,
    end_at           INTEGER  NOT NULL,
    block_start      INTEGER  NOT NULL,
    block_end        INTEGER  NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('booked', 'arrived', 'completed', 'no_show', 'cancelled')),
    overbooked       INTEGER NOT NULL DEFAULT 0,
    visit_reason     TEXT,
    notes            TEXT,
    cancel_reason    TEXT,
    source           TEXT    NOT NULL DEFAULT 'staff',
    created_by       TEXT,
    created_at       INTEGER  NOT NULL,
    updated_at       INTEGER  NOT NULL,
    CHECK (start_at < end_at AND block_start <= start_at AND block_end >= end_at),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id),
    FOREIGN KEY (org_id, visit_type_id) REFERENCES visit_types (org_id, id),
    FOREIGN KEY (org_id, patient_id) REFERENCES patients (org_id, id)
) STRICT;
CREATE INDEX ix_appointments_calendar ON appointments (org_id, practitioner_id, block_start);
CREATE INDEX ix_appointments_patient ON appointments (org_id, patient_id);

-- Each change of an appointment: who, when, what (times and states, no medical content).
CREATE TABLE appointment_changes (
    org_id          TEXT   NOT NULL,
    appointment_id  TEXT   NOT NULL,
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    actor_id        TEXT,
    change          TEXT   NOT NULL,
    PRIMARY KEY (appointment_id, seq),
    FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE
) STRICT;

-- An invitation may narrow the new member's calendar permissions to some practitioners
-- (comma-separated ids; empty: the whole practice).
ALTER TABLE invitations ADD COLUMN practitioner_ids TEXT NOT NULL DEFAULT '';
