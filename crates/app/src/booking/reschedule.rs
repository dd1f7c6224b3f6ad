//! The patient moves their appointment through the manage link: to another bookable time of
//! the same visit type with the same practitioner, until the visit type's cancellation
//! deadline — under the practitioner's lock like every booking, reminders following.

use termin_domain::DomainError;
use termin_domain::schedule::appointment::{occupied, parse_start};
use termin_storage::Reschedule;

use super::ManagedAppointment;
use crate::Services;
use crate::schedule::booking_outcome;
use crate::schedule::reminders::{plan, planned_for_patient};

/// How far ahead the manage page offers other times.
const OPTIONS_DAYS: i64 = 14;
/// How many other times it offers at most.
const OPTIONS_MAX: usize = 24;

impl Services {
    /// Other times the appointment behind a manage link could move to: the same visit type
    /// with the same practitioner, the next two weeks (empty once it can no longer be
    /// changed online).
    pub async fn reschedule_options(
        &self,
        raw_token: &str,
    ) -> Result<Vec<jiff::Timestamp>, DomainError> {
        let view = self.managed_appointment(raw_token).await?;
        if !view.may_cancel {
            return Ok(Vec::new());
        }
        let (practice, current) = self.link_target(raw_token).await?;
        let today = practice
            .time_zone
            .zone()
            .to_datetime(self.clock.now())
            .date();
        let until = today
            .checked_add(jiff::Span::new().days(OPTIONS_DAYS))
            .unwrap_or(today);
        let slots = self
            .bookable_slots(
                &practice,
                current.visit_type_id,
                Some(current.practitioner_id),
                (today, until),
                true,
            )
            .await?;
        Ok(slots
            .into_iter()
            .map(|s| s.start)
            .filter(|start| *start != current.start)
            .take(OPTIONS_MAX)
            .collect())
    }

    /// Moves the appointment behind a manage link to `raw_start`; 409 `slot_taken` when
    /// that time was just taken, 409 `cancellation_deadline_passed` when it is too late.
    pub async fn reschedule_by_patient(
        &self,
        raw_token: &str,
        raw_start: &str,
        source: Option<std::net::IpAddr>,
    ) -> Result<ManagedAppointment, DomainError> {
        let view = self.managed_appointment(raw_token).await?;
        if !view.may_cancel {
            return Err(DomainError::Conflict {
                code: "cancellation_deadline_passed",
                message:
                    "this appointment can no longer be changed online; please call the practice"
                        .into(),
            });
        }
        let (practice, current) = self.link_target(raw_token).await?;
        let zone = practice.time_zone.zone();
        let start = parse_start(raw_start, &zone)
            .map_err(|e| DomainError::invalid("start", e.to_string()))?;
        let date = zone.to_datetime(start).date();
        let bookable = self
            .bookable_slots(
                &practice,
                current.visit_type_id,
                Some(current.practitioner_id),
                (date, date),
                false,
            )
            .await?;
        if !bookable.iter().any(|s| s.start == start) {
            return Err(DomainError::invalid(
                "start",
                "is not a time this appointment can be moved to",
            ));
        }
        let data = self.store.practice(practice.id);
        let visit = data
            .visit_type(current.visit_type_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let end = start + visit.draft.duration();
        let block = occupied(
            start,
            end,
            visit.draft.buffer_before(),
            visit.draft.buffer_after(),
        )
        .ok_or_else(|| DomainError::invalid("start", "is not a bookable time"))?;
        let now = self.clock.now();
        let due = planned_for_patient(data, current.patient_id, now, start).await?;
        let mut tx = self.store.begin().await?;
        let mut moving = tx.practice(practice.id);
        let outcome = moving
            .reschedule(
                &current,
                &Reschedule {
                    practitioner_id: current.practitioner_id,
                    start,
                    end,
                    block,
                    overbook: false,
                },
                None,
                now,
            )
            .await?;
        booking_outcome(outcome)?;
        plan(&mut moving, current.id, &due, now).await?;
        self.audit_public(
            &mut tx,
            &practice,
            "appointment.reschedule_by_patient",
            format!("appointment:{},patient:{}", current.id, current.patient_id),
            source,
        )
        .await?;
        tx.commit().await?;
        // The time left behind may be someone's earlier appointment.
        self.offer_freed_time(
            practice.id,
            current.practitioner_id,
            current.visit_type_id,
            (current.start, current.end),
        )
        .await;
        self.managed_appointment(raw_token).await
    }
}
