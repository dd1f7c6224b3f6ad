//! The patient's manage link: see the appointment, add it to a calendar (.ics), cancel it
//! until the visit type's cancellation deadline. The link is the only key: 256 random bits
//! of which only the hash is stored; an unknown link is "not found".

use jiff::Timestamp;
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::ids::{AppointmentId, OrgId};
use termin_domain::schedule::appointment::AppointmentStatus;
use termin_domain::token::SecretToken;
use termin_storage::{Appointment, Organization};

use super::notify::{LATE_CANCELLATION, PracticeNotice, practice_notices};
use crate::Services;

/// What the patient sees behind their link.
#[derive(Debug, Clone)]
pub struct ManagedAppointment {
    pub practice: String,
    pub practitioner: String,
    pub visit_type: String,
    pub instructions: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub time_zone: String,
    pub status: AppointmentStatus,
    /// Until when the patient may cancel online.
    pub cancel_until: Timestamp,
    pub may_cancel: bool,
    pub appointment_id: AppointmentId,
}

/// A cancellation by the patient.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PublicCancellation {
    pub reason: Option<String>,
}

impl Services {
    pub(super) async fn link_target(
        &self,
        raw_token: &str,
    ) -> Result<(Organization, Appointment), DomainError> {
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        let (org, appointment): (OrgId, AppointmentId) = self
            .store
            .manage_link(&token.hash())
            .await?
            .ok_or(DomainError::NotFound)?;
        let practice = self
            .store
            .organization(org)
            .await?
            .ok_or(DomainError::NotFound)?;
        let appointment = self
            .store
            .practice(org)
            .appointment(appointment)
            .await?
            .ok_or(DomainError::NotFound)?;
        Ok((practice, appointment))
    }

    /// The appointment behind a manage link.
    pub async fn managed_appointment(
        &self,
        raw_token: &str,
    ) -> Result<ManagedAppointment, DomainError> {
        let (practice, appointment) = self.link_target(raw_token).await?;
        let data = self.store.practice(practice.id);
        let practitioner = data
            .practitioner(appointment.practitioner_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let visit = data
            .visit_type(appointment.visit_type_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let cancel_until = appointment.start - visit.draft.rules.cancel_deadline();
        let may_cancel =
            appointment.status == AppointmentStatus::Booked && self.clock.now() < cancel_until;
        Ok(ManagedAppointment {
            practice: practice.name.as_str().to_owned(),
            practitioner: practitioner.draft.name,
            visit_type: visit.draft.name,
            instructions: visit.draft.instructions,
            start: appointment.start,
            end: appointment.end,
            time_zone: practice.time_zone.as_str().to_owned(),
            status: appointment.status,
            cancel_until,
            may_cancel,
            appointment_id: appointment.id,
        })
    }

    /// The patient cancels; after the deadline 409 `cancellation_deadline_passed`.
    pub async fn cancel_by_patient(
        &self,
        raw_token: &str,
        cancellation: &PublicCancellation,
        source: Option<std::net::IpAddr>,
    ) -> Result<(), DomainError> {
        let view = self.managed_appointment(raw_token).await?;
        let (practice, appointment) = self.link_target(raw_token).await?;
        if appointment.status == AppointmentStatus::Cancelled {
            return Err(DomainError::Conflict {
                code: "appointment_cancelled",
                message: "this appointment is cancelled already".into(),
            });
        }
        if !view.may_cancel {
            return Err(DomainError::Conflict {
                code: "cancellation_deadline_passed",
                message:
                    "this appointment can no longer be cancelled online; please call the practice"
                        .into(),
            });
        }
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
        let notices = if appointment.start.duration_since(now) < LATE_CANCELLATION {
            practice_notices(
                PracticeNotice::CancelledLate,
                &self.practice_contacts(&practice).await?,
                &practice,
                &view.practitioner,
                appointment.start,
            )
        } else {
            Vec::new()
        };
        let mut tx = self.store.begin().await?;
        for notice in &notices {
            tx.enqueue_message(notice, now).await?;
        }
        let mut data = tx.practice(practice.id);
        data.drop_pending_reminders(appointment.id).await?;
        if !data
            .set_status(
                appointment.id,
                AppointmentStatus::Cancelled,
                reason,
                None,
                now,
            )
            .await?
        {
            return Err(DomainError::Conflict {
                code: "appointment_cancelled",
                message: "this appointment is cancelled already".into(),
            });
        }
        self.audit_public(
            &mut tx,
            &practice,
            "appointment.cancel_by_patient",
            format!(
                "appointment:{},patient:{}",
                appointment.id, appointment.patient_id
            ),
            source,
        )
        .await?;
        tx.commit().await?;
        self.offer_freed_time(
            practice.id,
            appointment.practitioner_id,
            appointment.visit_type_id,
            (appointment.start, appointment.end),
        )
        .await;
        Ok(())
    }

    /// The appointment as an iCalendar file (RFC 5545) for the patient's calendar.
    pub async fn appointment_ics(&self, raw_token: &str) -> Result<String, DomainError> {
        let view = self.managed_appointment(raw_token).await?;
        let stamp = |t: Timestamp| t.strftime("%Y%m%dT%H%M%SZ").to_string();
        let summary = escape_ics(&format!("{} – {}", view.visit_type, view.practice));
        let description = escape_ics(&format!(
            "{}{}",
            view.practitioner,
            view.instructions
                .as_deref()
                .map(|i| format!("\n{i}"))
                .unwrap_or_default()
        ));
        let status = if view.status == AppointmentStatus::Cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        Ok(format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Termin//Termin//EN\r\nMETHOD:PUBLISH\r\n\
             BEGIN:VEVENT\r\nUID:{}@termin\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\n\
             SUMMARY:{summary}\r\nDESCRIPTION:{description}\r\nSTATUS:{status}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n",
            view.appointment_id,
            stamp(self.clock.now()),
            stamp(view.start),
            stamp(view.end),
        ))
    }
}

/// Escapes text for an iCalendar property value (RFC 5545 § 3.3.11).
fn escape_ics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_text_is_escaped() {
        assert_eq!(escape_ics("a;b,c\\d\ne\r"), "a\\;b\\,c\\\\d\\ne");
    }
}
