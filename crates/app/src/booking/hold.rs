//! Starting a booking: the slot is checked to be a bookable time, held for ten minutes
//! under the practitioner's lock (so that two patients never fill in the form for the same
//! time), and a code is sent to the patient's phone.

use jiff::Timestamp;
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::error::FieldErrors;
use termin_domain::ids::{BookingId, PractitionerId, VisitTypeId};
use termin_domain::otp::{MAX_CODES_PER_HOUR, OneTimeCode};
use termin_domain::schedule::appointment::{occupied, parse_start};
use termin_domain::schedule::booking::{
    BookingPatient, HOLD, MAX_OPEN_PER_PHONE, RawBookingPatient,
};
use termin_storage::NewHold;

use super::slots::offer;
use crate::Services;
use crate::schedule::booking_outcome;

/// `POST /api/v1/public/{slug}/bookings` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BookingRequest {
    pub visit_type_id: String,
    pub practitioner_id: String,
    pub start: String,
    pub patient: RawBookingPatient,
}

/// A held slot waiting for the patient's code.
#[derive(Debug, Clone)]
pub struct Held {
    pub booking_id: BookingId,
    pub hold_expires_at: Timestamp,
}

/// Unconfirmed bookings a practice holds at most at once: more is someone squatting its
/// calendar.
const MAX_OPEN_PER_PRACTICE: usize = 200;

impl Services {
    /// Holds the slot and sends the code (202), or 409 `slot_taken`.
    pub async fn start_booking(
        &self,
        slug: &str,
        request: &BookingRequest,
        source: Option<std::net::IpAddr>,
    ) -> Result<Held, DomainError> {
        let practice = self.bookable_practice(slug).await?;
        let zone = practice.time_zone.zone();
        let now = self.clock.now();
        let today = zone.to_datetime(now).date();
        let mut errors = FieldErrors::new();
        let visit_type = errors.take(
            "visit_type_id",
            request.visit_type_id.trim().parse::<VisitTypeId>(),
        );
        let practitioner = errors.take(
            "practitioner_id",
            request.practitioner_id.trim().parse::<PractitionerId>(),
        );
        let start = errors.take("start", parse_start(&request.start, &zone));
        let patient = match BookingPatient::parse(&request.patient, today) {
            Ok(patient) => Some(patient),
            Err(DomainError::Invalid(fields)) => {
                for (field, messages) in fields.iter() {
                    for message in messages {
                        errors.add(field, message.clone());
                    }
                }
                None
            }
            Err(other) => return Err(other),
        };
        errors.into_result()?;
        let (Some(visit_type), Some(practitioner), Some(start), Some(patient)) =
            (visit_type, practitioner, start, patient)
        else {
            return Err(DomainError::invalid("start", "is required"));
        };
        let data = self.store.practice(practice.id);
        let (visit, _) = offer(data, visit_type, Some(practitioner)).await?;
        // A bookable time by the opening hours, absences, lead time and horizon; whether
        // it is free is decided under the lock below.
        let date = zone.to_datetime(start).date();
        let bookable = self
            .bookable_slots(
                &practice,
                visit_type,
                Some(practitioner),
                (date, date),
                false,
            )
            .await?;
        if !bookable.iter().any(|s| s.start == start) {
            return Err(DomainError::invalid(
                "start",
                "is not a time this practitioner can be booked online",
            ));
        }
        let end = start + visit.draft.duration();
        let block = occupied(
            start,
            end,
            visit.draft.buffer_before(),
            visit.draft.buffer_after(),
        )
        .ok_or_else(|| DomainError::invalid("start", "is not a bookable time"))?;
        let code = OneTimeCode::generate().map_err(DomainError::internal)?;
        let code_hash = code.hash().map_err(DomainError::internal)?;
        let id = BookingId::random();
        let expires_at = now + HOLD;
        let mut tx = self.store.begin().await?;
        let mut held = tx.practice(practice.id);
        if held.open_bookings_for(&patient.phone, now).await? >= MAX_OPEN_PER_PHONE {
            return Err(DomainError::Throttled {
                retry_after_secs: 600,
            });
        }
        // Each booking texts a code: a phone number gets a handful an hour, not a flood.
        let hour_ago = now - jiff::SignedDuration::from_hours(1);
        if held.bookings_started_for(&patient.phone, hour_ago).await?
            >= i64::from(MAX_CODES_PER_HOUR)
        {
            return Err(DomainError::Throttled {
                retry_after_secs: 3600,
            });
        }
        if held.holds_open(now).await? >= MAX_OPEN_PER_PRACTICE {
            return Err(DomainError::Throttled {
                retry_after_secs: 60,
            });
        }
        let outcome = held
            .hold(&NewHold {
                id,
                practitioner_id: practitioner,
                visit_type_id: visit_type,
                start,
                end,
                block,
                expires_at,
                given_name: &patient.given_name,
                family_name: &patient.family_name,
                birth_date: patient.birth_date,
                phone: &patient.phone,
                email: patient.email.as_ref(),
                code_hash: &code_hash,
                now,
            })
            .await?;
        booking_outcome(outcome)?;
        let when = zone
            .to_datetime(start)
            .strftime("%d.%m.%Y %H:%M")
            .to_string();
        tx.enqueue_message(
            &Message::sms(
                &patient.phone,
                format!(
                    "{}: Ihr Code für den Termin am {when} / your code: {}. Gültig 10 Minuten.",
                    practice.name,
                    code.reveal()
                ),
            ),
            now,
        )
        .await?;
        self.audit_public(
            &mut tx,
            &practice,
            "booking.hold",
            format!("booking:{id}"),
            source,
        )
        .await?;
        tx.commit().await?;
        Ok(Held {
            booking_id: id,
            hold_expires_at: expires_at,
        })
    }
}
