//! Absences. Entering one shows the booked appointments it covers; staff then decide per
//! appointment to cancel it (the patient is told, with a reason) or to keep it.

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::error::FieldErrors;
use termin_domain::ids::{AbsenceId, PractitionerId};
use termin_domain::rights::Permission;
use termin_domain::schedule::absence::{AbsencePlan, RawAbsencePlan};
use termin_storage::{Absence, Appointment, AppointmentFilter};

use super::{Staff, field_id};
use crate::Services;

/// An absence as a client sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AbsenceInput {
    #[serde(flatten)]
    pub plan: RawAbsencePlan,
    #[serde(default)]
    pub practitioner_ids: Vec<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A stored absence and the appointments it covers, for staff to decide on.
#[derive(Debug, Clone)]
pub struct NewAbsence {
    pub absence: Absence,
    pub covered: Vec<Appointment>,
}

/// How far ahead a repeating absence is checked for covered appointments.
const COVERED_HORIZON_DAYS: i64 = 366;

impl Services {
    /// The absences touching [`from`, `to`] in calendars the member may see.
    pub async fn absences(
        &self,
        staff: &Staff<'_>,
        from: Date,
        to: Date,
    ) -> Result<Vec<Absence>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        Ok(self
            .practice_data(staff)
            .absences(from, to)
            .await?
            .into_iter()
            .filter(|a| a.practitioner_ids.iter().any(|p| staff.may_view(*p)))
            .collect())
    }

    pub async fn create_absence(
        &self,
        staff: &Staff<'_>,
        input: &AbsenceInput,
    ) -> Result<NewAbsence, DomainError> {
        let mut errors = FieldErrors::new();
        let plan = match AbsencePlan::parse(&input.plan) {
            Ok(plan) => Some(plan),
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
        let practitioners: BTreeSet<PractitionerId> = input
            .practitioner_ids
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| field_id(&mut errors, &format!("practitioner_ids[{i}]"), raw))
            .collect();
        if input.practitioner_ids.is_empty() {
            errors.add("practitioner_ids", "name at least one practitioner");
        }
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 200) {
            errors.add("reason", "must be at most 200 characters");
        }
        errors.into_result()?;
        let Some(plan) = plan else {
            return Err(DomainError::invalid("start_date", "is required"));
        };
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        let wanted: Vec<_> = practitioners.iter().copied().collect();
        if practice.known_practitioners(&wanted).await?.len() != wanted.len() {
            return Err(DomainError::NotFound);
        }
        for practitioner in &practitioners {
            staff.require_for(Permission::ManageAvailability, *practitioner)?;
        }
        let id = AbsenceId::random();
        practice
            .insert_absence(id, &plan, &practitioners, reason, self.clock.now())
            .await?;
        self.audit(&mut tx, staff, "absence.create", format!("absence:{id}"))
            .await?;
        tx.commit().await?;
        let absence = Absence {
            id,
            plan,
            practitioner_ids: practitioners,
            reason: reason.map(str::to_owned),
        };
        let covered = self.covered_by(staff, &absence).await?;
        Ok(NewAbsence { absence, covered })
    }

    /// The occupying appointments an absence covers, from now on.
    async fn covered_by(
        &self,
        staff: &Staff<'_>,
        absence: &Absence,
    ) -> Result<Vec<Appointment>, DomainError> {
        let zone = staff.zone();
        let today = zone.to_datetime(self.clock.now()).date();
        let until = absence
            .plan
            .repeat_weekly_until
            .unwrap_or(absence.plan.end_date)
            .min(
                today
                    .checked_add(jiff::Span::new().days(COVERED_HORIZON_DAYS))
                    .unwrap_or(today),
            );
        let spans = absence
            .plan
            .spans(&zone, absence.plan.start_date.max(today), until);
        let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
            return Ok(Vec::new());
        };
        let appointments = self
            .practice_data(staff)
            .appointments(&AppointmentFilter {
                practitioners: absence.practitioner_ids.iter().copied().collect(),
                from: first.start,
                to: last.end,
                include_cancelled: false,
                patient: None,
            })
            .await?;
        Ok(appointments
            .into_iter()
            .filter(|a| {
                let own = termin_domain::schedule::span::Span::new(a.start, a.end);
                own.is_some_and(|own| spans.iter().any(|s| s.overlaps(&own)))
            })
            .collect())
    }

    pub async fn delete_absence(
        &self,
        staff: &Staff<'_>,
        id: AbsenceId,
    ) -> Result<(), DomainError> {
        let absence = self
            .practice_data(staff)
            .absence(id)
            .await?
            .ok_or(DomainError::NotFound)?;
        for practitioner in &absence.practitioner_ids {
            staff.require_for(Permission::ManageAvailability, *practitioner)?;
        }
        let mut tx = self.store.begin().await?;
        if !tx.practice(staff.org()).delete_absence(id).await? {
            return Err(DomainError::NotFound);
        }
        self.audit(&mut tx, staff, "absence.delete", format!("absence:{id}"))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
