//! An offer of a freed time behind its link (see `waiting_list.rs`): the patient sees the
//! time and accepts it. The first acceptance wins: in one transaction under the calendars'
//! locks the offer is taken (a conditional `UPDATE`) and the patient's appointment moved
//! (`reschedule`: history and the overlap check with appointments and holds), reminders
//! re-planned and the patient told; the others' links answer 409 `offer_taken`. The time the
//! winner leaves is offered in turn.

use jiff::Timestamp;
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::ids::AppointmentId;
use termin_domain::schedule::appointment::{AppointmentStatus, occupied};
use termin_domain::schedule::patient::PatientDraft;
use termin_domain::schedule::waiting_list::is_earlier;
use termin_domain::token::{SecretToken, TokenHash};
use termin_storage::{
    Booking, OfferLink, Organization, PatientVisibility, Reschedule, WaitingOffer,
};

use super::waiting_list::wall_clock;
use crate::Services;
use crate::schedule::reminders::{plan, planned};

/// An offered time as the patient sees it behind their offer link.
#[derive(Debug, Clone)]
pub struct OfferedTime {
    pub practice: String,
    pub practitioner: String,
    pub visit_type: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// When the patient's appointment is now (after accepting: the offered time).
    pub current_start: Timestamp,
    pub expires_at: Timestamp,
    pub time_zone: String,
    /// This link won the offer.
    pub accepted: bool,
}

/// The appointment after accepting an offer.
#[derive(Debug, Clone)]
pub struct AcceptedOffer {
    pub appointment_id: AppointmentId,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// What an offer link leads to, read before any transaction.
struct OfferTarget {
    practice: Organization,
    link: OfferLink,
    offer: WaitingOffer,
    hash: TokenHash,
}

fn offer_taken() -> DomainError {
    DomainError::Conflict {
        code: "offer_taken",
        message: "someone else has accepted this time already".into(),
    }
}

pub(super) fn not_movable() -> DomainError {
    DomainError::Conflict {
        code: "appointment_not_movable",
        message: "this appointment can no longer be moved".into(),
    }
}

fn not_earlier() -> DomainError {
    DomainError::Conflict {
        code: "offer_not_earlier",
        message: "your appointment is not later than the offered time".into(),
    }
}

impl Services {
    /// What an offer link leads to: unknown and expired links are "not found", an offer
    /// someone else accepted is 409 `offer_taken`.
    async fn offer_target(&self, raw_token: &str) -> Result<OfferTarget, DomainError> {
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        let hash = token.hash();
        let link = self
            .store
            .offer_link(&hash)
            .await?
            .ok_or(DomainError::NotFound)?;
        let practice = self
            .store
            .organization(link.org_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let offer = self
            .store
            .practice(practice.id)
            .waiting_offer(link.offer_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if self.clock.now() >= offer.expires_at {
            return Err(DomainError::NotFound);
        }
        if offer.taken && !link.used {
            return Err(offer_taken());
        }
        Ok(OfferTarget {
            practice,
            link,
            offer,
            hash,
        })
    }

    /// The time offered behind an offer link.
    pub async fn offered_time(&self, raw_token: &str) -> Result<OfferedTime, DomainError> {
        let target = self.offer_target(raw_token).await?;
        let data = self.store.practice(target.practice.id);
        let appointment = data
            .appointment(target.link.appointment_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let practitioner = data
            .practitioner(target.offer.time.practitioner_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let visit = data
            .visit_type(target.offer.time.visit_type_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        Ok(OfferedTime {
            practice: target.practice.name.as_str().to_owned(),
            practitioner: practitioner.draft.name,
            visit_type: visit.draft.name,
            start: target.offer.time.start,
            end: target.offer.time.end,
            current_start: appointment.start,
            expires_at: target.offer.expires_at,
            time_zone: target.practice.time_zone.as_str().to_owned(),
            accepted: target.link.used,
        })
    }

    /// Accepts the offer behind the link: the patient's appointment moves to the offered
    /// time, or 409 `offer_taken` when someone was quicker (or the time is taken otherwise).
    pub async fn accept_offer(
        &self,
        raw_token: &str,
        source: Option<std::net::IpAddr>,
    ) -> Result<AcceptedOffer, DomainError> {
        let OfferTarget {
            practice,
            link,
            offer,
            hash,
        } = self.offer_target(raw_token).await?;
        // Everything is read before the transaction (no pool reads while it holds the lock).
        let data = self.store.practice(practice.id);
        let before = data
            .appointment(link.appointment_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if link.used {
            // Accepted already by this link (a second click): the same answer again.
            return Ok(AcceptedOffer {
                appointment_id: before.id,
                start: before.start,
                end: before.end,
            });
        }
        let visit = data
            .visit_type(offer.time.visit_type_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let patient = data
            .patient(before.patient_id, &PatientVisibility::All)
            .await?
            .ok_or(DomainError::NotFound)?;
        let now = self.clock.now();
        let start = offer.time.start;
        let end = start + before.end.duration_since(before.start);
        let block = occupied(
            start,
            end,
            visit.draft.buffer_before(),
            visit.draft.buffer_after(),
        )
        .ok_or_else(not_movable)?;
        let contacts = (patient.draft.email.is_some(), patient.draft.phone.is_some());
        let due = planned(&data.reminder_policy().await?, now, start, contacts);

        let mut tx = self.store.begin().await?;
        let mut practice_tx = tx.practice(practice.id);
        // Under both calendars' locks, in the order `reschedule` takes them (no deadlock).
        let mut calendars = [before.practitioner_id, offer.time.practitioner_id];
        calendars.sort();
        for calendar in calendars {
            if !practice_tx.lock_practitioner(calendar).await? {
                return Err(DomainError::NotFound);
            }
        }
        if !practice_tx.take_waiting_offer(offer.id, &hash, now).await? {
            return Err(match practice_tx.waiting_offer(offer.id).await? {
                Some(o) if o.taken && now < o.expires_at => offer_taken(),
                _ => DomainError::NotFound,
            });
        }
        // Re-read under the lock: cancelled or moved meanwhile?
        let current = practice_tx
            .appointment(link.appointment_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if current.status != AppointmentStatus::Booked {
            return Err(not_movable());
        }
        if !is_earlier(start, current.start) {
            return Err(not_earlier());
        }
        let to = Reschedule {
            practitioner_id: offer.time.practitioner_id,
            start,
            end,
            block,
            overbook: false,
        };
        match practice_tx.reschedule(&current, &to, None, now).await? {
            Booking::Done => {}
            // Booked or held by someone else since it was offered: as good as taken.
            Booking::SlotTaken => return Err(offer_taken()),
            Booking::NotFound => return Err(DomainError::NotFound),
        }
        plan(&mut practice_tx, current.id, &due, now).await?;
        practice_tx.leave_waiting_list(current.id).await?;
        let when = wall_clock(&practice, start);
        for message in moved_messages(&patient.draft, practice.name.as_str(), &when) {
            tx.enqueue_message(&message, now).await?;
        }
        self.audit_public(
            &mut tx,
            &practice,
            "waiting_list.accept",
            format!(
                "offer:{},appointment:{},patient:{}",
                offer.id, current.id, current.patient_id
            ),
            source,
        )
        .await?;
        tx.commit().await?;
        // The time the patient left is free now: offered in turn.
        self.offer_freed_time(
            practice.id,
            current.practitioner_id,
            current.visit_type_id,
            (current.start, current.end),
        )
        .await;
        Ok(AcceptedOffer {
            appointment_id: current.id,
            start,
            end,
        })
    }
}

/// The notice that the appointment was moved to the accepted time.
fn moved_messages(patient: &PatientDraft, practice: &str, when: &str) -> Vec<Message> {
    let mut messages = Vec::new();
    if let Some(phone) = &patient.phone {
        messages.push(Message::sms(
            phone,
            format!(
                "{practice}: Ihr Termin ist jetzt am {when}. Ihr Link bleibt gültig / your \
                 appointment is now on {when}."
            ),
        ));
    }
    if let Some(email) = &patient.email {
        messages.push(Message::email(
            email,
            format!("{practice}: Termin vorverlegt / appointment moved earlier"),
            format!(
                "Ihr Termin bei {practice} ist jetzt am {when}. Der Link aus Ihrer \
                 Bestätigung bleibt gültig.\n\n\
                 Your appointment at {practice} is now on {when}. The link from your \
                 confirmation stays valid.\n"
            ),
        ));
    }
    messages
}
