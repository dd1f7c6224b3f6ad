//! Telling the practice about what patients did online: every online booking, and every
//! online cancellation less than 24 hours ahead (the time may still be given to someone
//! else). The e-mails go to the practice's owners and administrators and carry the time and
//! the calendar, never the patient's name or anything medical.

use jiff::{SignedDuration, Timestamp};
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::user::{Email, Role, UserStatus};
use termin_storage::Organization;

use crate::Services;

/// A cancellation this close to the start is worth telling the practice about.
pub const LATE_CANCELLATION: SignedDuration = SignedDuration::from_hours(24);

/// What happened, for the practice's e-mail.
#[derive(Debug, Clone, Copy)]
pub enum PracticeNotice {
    Booked,
    CancelledLate,
}

impl Services {
    /// The addresses of the practice's active owners and administrators (read before the
    /// transaction that sends to them).
    pub(crate) async fn practice_contacts(
        &self,
        practice: &Organization,
    ) -> Result<Vec<Email>, DomainError> {
        Ok(self
            .store
            .members_of(practice.id)
            .await?
            .into_iter()
            .filter(|m| m.status == UserStatus::Active)
            .filter(|m| matches!(m.role, Role::Owner | Role::Administrator))
            .map(|m| m.email)
            .collect())
    }
}

/// The practice's e-mails about an appointment at `start` with `practitioner`.
pub(crate) fn practice_notices(
    notice: PracticeNotice,
    to: &[Email],
    practice: &Organization,
    practitioner: &str,
    start: Timestamp,
) -> Vec<Message> {
    let when = practice
        .time_zone
        .zone()
        .to_datetime(start)
        .strftime("%d.%m.%Y %H:%M")
        .to_string();
    let (subject, body) = match notice {
        PracticeNotice::Booked => (
            format!("Online-Buchung / online booking: {when}"),
            format!(
                "Ein Patient hat online einen Termin gebucht: {when}, {practitioner}.\n\n\
                 A patient booked an appointment online: {when}, {practitioner}.\n"
            ),
        ),
        PracticeNotice::CancelledLate => (
            format!("Kurzfristige Absage / late cancellation: {when}"),
            format!(
                "Ein Patient hat seinen Termin weniger als 24 Stunden vorher online abgesagt: \
                 {when}, {practitioner}. Die Zeit ist wieder frei.\n\n\
                 A patient cancelled online less than 24 hours ahead: {when}, {practitioner}. \
                 The time is free again.\n"
            ),
        ),
    };
    to.iter()
        .map(|email| Message::email(email, subject.clone(), body.clone()))
        .collect()
}
