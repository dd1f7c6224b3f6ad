//! Appointments, their history, and the one guarantee the calendar rests on: two occupying
//! appointments of one practitioner never overlap (buffers included), nor an appointment
//! and a patient's unexpired hold, unless a user with the overbook right explicitly
//! overbooks. The check and the write happen under the
//! practitioner's lock in one transaction, so the guarantee holds under concurrency, on both
//! backends and across instances sharing a database.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{
    AppointmentId, BookingId, PatientId, PractitionerId, UserId, VisitTypeId,
};
use termin_domain::schedule::appointment::AppointmentStatus;
use termin_domain::schedule::span::Span;

use super::{PracticeData, PracticeTx, corrupt, id, placeholders};
use crate::StoreResult;
use crate::time::{from_db, to_db};

/// An appointment as stored.
#[derive(Debug, Clone)]
pub struct Appointment {
    pub id: AppointmentId,
    pub practitioner_id: PractitionerId,
    pub visit_type_id: VisitTypeId,
    pub patient_id: PatientId,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The time it occupies, buffers included.
    pub block: Span,
    pub status: AppointmentStatus,
    pub overbooked: bool,
    pub visit_reason: Option<String>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
    /// `staff` or `online`.
    pub source: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An appointment to book.
#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    pub id: AppointmentId,
    pub practitioner_id: PractitionerId,
    pub visit_type_id: VisitTypeId,
    pub patient_id: PatientId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub block: Span,
    /// Book even if the time is taken (the caller checked the overbook right).
    pub overbook: bool,
    pub visit_reason: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub source: &'a str,
    pub actor: Option<UserId>,
    pub now: Timestamp,
    /// The patient's hold this appointment confirms (its own hold does not count as taken).
    pub hold: Option<BookingId>,
}

/// A new time (and possibly calendar) for an appointment.
#[derive(Debug, Clone)]
pub struct Reschedule {
    pub practitioner_id: PractitionerId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub block: Span,
    pub overbook: bool,
}

/// The outcome of a booking or a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booking {
    Done,
    /// Another occupying appointment overlaps (and no overbooking was asked for).
    SlotTaken,
    /// No such practitioner (or appointment) in this practice.
    NotFound,
}

/// One entry of an appointment's history.
#[derive(Debug, Clone)]
pub struct AppointmentChange {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub change: String,
}

/// Which appointments to list.
#[derive(Debug, Clone)]
pub struct AppointmentFilter {
    /// Empty: no calendar at all (a member who may see none).
    pub practitioners: Vec<PractitionerId>,
    pub from: Timestamp,
    pub to: Timestamp,
    pub include_cancelled: bool,
    pub patient: Option<PatientId>,
}

const COLUMNS: &str = "id, practitioner_id, visit_type_id, patient_id, start_at, end_at, \
     block_start, block_end, status, overbooked, visit_reason, notes, cancel_reason, source, \
     created_at, updated_at";

fn from_row(row: &AnyRow) -> StoreResult<Appointment> {
    let start = from_db(row.try_get("start_at")?)?;
    let end = from_db(row.try_get("end_at")?)?;
    let block = Span::new(
        from_db(row.try_get("block_start")?)?,
        from_db(row.try_get("block_end")?)?,
    )
    .ok_or_else(|| corrupt("appointments.block"))?;
    Ok(Appointment {
        id: id(row, "id")?,
        practitioner_id: id(row, "practitioner_id")?,
        visit_type_id: id(row, "visit_type_id")?,
        patient_id: id(row, "patient_id")?,
        start,
        end,
        block,
        status: AppointmentStatus::parse(&row.try_get::<String, _>("status")?)
            .map_err(|_| corrupt("appointments.status"))?,
        overbooked: row.try_get::<i64, _>("overbooked")? != 0,
        visit_reason: row.try_get("visit_reason")?,
        notes: row.try_get("notes")?,
        cancel_reason: row.try_get("cancel_reason")?,
        source: row.try_get("source")?,
        created_at: from_db(row.try_get("created_at")?)?,
        updated_at: from_db(row.try_get("updated_at")?)?,
    })
}

impl PracticeData<'_> {
    pub async fn appointment(
        &self,
        appointment: AppointmentId,
    ) -> StoreResult<Option<Appointment>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .fetch_optional(self.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    /// Appointments in the listed calendars that touch [`from`, `to`), by start.
    pub async fn appointments(&self, filter: &AppointmentFilter) -> StoreResult<Vec<Appointment>> {
        if filter.practitioners.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND block_start < $2 \
             AND block_end > $3 AND practitioner_id IN ({})",
            placeholders(4, filter.practitioners.len())
        );
        if !filter.include_cancelled {
            sql.push_str(" AND status <> 'cancelled'");
        }
        if filter.patient.is_some() {
            sql.push_str(&format!(
                " AND patient_id = ${}",
                4 + filter.practitioners.len()
            ));
        }
        sql.push_str(" ORDER BY start_at, practitioner_id, id");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.org.to_string())
            .bind(to_db(filter.to))
            .bind(to_db(filter.from));
        for practitioner in &filter.practitioners {
            query = query.bind(practitioner.to_string());
        }
        if let Some(patient) = filter.patient {
            query = query.bind(patient.to_string());
        }
        query
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// A patient's appointments in the listed calendars, newest first.
    pub async fn appointments_of_patient(
        &self,
        patient: PatientId,
        practitioners: &[PractitionerId],
    ) -> StoreResult<Vec<Appointment>> {
        if practitioners.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND patient_id = $2 \
             AND practitioner_id IN ({}) ORDER BY start_at DESC, id",
            placeholders(3, practitioners.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.org.to_string())
            .bind(patient.to_string());
        for practitioner in practitioners {
            query = query.bind(practitioner.to_string());
        }
        query
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    /// An appointment's history, oldest first.
    pub async fn appointment_history(
        &self,
        appointment: AppointmentId,
    ) -> StoreResult<Vec<AppointmentChange>> {
        sqlx::query(
            "SELECT seq, at, actor_id, change FROM appointment_changes \
             WHERE org_id = $1 AND appointment_id = $2 ORDER BY seq",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(AppointmentChange {
                seq: row.try_get("seq")?,
                at: from_db(row.try_get("at")?)?,
                actor_id: row
                    .try_get::<Option<String>, _>("actor_id")?
                    .map(|a| {
                        a.parse()
                            .map_err(|_| corrupt("appointment_changes.actor_id"))
                    })
                    .transpose()?,
                change: row.try_get("change")?,
            })
        })
        .collect()
    }
}

impl PracticeTx<'_> {
    /// Whether an occupying appointment of `practitioner` other than `except` overlaps
    /// `block`. Call under the practitioner's lock.
    /// Whether an occupying appointment (other than `except`) or an unexpired hold (other
    /// than `except_hold`) of `practitioner` overlaps `block`. Call under the
    /// practitioner's lock.
    pub(crate) async fn taken(
        &mut self,
        practitioner: PractitionerId,
        block: &Span,
        except: Option<AppointmentId>,
        except_hold: Option<BookingId>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let found = sqlx::query(
            "SELECT id FROM appointments WHERE org_id = $1 AND practitioner_id = $2 \
             AND status <> 'cancelled' AND block_start < $3 AND block_end > $4 AND id <> $5 \
             UNION ALL \
             SELECT id FROM bookings WHERE org_id = $1 AND practitioner_id = $2 \
             AND status = 'pending' AND expires_at > $6 AND block_start < $3 AND block_end > $4 \
             AND id <> $7 LIMIT 1",
        )
        .bind(self.org.to_string())
        .bind(practitioner.to_string())
        .bind(to_db(block.end))
        .bind(to_db(block.start))
        .bind(except.map(|e| e.to_string()).unwrap_or_default())
        .bind(to_db(now))
        .bind(except_hold.map(|e| e.to_string()).unwrap_or_default())
        .fetch_optional(&mut *self.tx.inner)
        .await?;
        Ok(found.is_some())
    }

    /// Books an appointment unless its time is taken (see the module docs).
    pub async fn book(&mut self, new: &NewAppointment<'_>) -> StoreResult<Booking> {
        if !self.lock_practitioner(new.practitioner_id).await? {
            return Ok(Booking::NotFound);
        }
        if !new.overbook
            && self
                .taken(new.practitioner_id, &new.block, None, new.hold, new.now)
                .await?
        {
            return Ok(Booking::SlotTaken);
        }
        sqlx::query(
            "INSERT INTO appointments (id, org_id, practitioner_id, visit_type_id, patient_id, \
             start_at, end_at, block_start, block_end, status, overbooked, visit_reason, notes, \
             source, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, 'booked', $10, $11, $12, $13, $14, $15, $15)",
        )
        .bind(new.id.to_string())
        .bind(self.org.to_string())
        .bind(new.practitioner_id.to_string())
        .bind(new.visit_type_id.to_string())
        .bind(new.patient_id.to_string())
        .bind(to_db(new.start))
        .bind(to_db(new.end))
        .bind(to_db(new.block.start))
        .bind(to_db(new.block.end))
        .bind(i64::from(new.overbook))
        .bind(new.visit_reason)
        .bind(new.notes)
        .bind(new.source)
        .bind(new.actor.map(|a| a.to_string()))
        .bind(to_db(new.now))
        .execute(&mut *self.tx.inner)
        .await?;
        let change = format!(
            "created {}–{} practitioner {}{}",
            new.start,
            new.end,
            new.practitioner_id,
            if new.overbook { " (overbooked)" } else { "" }
        );
        self.record_change(new.id, new.actor, new.now, &change)
            .await?;
        Ok(Booking::Done)
    }

    /// The appointment, read inside the transaction.
    pub async fn appointment(
        &mut self,
        appointment: AppointmentId,
    ) -> StoreResult<Option<Appointment>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .fetch_optional(&mut *self.tx.inner)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    /// Moves or resizes an appointment (possibly into another calendar) unless the new time
    /// is taken. Both calendars are locked in id order, so two opposite moves cannot
    /// deadlock.
    pub async fn reschedule(
        &mut self,
        appointment: &Appointment,
        to: &Reschedule,
        actor: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<Booking> {
        let mut calendars = [appointment.practitioner_id, to.practitioner_id];
        calendars.sort();
        for practitioner in calendars {
            if !self.lock_practitioner(practitioner).await? {
                return Ok(Booking::NotFound);
            }
        }
        if !to.overbook
            && self
                .taken(
                    to.practitioner_id,
                    &to.block,
                    Some(appointment.id),
                    None,
                    now,
                )
                .await?
        {
            return Ok(Booking::SlotTaken);
        }
        sqlx::query(
            "UPDATE appointments SET practitioner_id = $3, start_at = $4, end_at = $5, \
             block_start = $6, block_end = $7, overbooked = $8, updated_at = $9 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(appointment.id.to_string())
        .bind(to.practitioner_id.to_string())
        .bind(to_db(to.start))
        .bind(to_db(to.end))
        .bind(to_db(to.block.start))
        .bind(to_db(to.block.end))
        .bind(i64::from(to.overbook))
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        let mut change = format!(
            "moved {}–{} → {}–{}",
            appointment.start, appointment.end, to.start, to.end
        );
        if appointment.practitioner_id != to.practitioner_id {
            change.push_str(&format!(
                ", practitioner {} → {}",
                appointment.practitioner_id, to.practitioner_id
            ));
        }
        if to.overbook {
            change.push_str(" (overbooked)");
        }
        self.record_change(appointment.id, actor, now, &change)
            .await?;
        Ok(Booking::Done)
    }

    /// Sets the status (with the reason when cancelling); false when there is no such
    /// appointment or it is already cancelled (a cancellation is final).
    pub async fn set_status(
        &mut self,
        appointment: AppointmentId,
        status: AppointmentStatus,
        cancel_reason: Option<&str>,
        actor: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE appointments SET status = $3, cancel_reason = $4, updated_at = $5 \
             WHERE org_id = $1 AND id = $2 AND status <> 'cancelled'",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .bind(status.as_str())
        .bind(cancel_reason)
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        let change = format!("status {}", status.as_str());
        self.record_change(appointment, actor, now, &change).await?;
        Ok(true)
    }

    /// Changes the visit reason and notes (kept out of the history: medical content).
    pub async fn set_clinical_text(
        &mut self,
        appointment: AppointmentId,
        visit_reason: Option<&str>,
        notes: Option<&str>,
        actor: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE appointments SET visit_reason = $3, notes = $4, updated_at = $5 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .bind(visit_reason)
        .bind(notes)
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.record_change(appointment, actor, now, "visit reason or notes changed")
            .await?;
        Ok(true)
    }

    async fn record_change(
        &mut self,
        appointment: AppointmentId,
        actor: Option<UserId>,
        at: Timestamp,
        change: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO appointment_changes (org_id, appointment_id, seq, at, actor_id, change) \
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5 FROM appointment_changes \
             WHERE appointment_id = $2",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .bind(to_db(at))
        .bind(actor.map(|a| a.to_string()))
        .bind(change)
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(())
    }
}
