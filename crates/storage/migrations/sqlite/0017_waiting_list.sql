-- The waiting list (issue 7): a patient with a confirmed online appointment asks for an
-- earlier one of the same visit type. Keep in step with the other backend.
-- Nothing personal is kept here: ids, a preference and instants. Every row hangs on an
-- appointment (composite key with the practice), so erasing the patient's appointments
-- removes their entries and offer links with them.
CREATE TABLE waiting_list (
    appointment_id     TEXT    NOT NULL PRIMARY KEY,
    org_id             TEXT    NOT NULL,
    -- Only an earlier time with the appointment's own practitioner (1), or with anyone (0).
    same_practitioner  INTEGER NOT NULL CHECK (same_practitioner IN (0, 1)),
    joined_at          INTEGER NOT NULL,
    -- Order of joining within the practice, for ties of joined_at.
    seq                INTEGER NOT NULL,
    UNIQUE (org_id, appointment_id),
    FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX ix_waiting_list_order ON waiting_list (org_id, joined_at, seq);

-- A freed time offered to the first patients waiting for it. Taken once: the acceptance is
-- a conditional UPDATE of status, in the transaction that moves the winner's appointment.
CREATE TABLE waiting_offers (
    id               TEXT    NOT NULL PRIMARY KEY,
    org_id           TEXT    NOT NULL,
    practitioner_id  TEXT    NOT NULL,
    visit_type_id    TEXT    NOT NULL,
    start_at         INTEGER NOT NULL,
    end_at           INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('open', 'taken')),
    expires_at       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    taken_at         INTEGER,
    CHECK (start_at < end_at),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id),
    FOREIGN KEY (org_id, visit_type_id) REFERENCES visit_types (org_id, id)
) STRICT;

-- One offer's link for one waiting appointment: only the SHA-256 of the 256-bit token.
CREATE TABLE waiting_offer_links (
    token_hash      TEXT    NOT NULL PRIMARY KEY,
    org_id          TEXT    NOT NULL,
    offer_id        TEXT    NOT NULL,
    appointment_id  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    -- When this link won the offer.
    used_at         INTEGER,
    UNIQUE (offer_id, appointment_id),
    FOREIGN KEY (org_id, offer_id) REFERENCES waiting_offers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX ix_waiting_offer_links_appointment ON waiting_offer_links (org_id, appointment_id);
