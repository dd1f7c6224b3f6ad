//! Appointments: book, list, read, move or resize, set the status, cancel (reason kept,
//! the patient told), visit reason and notes behind their own permission, and the history.
//! "No double booking" is the storage layer's guarantee (`PracticeTx::book`); here are the
//! rights: managing appointments per calendar, booking outside opening hours, overbooking.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::error::FieldErrors;
use termin_domain::ids::{AppointmentId, PatientId, PractitionerId, VisitTypeId};
use termin_domain::rights::Permission;
use termin_domain::schedule::appointment::{
    AppointmentStatus, occupied, parse_start, within_opening_hours,
};
use termin_domain::schedule::span::Span;
use termin_storage::{
    Appointment, AppointmentChange, AppointmentFilter, Booking, NewAppointment, Patient, Reschedule,
};

use super::reminders::{plan, planned, planned_for_patient};

use super::{Staff, field_id};
use crate::Services;

/// A new appointment as a client sends it (the contract's fields and more).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppointmentInput {
    pub practitioner_id: String,
    pub visit_type_id: String,
    pub start: String,
    pub patient_id: String,
    /// A different end than the visit type's duration gives.
    pub end: Option<String>,
    pub visit_reason: Option<String>,
    pub notes: Option<String>,
    /// Book although the time is taken (needs the overbook right).
    pub overbook: bool,
}

/// A move or resize.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppointmentMove {
    pub start: Option<String>,
    pub end: Option<String>,
    pub practitioner_id: Option<String>,
    pub overbook: bool,
}

/// A cancellation by staff.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Cancellation {
    pub reason: Option<String>,
    /// Tell the patient (e-mail and SMS where known); on unless switched off.
    pub notify: Option<bool>,
}

/// A time range for listing: dates (`YYYY-MM-DD`, whole days in the practice's zone, `to`
/// inclusive) or RFC 3339 instants.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Range {
    pub practitioner_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub include_cancelled: Option<bool>,
}

/// An appointment as the member may see it.
#[derive(Debug, Clone)]
pub struct AppointmentView {
    pub appointment: Appointment,
    pub patient_given_name: String,
    pub patient_family_name: String,
    /// Whether visit reason and notes are shown (otherwise they are blanked).
    pub clinical_visible: bool,
}

/// The longest range one listing may cover.
const MAX_RANGE_DAYS: i64 = 62;
/// The longest appointment.
const MAX_LENGTH: SignedDuration = SignedDuration::from_hours(12);

fn clinical_text(errors: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<String> {
    let value = raw.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > 2000 {
        errors.add(field, "must be at most 2000 characters");
    }
    Some(value.to_owned())
}

/// Reads a range bound: an instant, or a date's start (`end_of_day`: the next day's start).
fn bound(raw: &str, zone: &jiff::tz::TimeZone, end_of_day: bool) -> Option<Timestamp> {
    if let Ok(instant) = raw.parse::<Timestamp>() {
        return Some(instant);
    }
    let date: Date = raw.parse().ok()?;
    let date = if end_of_day {
        date.tomorrow().ok()?
    } else {
        date
    };
    date.to_zoned_datetime(zone.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// [`bound`] of a required field: missing or unreadable, it is recorded under `field`, whose
/// message shows the date `example`.
fn required_bound(
    errors: &mut FieldErrors,
    (field, example): (&str, &str),
    raw: Option<&str>,
    (zone, end_of_day): (&jiff::tz::TimeZone, bool),
) -> Option<Timestamp> {
    let Some(raw) = raw else {
        errors.add(field, "is required");
        return None;
    };
    let found = bound(raw, zone, end_of_day);
    if found.is_none() {
        errors.add(
            field,
            format!("must be a date ({example}) or a time with offset"),
        );
    }
    found
}

impl Services {
    /// The spans of the practitioner's absences around `start`.
    async fn absences_near(
        &self,
        staff: &Staff<'_>,
        practitioner: PractitionerId,
        start: Timestamp,
    ) -> Result<Vec<Span>, DomainError> {
        let zone = staff.zone();
        let date = zone.to_datetime(start).date();
        let (from, to) = (
            date.yesterday().unwrap_or(date),
            date.tomorrow().unwrap_or(date),
        );
        Ok(self
            .practice_data(staff)
            .absences(from, to)
            .await?
            .iter()
            .filter(|a| a.practitioner_ids.contains(&practitioner))
            .flat_map(|a| a.plan.spans(&zone, from, to))
            .collect())
    }

    /// Refused unless [`start`, `end`) lies within opening hours and clear of absences, or
    /// the member may book outside them for this calendar.
    async fn check_hours(
        &self,
        staff: &Staff<'_>,
        practitioner: PractitionerId,
        visit_type: VisitTypeId,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<(), DomainError> {
        if staff
            .acting
            .rights
            .allows(Permission::BookOutsideHours, practitioner)
        {
            return Ok(());
        }
        let hours = self
            .practice_data(staff)
            .practitioner(practitioner)
            .await?
            .ok_or(DomainError::NotFound)?
            .hours;
        let absences = self.absences_near(staff, practitioner, start).await?;
        if within_opening_hours(&hours, &staff.zone(), visit_type, start, end, &absences) {
            Ok(())
        } else {
            Err(DomainError::Conflict {
                code: "outside_opening_hours",
                message:
                    "this time is outside the practitioner's opening hours or during an absence"
                        .into(),
            })
        }
    }

    /// Books an appointment (201), or 409 `slot_taken` when the practitioner's time is
    /// taken.
    pub async fn create_appointment(
        &self,
        staff: &Staff<'_>,
        input: &AppointmentInput,
    ) -> Result<AppointmentView, DomainError> {
        let zone = staff.zone();
        let mut errors = FieldErrors::new();
        let practitioner: Option<PractitionerId> =
            field_id(&mut errors, "practitioner_id", &input.practitioner_id);
        let visit_type: Option<VisitTypeId> =
            field_id(&mut errors, "visit_type_id", &input.visit_type_id);
        let patient: Option<PatientId> = field_id(&mut errors, "patient_id", &input.patient_id);
        let start = errors.take("start", parse_start(&input.start, &zone));
        let end = match input.end.as_deref().filter(|e| !e.trim().is_empty()) {
            Some(raw) => errors.take("end", parse_start(raw, &zone)),
            None => None,
        };
        let visit_reason =
            clinical_text(&mut errors, "visit_reason", input.visit_reason.as_deref());
        let notes = clinical_text(&mut errors, "notes", input.notes.as_deref());
        errors.into_result()?;
        let (Some(practitioner), Some(visit_type), Some(patient), Some(start)) =
            (practitioner, visit_type, patient, start)
        else {
            return Err(DomainError::invalid("start", "is required"));
        };
        let data = self.practice_data(staff);
        if data.practitioner(practitioner).await?.is_none() {
            return Err(DomainError::NotFound);
        }
        staff.require_for(Permission::ManageAppointments, practitioner)?;
        if input.overbook {
            staff.require_for(Permission::Overbook, practitioner)?;
        }
        if visit_reason.is_some() || notes.is_some() {
            staff.require(Permission::SeeMedicalNotes)?;
        }
        let visit = data
            .visit_type(visit_type)
            .await?
            .ok_or(DomainError::NotFound)?;
        if !visit.draft.practitioner_ids.is_empty()
            && !visit.draft.practitioner_ids.contains(&practitioner)
        {
            return Err(DomainError::invalid(
                "visit_type_id",
                "is not offered by this practitioner",
            ));
        }
        let patient_record = data
            .patient(patient, &staff.patients())
            .await?
            .ok_or(DomainError::NotFound)?;
        let end = end.unwrap_or(start + visit.draft.duration());
        if end <= start || end.duration_since(start) > MAX_LENGTH {
            return Err(DomainError::invalid(
                "end",
                "must be after start and at most 12 hours later",
            ));
        }
        self.check_hours(staff, practitioner, visit_type, start, end)
            .await?;
        let block = occupied(
            start,
            end,
            visit.draft.buffer_before(),
            visit.draft.buffer_after(),
        )
        .ok_or_else(|| DomainError::invalid("end", "must be after start"))?;
        let id = AppointmentId::random();
        let now = self.clock.now();
        let contacts = (
            patient_record.draft.email.is_some(),
            patient_record.draft.phone.is_some(),
        );
        let due = planned(&data.reminder_policy().await?, now, start, contacts);
        let mut tx = self.store.begin().await?;
        let booking = tx
            .practice(staff.org())
            .book(&NewAppointment {
                id,
                practitioner_id: practitioner,
                visit_type_id: visit_type,
                patient_id: patient,
                start,
                end,
                block,
                overbook: input.overbook,
                visit_reason: visit_reason.as_deref(),
                notes: notes.as_deref(),
                source: "staff",
                actor: Some(staff.session.user_id),
                now,
                hold: None,
            })
            .await?;
        booking_outcome(booking)?;
        plan(&mut tx.practice(staff.org()), id, &due, now).await?;
        self.audit(
            &mut tx,
            staff,
            "appointment.create",
            format!("appointment:{id},patient:{patient},practitioner:{practitioner}"),
        )
        .await?;
        tx.commit().await?;
        let appointment = self
            .practice_data(staff)
            .appointment(id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let names = (
            patient_record.draft.given_name.clone(),
            patient_record.draft.family_name.clone(),
        );
        Ok(view(appointment, &names, staff))
    }

    /// Appointments in [`from`, `to`) of one calendar or of every calendar the member may
    /// see.
    pub async fn appointments(
        &self,
        staff: &Staff<'_>,
        range: &Range,
    ) -> Result<Vec<AppointmentView>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let zone = staff.zone();
        let mut errors = FieldErrors::new();
        let practitioner: Option<PractitionerId> = range
            .practitioner_id
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| field_id(&mut errors, "practitioner_id", p));
        let from = required_bound(
            &mut errors,
            ("from", "2026-12-01"),
            range.from.as_deref(),
            (&zone, false),
        );
        let to = required_bound(
            &mut errors,
            ("to", "2026-12-07"),
            range.to.as_deref(),
            (&zone, true),
        );
        if let (Some(from), Some(to)) = (from, to)
            && (to <= from
                || to.duration_since(from) > SignedDuration::from_hours(24 * MAX_RANGE_DAYS))
        {
            errors.add(
                "to",
                format!("must be after from, at most {MAX_RANGE_DAYS} days later"),
            );
        }
        errors.into_result()?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(DomainError::invalid("from", "is required"));
        };
        let data = self.practice_data(staff);
        let calendars: Vec<PractitionerId> = match practitioner {
            Some(one) => {
                if data.practitioner(one).await?.is_none() {
                    return Err(DomainError::NotFound);
                }
                staff.require_for(Permission::ViewCalendar, one)?;
                vec![one]
            }
            None => data
                .practitioners()
                .await?
                .into_iter()
                .map(|p| p.id)
                .filter(|p| staff.may_view(*p))
                .collect(),
        };
        let appointments = data
            .appointments(&AppointmentFilter {
                practitioners: calendars.clone(),
                from,
                to,
                include_cancelled: range.include_cancelled.unwrap_or(false),
                patient: None,
            })
            .await?;
        let names = self.patient_names(staff, &appointments).await?;
        self.audit_read(
            staff,
            "appointment.list",
            format!(
                "practitioners:{} {from}..{to} ({} appointments)",
                calendars
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                appointments.len()
            ),
        )
        .await?;
        Ok(appointments
            .into_iter()
            .filter_map(|a| {
                let patient = names.get(&a.patient_id)?;
                Some(view(a, patient, staff))
            })
            .collect())
    }

    /// The names of these appointments' patients (all in calendars the member sees), in
    /// one query.
    async fn patient_names(
        &self,
        staff: &Staff<'_>,
        appointments: &[Appointment],
    ) -> Result<HashMap<PatientId, (String, String)>, DomainError> {
        let ids: Vec<PatientId> = appointments.iter().map(|a| a.patient_id).collect();
        Ok(self.practice_data(staff).patient_names(&ids).await?)
    }

    /// One appointment in a calendar the member may see; others are "not found".
    pub async fn appointment(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
    ) -> Result<AppointmentView, DomainError> {
        let appointment = self.visible_appointment(staff, id).await?;
        let names = self
            .patient_names(staff, std::slice::from_ref(&appointment))
            .await?;
        let patient = names
            .get(&appointment.patient_id)
            .ok_or(DomainError::NotFound)?;
        self.audit_read(
            staff,
            "appointment.read",
            format!("appointment:{id},patient:{}", appointment.patient_id),
        )
        .await?;
        Ok(view(appointment, patient, staff))
    }

    async fn visible_appointment(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
    ) -> Result<Appointment, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let appointment = self
            .practice_data(staff)
            .appointment(id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if !staff.may_view(appointment.practitioner_id) {
            return Err(DomainError::NotFound);
        }
        Ok(appointment)
    }

    /// Moves and/or resizes an appointment, possibly into another calendar.
    pub async fn move_appointment(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
        change: &AppointmentMove,
    ) -> Result<AppointmentView, DomainError> {
        let current = self.visible_appointment(staff, id).await?;
        staff.require_for(Permission::ManageAppointments, current.practitioner_id)?;
        if current.status == AppointmentStatus::Cancelled {
            return Err(cancelled());
        }
        let zone = staff.zone();
        let mut errors = FieldErrors::new();
        let start = match change.start.as_deref() {
            Some(raw) => errors.take("start", parse_start(raw, &zone)),
            None => Some(current.start),
        };
        let end = match change.end.as_deref() {
            Some(raw) => errors.take("end", parse_start(raw, &zone)),
            None => None,
        };
        let practitioner = match change.practitioner_id.as_deref() {
            Some(raw) => field_id(&mut errors, "practitioner_id", raw),
            None => Some(current.practitioner_id),
        };
        errors.into_result()?;
        let (Some(start), Some(practitioner)) = (start, practitioner) else {
            return Err(DomainError::invalid("start", "is required"));
        };
        // Without a new end the appointment keeps its length.
        let end = end.unwrap_or(start + current.end.duration_since(current.start));
        if end <= start || end.duration_since(start) > MAX_LENGTH {
            return Err(DomainError::invalid(
                "end",
                "must be after start and at most 12 hours later",
            ));
        }
        let data = self.practice_data(staff);
        if data.practitioner(practitioner).await?.is_none() {
            return Err(DomainError::NotFound);
        }
        staff.require_for(Permission::ManageAppointments, practitioner)?;
        if change.overbook {
            staff.require_for(Permission::Overbook, practitioner)?;
        }
        let visit = data
            .visit_type(current.visit_type_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        self.check_hours(staff, practitioner, current.visit_type_id, start, end)
            .await?;
        let block = occupied(
            start,
            end,
            visit.draft.buffer_before(),
            visit.draft.buffer_after(),
        )
        .ok_or_else(|| DomainError::invalid("end", "must be after start"))?;
        let now = self.clock.now();
        let due = planned_for_patient(data, current.patient_id, now, start).await?;
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        // Re-read under the transaction: it may have been cancelled meanwhile.
        let current = practice
            .appointment(id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if current.status == AppointmentStatus::Cancelled {
            return Err(cancelled());
        }
        let outcome = practice
            .reschedule(
                &current,
                &Reschedule {
                    practitioner_id: practitioner,
                    start,
                    end,
                    block,
                    overbook: change.overbook,
                },
                Some(staff.session.user_id),
                now,
            )
            .await?;
        booking_outcome(outcome)?;
        // Reminded of the new time, not the old one.
        plan(&mut practice, id, &due, now).await?;
        self.audit(
            &mut tx,
            staff,
            "appointment.move",
            format!("appointment:{id},patient:{}", current.patient_id),
        )
        .await?;
        tx.commit().await?;
        // A resize keeps its time occupied: offering it then finds it taken.
        self.offer_freed_time(
            staff.org(),
            current.practitioner_id,
            current.visit_type_id,
            (current.start, current.end),
        )
        .await;
        self.appointment(staff, id).await
    }

    /// Sets booked, arrived, completed or no-show.
    pub async fn set_appointment_status(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
        raw: &str,
    ) -> Result<AppointmentView, DomainError> {
        let current = self.visible_appointment(staff, id).await?;
        staff.require_for(Permission::ManageAppointments, current.practitioner_id)?;
        let status = AppointmentStatus::parse_settable(raw)
            .map_err(|e| DomainError::invalid("status", e.to_string()))?;
        let mut tx = self.store.begin().await?;
        if !tx
            .practice(staff.org())
            .set_status(
                id,
                status,
                None,
                Some(staff.session.user_id),
                self.clock.now(),
            )
            .await?
        {
            return Err(cancelled());
        }
        self.audit(
            &mut tx,
            staff,
            "appointment.status",
            format!("appointment:{id},status:{}", status.as_str()),
        )
        .await?;
        tx.commit().await?;
        self.appointment(staff, id).await
    }

    /// Cancels an appointment, keeping the reason; the patient is told unless switched off.
    pub async fn cancel_appointment(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
        cancellation: &Cancellation,
    ) -> Result<(), DomainError> {
        let current = self.visible_appointment(staff, id).await?;
        staff.require_for(Permission::ManageAppointments, current.practitioner_id)?;
        let reason = cancellation
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(DomainError::invalid(
                "reason",
                "must be at most 500 characters",
            ));
        }
        let now = self.clock.now();
        // Read before the transaction: a pool read while holding a write transaction can
        // starve SQLite's pool (every connection waiting for the lock this one holds).
        let patient = if cancellation.notify.unwrap_or(true) && current.start > now {
            self.practice_data(staff)
                .patient(current.patient_id, &termin_storage::PatientVisibility::All)
                .await?
        } else {
            None
        };
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        if !practice
            .set_status(
                id,
                AppointmentStatus::Cancelled,
                reason,
                Some(staff.session.user_id),
                now,
            )
            .await?
        {
            return Err(cancelled());
        }
        practice.drop_pending_reminders(id).await?;
        if let Some(patient) = &patient {
            let when = current
                .start
                .to_zoned_datetime(staff.zone())
                .strftime("%d.%m.%Y %H:%M")
                .to_string();
            let practice_name = &staff.acting.membership.org_name;
            for message in cancellation_messages(patient, practice_name, &when, reason) {
                tx.enqueue_message(&message, now).await?;
            }
        }
        self.audit(
            &mut tx,
            staff,
            "appointment.cancel",
            format!("appointment:{id},patient:{}", current.patient_id),
        )
        .await?;
        tx.commit().await?;
        self.offer_freed_time(
            staff.org(),
            current.practitioner_id,
            current.visit_type_id,
            (current.start, current.end),
        )
        .await;
        Ok(())
    }

    /// Changes the visit reason and notes (needs the medical-notes right).
    pub async fn set_clinical_text(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
        visit_reason: Option<&str>,
        notes: Option<&str>,
    ) -> Result<AppointmentView, DomainError> {
        let current = self.visible_appointment(staff, id).await?;
        staff.require_for(Permission::ManageAppointments, current.practitioner_id)?;
        staff.require(Permission::SeeMedicalNotes)?;
        let mut errors = FieldErrors::new();
        let visit_reason = clinical_text(&mut errors, "visit_reason", visit_reason);
        let notes = clinical_text(&mut errors, "notes", notes);
        errors.into_result()?;
        let mut tx = self.store.begin().await?;
        if !tx
            .practice(staff.org())
            .set_clinical_text(
                id,
                visit_reason.as_deref(),
                notes.as_deref(),
                Some(staff.session.user_id),
                self.clock.now(),
            )
            .await?
        {
            return Err(DomainError::NotFound);
        }
        self.audit(
            &mut tx,
            staff,
            "appointment.notes",
            format!("appointment:{id}"),
        )
        .await?;
        tx.commit().await?;
        self.appointment(staff, id).await
    }

    /// Every change of an appointment, oldest first.
    pub async fn appointment_history(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
    ) -> Result<Vec<AppointmentChange>, DomainError> {
        self.visible_appointment(staff, id).await?;
        let history = self.practice_data(staff).appointment_history(id).await?;
        self.audit_read(staff, "appointment.history", format!("appointment:{id}"))
            .await?;
        Ok(history)
    }
}

fn cancelled() -> DomainError {
    DomainError::Conflict {
        code: "appointment_cancelled",
        message: "this appointment is cancelled".into(),
    }
}

/// A booking or move refused by the storage layer's guarantee, as the client is told.
pub(crate) fn booking_outcome(booking: Booking) -> Result<(), DomainError> {
    match booking {
        Booking::Done => Ok(()),
        Booking::SlotTaken => Err(DomainError::Conflict {
            code: "slot_taken",
            message: "this time is taken; please choose another".into(),
        }),
        Booking::NotFound => Err(DomainError::NotFound),
    }
}

fn view(
    appointment: Appointment,
    (given_name, family_name): &(String, String),
    staff: &Staff<'_>,
) -> AppointmentView {
    let clinical_visible = staff.has(Permission::SeeMedicalNotes);
    let mut appointment = appointment;
    if !clinical_visible {
        appointment.visit_reason = None;
        appointment.notes = None;
    }
    AppointmentView {
        appointment,
        patient_given_name: given_name.clone(),
        patient_family_name: family_name.clone(),
        clinical_visible,
    }
}

/// The patient's notice of a cancellation, by e-mail and SMS where known (no medical
/// content: the practice, the time, the reason staff gave).
fn cancellation_messages(
    patient: &Patient,
    practice: &str,
    when: &str,
    reason: Option<&str>,
) -> Vec<Message> {
    let reason_de = reason.map(|r| format!(" Grund: {r}")).unwrap_or_default();
    let reason_en = reason.map(|r| format!(" Reason: {r}")).unwrap_or_default();
    let mut messages = Vec::new();
    if let Some(email) = &patient.draft.email {
        messages.push(Message::email(
            email,
            format!("{practice}: Termin abgesagt / appointment cancelled"),
            format!(
                "Ihr Termin am {when} bei {practice} wurde abgesagt.{reason_de}\n\
                 Bitte vereinbaren Sie bei Bedarf einen neuen Termin.\n\n\
                 Your appointment on {when} at {practice} has been cancelled.{reason_en}\n\
                 Please book a new one if you need to.\n"
            ),
        ));
    }
    if let Some(phone) = &patient.draft.phone {
        messages.push(Message::sms(
            phone,
            format!("{practice}: Ihr Termin am {when} wurde abgesagt / your appointment was cancelled.{reason_de}"),
        ));
    }
    messages
}
