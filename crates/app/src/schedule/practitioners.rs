//! Practitioners (calendars) and their opening hours.

use termin_domain::DomainError;
use termin_domain::ids::PractitionerId;
use termin_domain::rights::Permission;
use termin_domain::schedule::hours::{RawOpeningRule, WeeklyHours};
use termin_domain::schedule::practitioner::{PractitionerDraft, RawPractitioner};
use termin_storage::Practitioner;

use super::Staff;
use crate::Services;

impl Services {
    /// The practitioners whose calendars the member may see (all of them for those who
    /// manage the practice's settings).
    pub async fn practitioners(&self, staff: &Staff<'_>) -> Result<Vec<Practitioner>, DomainError> {
        let all = self.practice_data(staff).practitioners().await?;
        let everything = staff.has(Permission::ManageSettings);
        Ok(all
            .into_iter()
            .filter(|p| everything || staff.may_view(p.id))
            .collect())
    }

    /// One practitioner of the practice the member may see; others are "not found".
    pub async fn practitioner(
        &self,
        staff: &Staff<'_>,
        id: PractitionerId,
    ) -> Result<Practitioner, DomainError> {
        let practitioner = self
            .practice_data(staff)
            .practitioner(id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if !staff.may_view(id) && !staff.has(Permission::ManageSettings) {
            return Err(DomainError::Forbidden);
        }
        Ok(practitioner)
    }

    pub async fn create_practitioner(
        &self,
        staff: &Staff<'_>,
        raw: &RawPractitioner,
    ) -> Result<Practitioner, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let draft = PractitionerDraft::parse(raw)?;
        let id = PractitionerId::random();
        let mut tx = self.store.begin().await?;
        tx.practice(staff.org())
            .insert_practitioner(id, &draft, self.clock.now())
            .await?;
        self.audit(
            &mut tx,
            staff,
            "practitioner.create",
            format!("practitioner:{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(Practitioner {
            id,
            draft,
            hours: WeeklyHours::default(),
            active: true,
        })
    }

    pub async fn update_practitioner(
        &self,
        staff: &Staff<'_>,
        id: PractitionerId,
        raw: &RawPractitioner,
        active: bool,
    ) -> Result<Practitioner, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let draft = PractitionerDraft::parse(raw)?;
        let mut tx = self.store.begin().await?;
        if !tx
            .practice(staff.org())
            .update_practitioner(id, &draft, active)
            .await?
        {
            return Err(DomainError::NotFound);
        }
        self.audit(
            &mut tx,
            staff,
            "practitioner.update",
            format!("practitioner:{id}"),
        )
        .await?;
        tx.commit().await?;
        self.practitioner(staff, id).await
    }

    /// Replaces a practitioner's weekly opening hours (civil time in the practice's zone).
    pub async fn set_opening_hours(
        &self,
        staff: &Staff<'_>,
        id: PractitionerId,
        raw: &[RawOpeningRule],
    ) -> Result<Practitioner, DomainError> {
        if self.practice_data(staff).practitioner(id).await?.is_none() {
            return Err(DomainError::NotFound);
        }
        staff.require_for(Permission::ManageAvailability, id)?;
        let hours = WeeklyHours::parse(raw)?;
        let known: Vec<_> = self
            .practice_data(staff)
            .visit_types()
            .await?
            .into_iter()
            .map(|v| v.id)
            .collect();
        let mut errors = termin_domain::error::FieldErrors::new();
        for (i, rule) in hours.rules().iter().enumerate() {
            if rule.visit_type_ids.iter().any(|v| !known.contains(v)) {
                errors.add(
                    &format!("weekly[{i}].visit_type_ids"),
                    "names a visit type this practice does not have",
                );
            }
        }
        errors.into_result()?;
        let mut tx = self.store.begin().await?;
        if !tx
            .practice(staff.org())
            .set_opening_hours(id, &hours)
            .await?
        {
            return Err(DomainError::NotFound);
        }
        self.audit(
            &mut tx,
            staff,
            "opening_hours.update",
            format!("practitioner:{id}"),
        )
        .await?;
        tx.commit().await?;
        self.practitioner(staff, id).await
    }
}
