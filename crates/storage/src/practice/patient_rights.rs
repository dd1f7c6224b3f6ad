//! What a practice holds on one patient, for the patient's data rights (GDPR Art. 15, 17,
//! 20): everything read together for an export, and erasing or anonymising it in the
//! caller's transaction. "The patient's bookings" are the online bookings that became one
//! of their appointments, and the holds (pending bookings, expired or not) made with their
//! phone number or e-mail address — the same set is exported, erased and anonymised.
//! The audit log is never changed here: its entries hold ids only, so they survive.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{AppointmentId, BookingId, PatientId, PractitionerId, VisitTypeId};

use super::appointments::AppointmentChange;
use super::{PracticeData, PracticeTx, corrupt, id};
use crate::audit::{COLUMNS as AUDIT_COLUMNS, entry as audit_entry};
use crate::time::{from_db, to_db};
use crate::{AuditEntry, StoreResult};

/// An online booking of the patient as kept (the code's hash and attempts left out).
#[derive(Debug, Clone)]
pub struct PatientBooking {
    pub id: BookingId,
    /// `pending` or `confirmed`.
    pub status: String,
    pub appointment_id: Option<AppointmentId>,
    pub practitioner_id: PractitionerId,
    pub visit_type_id: VisitTypeId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub expires_at: Timestamp,
    /// As the person booking typed them (empty once anonymised).
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub phone: String,
    pub email: Option<String>,
    pub created_at: Timestamp,
}

/// What an anonymised record keeps in place of the person's data (the use case decides).
#[derive(Debug, Clone)]
pub struct AnonymisedRecord<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub birth_date: jiff::civil::Date,
}

/// How much an erasure or anonymisation touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasedCounts {
    pub appointments: u64,
    pub bookings: u64,
    pub manage_links: u64,
}

/// The patient's appointments (`$1` org, `$2` patient).
const APPOINTMENTS_OF: &str = "SELECT id FROM appointments WHERE org_id = $1 AND patient_id = $2";

/// The patient's bookings (`$1` org, `$2` patient): those confirmed into their appointments
/// and the holds with their phone number or e-mail address.
fn bookings_of() -> String {
    format!(
        "org_id = $1 AND (appointment_id IN ({APPOINTMENTS_OF}) OR (status = 'pending' AND \
         EXISTS (SELECT 1 FROM patients p WHERE p.org_id = $1 AND p.id = $2 AND \
         (p.phone = bookings.phone OR p.email = bookings.email))))"
    )
}

fn booking_from_row(row: &AnyRow) -> StoreResult<PatientBooking> {
    Ok(PatientBooking {
        id: id(row, "id")?,
        status: row.try_get("status")?,
        appointment_id: row
            .try_get::<Option<String>, _>("appointment_id")?
            .map(|a| a.parse().map_err(|_| corrupt("bookings.appointment_id")))
            .transpose()?,
        practitioner_id: id(row, "practitioner_id")?,
        visit_type_id: id(row, "visit_type_id")?,
        start: from_db(row.try_get("start_at")?)?,
        end: from_db(row.try_get("end_at")?)?,
        expires_at: from_db(row.try_get("expires_at")?)?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
        birth_date: row.try_get("birth_date")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        created_at: from_db(row.try_get("created_at")?)?,
    })
}

impl PracticeData<'_> {
    /// Every history entry of the patient's appointments, by appointment and in order.
    pub async fn patient_changes(
        &self,
        patient: PatientId,
    ) -> StoreResult<Vec<(AppointmentId, AppointmentChange)>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT appointment_id, seq, at, actor_id, change FROM appointment_changes \
             WHERE org_id = $1 AND appointment_id IN ({APPOINTMENTS_OF}) \
             ORDER BY appointment_id, seq"
        )))
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|row| {
            let change = AppointmentChange {
                seq: row.try_get("seq")?,
                at: from_db(row.try_get("at")?)?,
                actor_id: row
                    .try_get::<Option<String>, _>("actor_id")?
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse()
                            .map_err(|_| corrupt("appointment_changes.actor_id"))
                    })
                    .transpose()?,
                change: row.try_get("change")?,
            };
            Ok((id(row, "appointment_id")?, change))
        })
        .collect()
    }

    /// The patient's online bookings (see the module docs), oldest first.
    pub async fn patient_bookings(&self, patient: PatientId) -> StoreResult<Vec<PatientBooking>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, status, appointment_id, practitioner_id, visit_type_id, start_at, end_at, \
             expires_at, given_name, family_name, birth_date, phone, email, created_at \
             FROM bookings WHERE {} ORDER BY created_at, start_at, id",
            bookings_of()
        )))
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(booking_from_row)
        .collect()
    }

    /// The audit entries that name the patient (`patient:<id>`) or one of their
    /// appointments (`appointment:<id>`), in chain order.
    pub async fn patient_audit_entries(&self, patient: PatientId) -> StoreResult<Vec<AuditEntry>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE org_id = $1 AND (target LIKE $3 \
             OR EXISTS (SELECT 1 FROM appointments a WHERE a.org_id = $1 AND a.patient_id = $2 \
             AND audit_log.target LIKE '%appointment:' || a.id || '%')) ORDER BY seq"
        )))
        .bind(self.org.to_string())
        .bind(patient.to_string())
        // A UUID holds no LIKE wildcards.
        .bind(format!("%patient:{patient}%"))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(audit_entry)
        .collect()
    }
}

impl PracticeTx<'_> {
    /// Deletes the patient, their appointments (history and manage links go with them),
    /// and their bookings. `None` when the practice has no such patient.
    pub async fn erase_patient(&mut self, patient: PatientId) -> StoreResult<Option<ErasedCounts>> {
        if !self.patient_exists(patient).await? {
            return Ok(None);
        }
        let bookings = self.delete_bookings_of(patient, false).await?;
        let manage_links = self.delete_manage_links_of(patient).await?;
        let appointments =
            sqlx::query("DELETE FROM appointments WHERE org_id = $1 AND patient_id = $2")
                .bind(self.org.to_string())
                .bind(patient.to_string())
                .execute(&mut *self.tx.inner)
                .await?
                .rows_affected();
        sqlx::query("DELETE FROM patients WHERE org_id = $1 AND id = $2")
            .bind(self.org.to_string())
            .bind(patient.to_string())
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(Some(ErasedCounts {
            appointments,
            bookings,
            manage_links,
        }))
    }

    /// Replaces everything personal of the patient with `record`'s placeholders and
    /// nothing: contacts, insurance number and notes of the record; visit reasons, notes and
    /// cancellation reasons of their appointments (which stay, with times, calendar, visit
    /// type and status, for the practice's statistics); the personal fields of bookings
    /// confirmed into them. Manage links and holds are deleted. `None` when the practice
    /// has no such patient.
    pub async fn anonymise_patient(
        &mut self,
        patient: PatientId,
        record: &AnonymisedRecord<'_>,
        now: Timestamp,
    ) -> StoreResult<Option<ErasedCounts>> {
        if !self.patient_exists(patient).await? {
            return Ok(None);
        }
        // Holds first: they are found by the record's phone and e-mail, cleared below.
        let holds = self.delete_bookings_of(patient, true).await?;
        let confirmed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE bookings SET given_name = '', family_name = '', birth_date = '', \
             phone = '', email = NULL, code_hash = '' WHERE {}",
            bookings_of()
        )))
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .execute(&mut *self.tx.inner)
        .await?
        .rows_affected();
        let manage_links = self.delete_manage_links_of(patient).await?;
        let appointments = sqlx::query(
            "UPDATE appointments SET visit_reason = NULL, notes = NULL, cancel_reason = NULL, \
             updated_at = $3 WHERE org_id = $1 AND patient_id = $2",
        )
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?
        .rows_affected();
        // Empty search keys: an anonymised record is never found by name, nor taken for
        // someone's duplicate.
        sqlx::query(
            "UPDATE patients SET given_name = $3, family_name = $4, birth_date = $5, \
             phone = NULL, email = NULL, street = NULL, postal_code = NULL, city = NULL, \
             insurance_number = NULL, notes = NULL, family_key = '', family_plain = '', \
             given_key = '', given_plain = '', updated_at = $6 WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .bind(record.given_name)
        .bind(record.family_name)
        .bind(record.birth_date.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(Some(ErasedCounts {
            appointments,
            bookings: holds + confirmed,
            manage_links,
        }))
    }

    /// Deletes the patient's bookings (only the holds with `holds_only`); how many.
    async fn delete_bookings_of(
        &mut self,
        patient: PatientId,
        holds_only: bool,
    ) -> StoreResult<u64> {
        let holds = if holds_only {
            " AND status = 'pending'"
        } else {
            ""
        };
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM bookings WHERE {}{holds}",
            bookings_of()
        )))
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .execute(&mut *self.tx.inner)
        .await?
        .rows_affected())
    }

    async fn delete_manage_links_of(&mut self, patient: PatientId) -> StoreResult<u64> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM manage_links WHERE org_id = $1 AND appointment_id IN ({APPOINTMENTS_OF})"
        )))
        .bind(self.org.to_string())
        .bind(patient.to_string())
        .execute(&mut *self.tx.inner)
        .await?
        .rows_affected())
    }
}
