//! The waiting list. A patient reaches it through their manage link and asks for an earlier
//! appointment of the same visit type (with any practitioner, or only their own). When such
//! a time frees up — cancelled by staff or patient, or moved away — the first few waiting
//! patients whose appointment is later are offered it by SMS and e-mail, in the order they
//! joined, each with a single-use link (256 random bits, only the hash kept) that stands two
//! hours at most and never past the visit type's lead time. Accepting is
//! `waiting_offer.rs`. Offering is best effort: it runs after the transaction that freed the
//! time and never fails it.

use jiff::Timestamp;
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::ids::{OrgId, PractitionerId, VisitTypeId, WaitingOfferId};
use termin_domain::schedule::appointment::{AppointmentStatus, occupied};
use termin_domain::schedule::waiting_list::{OFFERED_AT_ONCE, offer_expiry, offered_at_once};
use termin_domain::token::SecretToken;
use termin_storage::{AppointmentFilter, FreedTime, Organization, WaitingCandidate, WaitingEntry};

use super::ManagedAppointment;
use super::waiting_offer::not_movable;
use crate::Services;

/// `POST /api/v1/manage/{token}/waiting-list` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WaitingPreference {
    /// Only an earlier time with the same practitioner (default: any who offers the visit).
    pub same_practitioner: Option<bool>,
}

/// The appointment behind a manage link and its place on the waiting list.
#[derive(Debug, Clone)]
pub struct WaitingListView {
    pub appointment: ManagedAppointment,
    pub entry: Option<WaitingEntry>,
    /// Only an upcoming, booked appointment may wait for an earlier time.
    pub may_join: bool,
}

/// A time in the practice's zone, as the messages show it.
pub(super) fn wall_clock(practice: &Organization, at: Timestamp) -> String {
    practice
        .time_zone
        .zone()
        .to_datetime(at)
        .strftime("%d.%m.%Y %H:%M")
        .to_string()
}

impl Services {
    /// Puts the appointment behind the manage link on the waiting list (or changes its
    /// preference, keeping its place). Only an upcoming, booked appointment may wait.
    pub async fn join_waiting_list(
        &self,
        raw_token: &str,
        preference: &WaitingPreference,
        source: Option<std::net::IpAddr>,
    ) -> Result<WaitingEntry, DomainError> {
        let (practice, appointment) = self.link_target(raw_token).await?;
        if appointment.status != AppointmentStatus::Booked || appointment.start <= self.clock.now()
        {
            return Err(not_movable());
        }
        let same_practitioner = preference.same_practitioner.unwrap_or(false);
        let mut tx = self.store.begin().await?;
        tx.practice(practice.id)
            .join_waiting_list(appointment.id, same_practitioner, self.clock.now())
            .await?;
        self.audit_public(
            &mut tx,
            &practice,
            "waiting_list.join",
            format!(
                "appointment:{},patient:{}",
                appointment.id, appointment.patient_id
            ),
            source,
        )
        .await?;
        tx.commit().await?;
        self.store
            .practice(practice.id)
            .waiting_entry(appointment.id)
            .await?
            .ok_or(DomainError::NotFound)
    }

    /// Takes the appointment behind the manage link off the waiting list (done either way).
    pub async fn leave_waiting_list(
        &self,
        raw_token: &str,
        source: Option<std::net::IpAddr>,
    ) -> Result<(), DomainError> {
        let (practice, appointment) = self.link_target(raw_token).await?;
        let mut tx = self.store.begin().await?;
        if tx
            .practice(practice.id)
            .leave_waiting_list(appointment.id)
            .await?
        {
            self.audit_public(
                &mut tx,
                &practice,
                "waiting_list.leave",
                format!(
                    "appointment:{},patient:{}",
                    appointment.id, appointment.patient_id
                ),
                source,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The appointment behind the manage link and its place on the waiting list, if any.
    pub async fn waiting_list_view(&self, raw_token: &str) -> Result<WaitingListView, DomainError> {
        let appointment = self.managed_appointment(raw_token).await?;
        let (practice, _) = self.link_target(raw_token).await?;
        let entry = self
            .store
            .practice(practice.id)
            .waiting_entry(appointment.appointment_id)
            .await?;
        let may_join =
            appointment.status == AppointmentStatus::Booked && appointment.start > self.clock.now();
        Ok(WaitingListView {
            appointment,
            entry,
            may_join,
        })
    }

    /// [`Self::offer_freed_slot`] for the cancellations and moves that free a time: after
    /// their transaction, and never failing them (a failure is logged).
    pub(crate) async fn offer_freed_time(
        &self,
        practice: OrgId,
        practitioner: PractitionerId,
        visit_type: VisitTypeId,
        (start, end): (Timestamp, Timestamp),
    ) {
        if let Err(err) = self
            .offer_freed_slot(practice, practitioner, visit_type, start, end)
            .await
        {
            tracing::warn!(
                org_id = %practice,
                error = %err,
                cause = ?std::error::Error::source(&err),
                "waiting list: the freed time could not be offered"
            );
        }
    }

    /// Offers a freed time of `practitioner`'s calendar to the first waiting patients it
    /// suits (see the module docs); how many were offered it. Nothing is offered when the
    /// time is no longer free, too close, or not bookable online.
    pub async fn offer_freed_slot(
        &self,
        practice: OrgId,
        practitioner: PractitionerId,
        visit_type: VisitTypeId,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let Some(org) = self.store.organization(practice).await? else {
            return Ok(0);
        };
        let data = self.store.practice(practice);
        let Some(visit) = data
            .visit_type(visit_type)
            .await?
            .filter(|v| v.active && v.draft.online_bookable)
        else {
            return Ok(0);
        };
        let offered_by = |p: PractitionerId| {
            visit.draft.practitioner_ids.is_empty() || visit.draft.practitioner_ids.contains(&p)
        };
        if !data
            .practitioner(practitioner)
            .await?
            .is_some_and(|p| p.active && offered_by(p.id))
        {
            return Ok(0);
        }
        let Some(expires_at) = offer_expiry(now, start, visit.draft.rules.min_lead()) else {
            return Ok(0);
        };
        let Some(block) = occupied(
            start,
            end,
            visit.draft.buffer_before(),
            visit.draft.buffer_after(),
        ) else {
            return Ok(0);
        };
        // Still free? (Another appointment may have overbooked it, or a patient hold it.)
        let occupying = data
            .appointments(&AppointmentFilter {
                practitioners: vec![practitioner],
                from: block.start,
                to: block.end,
                include_cancelled: false,
                patient: None,
            })
            .await?;
        if !occupying.is_empty()
            || !data
                .holds(&[practitioner], block.start, block.end, now)
                .await?
                .is_empty()
        {
            return Ok(0);
        }
        let freed = FreedTime {
            practitioner_id: practitioner,
            visit_type_id: visit_type,
            start,
            end,
        };
        let at_once = offered_at_once(data.waiting_list_offers().await?).unwrap_or(OFFERED_AT_ONCE);
        let candidates = data.waiting_for(&freed, at_once).await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let links = candidates
            .iter()
            .map(|_| SecretToken::generate())
            .collect::<Result<Vec<_>, _>>()
            .map_err(DomainError::internal)?;
        let offer = WaitingOfferId::random();
        let (when, until) = (wall_clock(&org, start), wall_clock(&org, expires_at));
        let mut tx = self.store.begin().await?;
        tx.practice(practice)
            .insert_waiting_offer(offer, &freed, expires_at, now)
            .await?;
        for (candidate, token) in candidates.iter().zip(&links) {
            tx.practice(practice)
                .insert_offer_link(&token.hash(), offer, candidate.appointment_id, now)
                .await?;
            let url = format!("{}/offers/{}", self.public_origin, token.reveal());
            for message in offer_messages(candidate, org.name.as_str(), (&when, &until), &url) {
                tx.enqueue_message(&message, now).await?;
            }
            self.audit_public(
                &mut tx,
                &org,
                "waiting_list.offer",
                format!(
                    "offer:{offer},appointment:{},patient:{}",
                    candidate.appointment_id, candidate.patient_id
                ),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(candidates.len())
    }
}

/// The offer, by SMS and e-mail where known (no names, no medical content).
fn offer_messages(
    to: &WaitingCandidate,
    practice: &str,
    (when, until): (&str, &str),
    link: &str,
) -> Vec<Message> {
    let mut messages = Vec::new();
    if let Some(phone) = &to.phone {
        messages.push(Message::sms(
            phone,
            format!(
                "{practice}: Früherer Termin frei am {when}. Wer zuerst zusagt, bekommt ihn \
                 (bis {until}) / earlier appointment free, first to accept gets it: {link}"
            ),
        ));
    }
    if let Some(email) = &to.email {
        messages.push(Message::email(
            email,
            format!("{practice}: Ein früherer Termin ist frei / an earlier appointment is free"),
            format!(
                "Sie stehen bei {practice} auf der Warteliste. Ein früherer Termin ist frei \
                 geworden: {when}.\nWer zuerst zusagt, bekommt ihn; das Angebot gilt bis \
                 {until}. Ihr bisheriger Termin wird dann verlegt:\n{link}\n\n\
                 You are on the waiting list of {practice}. An earlier appointment has become \
                 free: {when}.\nThe first to accept gets it; the offer stands until {until}. \
                 Your current appointment is then moved:\n{link}\n"
            ),
        ));
    }
    messages
}
