//! Visit types.

use termin_domain::DomainError;
use termin_domain::error::FieldErrors;
use termin_domain::ids::VisitTypeId;
use termin_domain::rights::Permission;
use termin_domain::schedule::visit_type::{RawVisitType, VisitTypeDraft};
use termin_storage::{PracticeTx, VisitType};

use super::Staff;
use crate::Services;

/// Refuses practitioner ids that are not the practice's (field-level, by position).
async fn check_practitioners(
    practice: &mut PracticeTx<'_>,
    raw: &RawVisitType,
    draft: &VisitTypeDraft,
) -> Result<(), DomainError> {
    let wanted: Vec<_> = draft.practitioner_ids.iter().copied().collect();
    let known = practice.known_practitioners(&wanted).await?;
    let mut errors = FieldErrors::new();
    for (i, value) in raw.practitioner_ids.iter().enumerate() {
        if let Ok(id) = value.parse()
            && !known.contains(&id)
        {
            errors.add(
                &format!("practitioner_ids[{i}]"),
                "is not a practitioner of this practice",
            );
        }
    }
    errors.into_result()
}

impl Services {
    /// The practice's visit types (any member who sees a calendar needs them).
    pub async fn visit_types(&self, staff: &Staff<'_>) -> Result<Vec<VisitType>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        Ok(self.practice_data(staff).visit_types().await?)
    }

    pub async fn create_visit_type(
        &self,
        staff: &Staff<'_>,
        raw: &RawVisitType,
    ) -> Result<VisitType, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let draft = VisitTypeDraft::parse(raw)?;
        let id = VisitTypeId::random();
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        check_practitioners(&mut practice, raw, &draft).await?;
        practice
            .insert_visit_type(id, &draft, self.clock.now())
            .await?;
        self.audit(
            &mut tx,
            staff,
            "visit_type.create",
            format!("visit_type:{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(VisitType {
            id,
            draft,
            active: true,
        })
    }

    pub async fn update_visit_type(
        &self,
        staff: &Staff<'_>,
        id: VisitTypeId,
        raw: &RawVisitType,
        active: bool,
    ) -> Result<VisitType, DomainError> {
        staff.require(Permission::ManageSettings)?;
        let draft = VisitTypeDraft::parse(raw)?;
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        check_practitioners(&mut practice, raw, &draft).await?;
        if !practice.update_visit_type(id, &draft, active).await? {
            return Err(DomainError::NotFound);
        }
        self.audit(
            &mut tx,
            staff,
            "visit_type.update",
            format!("visit_type:{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(VisitType { id, draft, active })
    }
}
