//! Appointment reminders: planned with the appointment (the practice's rule, only for the
//! channels the patient can be reached on), dropped when it is cancelled and planned anew
//! when it moves; sent by [`Services::send_due_reminders`], which any instance may run —
//! each reminder is claimed by exactly one, in the transaction that writes its message.

use jiff::Timestamp;
use termin_domain::DomainError;
use termin_domain::delivery::{Channel, Message};
use termin_domain::ids::{AppointmentId, PatientId};
use termin_domain::rights::Permission;
use termin_domain::schedule::appointment::AppointmentStatus;
use termin_domain::schedule::reminders::ReminderPolicy;
use termin_domain::schedule::waiting_list::{OFFERED_AT_ONCE, offered_at_once};
use termin_storage::{DueReminder, PracticeData, PracticeTx, ReminderOutcome, ReminderState};

use super::Staff;
use crate::Services;

/// The reminders to plan for an appointment, on the channels the patient has.
pub(crate) fn planned(
    policy: &ReminderPolicy,
    booked_at: Timestamp,
    start: Timestamp,
    (has_email, has_phone): (bool, bool),
) -> Vec<(Channel, Timestamp)> {
    policy
        .due_times(booked_at, start)
        .into_iter()
        .filter(|(channel, _)| match channel {
            Channel::Email => has_email,
            Channel::Sms => has_phone,
        })
        .collect()
}

/// The reminders of a patient's appointment moving to `start` (read before the transaction:
/// the practice's rule and the patient's contacts).
pub(crate) async fn planned_for_patient(
    data: PracticeData<'_>,
    patient: PatientId,
    now: Timestamp,
    start: Timestamp,
) -> Result<Vec<(Channel, Timestamp)>, DomainError> {
    let Some(patient) = data
        .patient(patient, &termin_storage::PatientVisibility::All)
        .await?
    else {
        return Ok(Vec::new());
    };
    Ok(planned(
        &data.reminder_policy().await?,
        now,
        start,
        (patient.draft.email.is_some(), patient.draft.phone.is_some()),
    ))
}

/// Plans an appointment's reminders inside the caller's transaction.
pub(crate) async fn plan(
    practice: &mut PracticeTx<'_>,
    appointment: AppointmentId,
    due: &[(Channel, Timestamp)],
    now: Timestamp,
) -> Result<(), DomainError> {
    practice.schedule_reminders(appointment, due, now).await?;
    Ok(())
}

impl Services {
    /// The practice's reminder rule; for those who manage its settings.
    pub async fn reminder_policy(&self, staff: &Staff<'_>) -> Result<ReminderPolicy, DomainError> {
        staff.require(Permission::ManageSettings)?;
        Ok(self.practice_data(staff).reminder_policy().await?)
    }

    /// Replaces the practice's reminder rule (appointments booked from now on follow it).
    pub async fn set_reminder_policy(
        &self,
        staff: &Staff<'_>,
        policy: ReminderPolicy,
    ) -> Result<ReminderPolicy, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let policy = policy.checked()?;
        let mut tx = self.store.begin().await?;
        tx.practice(staff.org())
            .set_reminder_policy(&policy)
            .await?;
        self.audit(&mut tx, staff, "settings.reminders", String::new())
            .await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// How many waiting patients a freed time is offered to at once.
    pub async fn waiting_list_offers(&self, staff: &Staff<'_>) -> Result<usize, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let raw = self.practice_data(staff).waiting_list_offers().await?;
        Ok(offered_at_once(raw).unwrap_or(OFFERED_AT_ONCE))
    }

    /// Sets how many waiting patients a freed time is offered to at once (1–20).
    pub async fn set_waiting_list_offers(
        &self,
        staff: &Staff<'_>,
        raw: i64,
    ) -> Result<usize, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let offers = offered_at_once(raw)?;
        let mut tx = self.store.begin().await?;
        tx.practice(staff.org())
            .set_waiting_list_offers(offers)
            .await?;
        self.audit(
            &mut tx,
            staff,
            "settings.waiting_list",
            format!("offers:{offers}"),
        )
        .await?;
        tx.commit().await?;
        Ok(offers)
    }

    /// An appointment's reminders and their delivery states.
    pub async fn appointment_reminders(
        &self,
        staff: &Staff<'_>,
        id: AppointmentId,
    ) -> Result<Vec<ReminderState>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let appointment = self
            .practice_data(staff)
            .appointment(id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if !staff.may_view(appointment.practitioner_id) {
            return Err(DomainError::NotFound);
        }
        Ok(self.practice_data(staff).reminders_of(id).await?)
    }

    /// Moves every due reminder (at most `limit`) into the outbox; returns how many this
    /// call queued. Safe to run on several instances at once.
    pub async fn send_due_reminders(&self, limit: u32) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let mut queued = 0;
        for reminder in self.store.due_reminders(now, limit).await? {
            // Everything is read before the transaction (no pool reads while it holds the
            // write lock).
            let message = self.reminder_message(&reminder).await?;
            let mut tx = self.store.begin().await?;
            let outbox_id = match &message {
                Some(message) => Some(tx.enqueue_message(message, now).await?),
                None => None,
            };
            let outcome = match &outbox_id {
                Some(id) => ReminderOutcome::Queued(id),
                None => ReminderOutcome::Skipped,
            };
            if tx.claim_reminder(&reminder.id, outcome).await? {
                tx.commit().await?;
                queued += usize::from(outbox_id.is_some());
            }
            // Otherwise another instance claimed it first: dropping `tx` rolls back.
        }
        Ok(queued)
    }

    /// The message of a due reminder, or `None` when there is nothing to send any more.
    async fn reminder_message(
        &self,
        reminder: &DueReminder,
    ) -> Result<Option<Message>, DomainError> {
        let data = self.store.practice(reminder.org_id);
        let Some(appointment) = data.appointment(reminder.appointment_id).await? else {
            return Ok(None);
        };
        if appointment.status != AppointmentStatus::Booked {
            return Ok(None);
        }
        let Some(patient) = data
            .patient(
                appointment.patient_id,
                &termin_storage::PatientVisibility::All,
            )
            .await?
        else {
            return Ok(None);
        };
        let Some(practice) = self.store.organization(reminder.org_id).await? else {
            return Ok(None);
        };
        let practitioner = data
            .practitioner(appointment.practitioner_id)
            .await?
            .map(|p| p.draft.name)
            .unwrap_or_default();
        let when = practice
            .time_zone
            .zone()
            .to_datetime(appointment.start)
            .strftime("%d.%m.%Y %H:%M")
            .to_string();
        let name = practice.name.as_str();
        Ok(match reminder.channel {
            Channel::Email => patient.draft.email.as_ref().map(|email| {
                Message::email(
                    email,
                    format!("{name}: Erinnerung an Ihren Termin / appointment reminder"),
                    format!(
                        "Wir erinnern Sie an Ihren Termin am {when} bei {practitioner}, {name}.\n\
                         Falls Sie nicht kommen können, sagen Sie bitte rechtzeitig ab.\n\n\
                         A reminder of your appointment on {when} with {practitioner}, {name}.\n\
                         If you cannot come, please cancel in good time.\n"
                    ),
                )
            }),
            Channel::Sms => patient.draft.phone.as_ref().map(|phone| {
                Message::sms(
                    phone,
                    format!("{name}: Erinnerung an Ihren Termin am {when} / appointment reminder."),
                )
            }),
        })
    }
}
