//! Confirming a booking with the code from the SMS: the attempt is counted before the code
//! is compared (five at most), then — in one transaction under the practitioner's lock — the
//! hold becomes an appointment for the matching patient record (or a new one), a manage link
//! is made and the confirmation is sent.

use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::ids::{AppointmentId, BookingId, PatientId};
use termin_domain::otp::{MAX_CODE_ATTEMPTS, normalize_presented};
use termin_domain::schedule::booking::{BookingPatient, same_person};
use termin_domain::schedule::patient::PatientDraft;
use termin_domain::token::SecretToken;
use termin_storage::{Booking, NewAppointment, Organization, PendingBooking, PracticeTx};

use crate::Services;
use crate::schedule::reminders::{plan, planned};

use super::notify::{PracticeNotice, practice_notices};

/// A confirmed booking.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub appointment_id: AppointmentId,
    pub manage_url: String,
}

/// The patient record the booking belongs to: an existing one with the same name, birth
/// date and phone or e-mail, else a new one. The caller learns nothing either way.
async fn patient_for(
    practice: &mut PracticeTx<'_>,
    booking: &PendingBooking,
    now: jiff::Timestamp,
) -> Result<PatientId, DomainError> {
    let person = BookingPatient {
        given_name: booking.given_name.clone(),
        family_name: booking.family_name.clone(),
        birth_date: booking.birth_date,
        phone: booking.phone.clone(),
        email: booking.email.clone(),
    };
    let keys = person.search_keys();
    for candidate in practice.patients_named(&keys, booking.birth_date).await? {
        let draft = &candidate.draft;
        if same_person(
            &person,
            &draft.search_keys(),
            draft.birth_date,
            draft.phone.as_ref(),
            draft.email.as_ref(),
        ) {
            return Ok(candidate.id);
        }
    }
    let id = PatientId::random();
    let draft = PatientDraft {
        given_name: person.given_name,
        family_name: person.family_name,
        birth_date: person.birth_date,
        phone: Some(person.phone),
        email: person.email,
        street: None,
        postal_code: None,
        city: None,
        insurance: None,
        insurance_number: None,
        notes: None,
    };
    practice.insert_patient(id, &draft, None, now).await?;
    Ok(id)
}

impl Services {
    /// Confirms a held booking with its code.
    pub async fn confirm_booking(
        &self,
        slug: &str,
        raw_booking: &str,
        raw_code: &str,
        source: Option<std::net::IpAddr>,
    ) -> Result<Confirmed, DomainError> {
        let practice = self.bookable_practice(slug).await?;
        let booking_id: BookingId = raw_booking.parse().map_err(|_| DomainError::NotFound)?;
        let now = self.clock.now();
        // Count the attempt first, in a transaction of its own that stays counted.
        let mut tx = self.store.begin().await?;
        let pending = tx
            .practice(practice.id)
            .pending_booking_attempt(booking_id, now)
            .await?;
        tx.commit().await?;
        let Some(pending) = pending else {
            return Err(DomainError::InvalidCode);
        };
        let presented = normalize_presented(raw_code);
        let right = pending.attempts <= i64::from(MAX_CODE_ATTEMPTS)
            && presented.is_some_and(|code| pending.code_hash.matches(&code));
        if !right {
            return Err(DomainError::InvalidCode);
        }
        self.turn_into_appointment(&practice, &pending, source)
            .await
    }

    async fn turn_into_appointment(
        &self,
        practice: &Organization,
        pending: &PendingBooking,
        source: Option<std::net::IpAddr>,
    ) -> Result<Confirmed, DomainError> {
        let now = self.clock.now();
        let appointment_id = AppointmentId::random();
        let token = SecretToken::generate().map_err(DomainError::internal)?;
        let policy = self.store.practice(practice.id).reminder_policy().await?;
        let practitioner = self
            .store
            .practice(practice.id)
            .practitioner(pending.practitioner_id)
            .await?
            .map(|p| p.draft.name)
            .unwrap_or_default();
        let notices = practice_notices(
            PracticeNotice::Booked,
            &self.practice_contacts(practice).await?,
            practice,
            &practitioner,
            pending.start,
        );
        let due = planned(&policy, now, pending.start, (pending.email.is_some(), true));
        let mut tx = self.store.begin().await?;
        let mut data = tx.practice(practice.id);
        // Serialises with other confirmations of this hold and with staff bookings.
        if !data.lock_practitioner(pending.practitioner_id).await?
            || !data
                .confirm_booking(pending.id, appointment_id, now)
                .await?
        {
            return Err(DomainError::InvalidCode);
        }
        let patient = patient_for(&mut data, pending, now).await?;
        let outcome = data
            .book(&NewAppointment {
                id: appointment_id,
                practitioner_id: pending.practitioner_id,
                visit_type_id: pending.visit_type_id,
                patient_id: patient,
                start: pending.start,
                end: pending.end,
                block: pending.block,
                overbook: false,
                visit_reason: None,
                notes: None,
                source: "online",
                actor: None,
                now,
                hold: Some(pending.id),
            })
            .await?;
        if outcome != Booking::Done {
            // The hold guaranteed the time; losing it means the hold had expired.
            return Err(DomainError::InvalidCode);
        }
        data.insert_manage_link(&token.hash(), appointment_id, now)
            .await?;
        plan(&mut data, appointment_id, &due, now).await?;
        let manage_url = format!("{}/manage/{}", self.public_origin, token.reveal());
        let zone = practice.time_zone.zone();
        let when = zone
            .to_datetime(pending.start)
            .strftime("%d.%m.%Y %H:%M")
            .to_string();
        for message in notices.iter().chain(&confirmation_messages(
            pending,
            practice.name.as_str(),
            &when,
            &manage_url,
        )) {
            tx.enqueue_message(message, now).await?;
        }
        self.audit_public(
            &mut tx,
            practice,
            "booking.confirm",
            format!(
                "booking:{},appointment:{appointment_id},patient:{patient}",
                pending.id
            ),
            source,
        )
        .await?;
        tx.commit().await?;
        Ok(Confirmed {
            appointment_id,
            manage_url,
        })
    }
}

fn confirmation_messages(
    booking: &PendingBooking,
    practice: &str,
    when: &str,
    link: &str,
) -> Vec<Message> {
    let mut messages = vec![Message::sms(
        &booking.phone,
        format!("{practice}: Termin am {when} bestätigt / appointment confirmed. {link}"),
    )];
    if let Some(email) = &booking.email {
        messages.push(Message::email(
            email,
            format!("{practice}: Termin bestätigt / appointment confirmed"),
            format!(
                "Ihr Termin am {when} bei {practice} ist bestätigt.\n\
                 Ansehen, in den Kalender übernehmen oder absagen: {link}\n\n\
                 Your appointment on {when} at {practice} is confirmed.\n\
                 See it, add it to your calendar or cancel it: {link}\n"
            ),
        ));
    }
    messages
}
