//! The public slot search: online-bookable visit types only, from now plus the visit
//! type's lead time to its horizon, in active calendars that offer it.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::error::FieldErrors;
use termin_domain::ids::{PractitionerId, VisitTypeId};
use termin_domain::schedule::slots::Slot;
use termin_storage::{Organization, PracticeData, Practitioner, VisitType};

use crate::Services;
use crate::schedule::slots::{SlotInputs, compute, date_range};

/// The longest range one public search may cover.
const MAX_DAYS: i32 = 31;

/// `GET /api/v1/public/{slug}/slots` query.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PublicSlotSearch {
    pub visit_type_id: String,
    pub practitioner_id: Option<String>,
    pub from: String,
    pub to: String,
}

/// The online-bookable visit type and the active practitioners offering it (one, if named).
pub(super) async fn offer(
    data: PracticeData<'_>,
    visit_type: VisitTypeId,
    practitioner: Option<PractitionerId>,
) -> Result<(VisitType, Vec<Practitioner>), DomainError> {
    let visit = data
        .visit_type(visit_type)
        .await?
        .filter(|v| v.active && v.draft.online_bookable)
        .ok_or(DomainError::NotFound)?;
    let offered: Vec<Practitioner> = data
        .practitioners()
        .await?
        .into_iter()
        .filter(|p| p.active)
        .filter(|p| practitioner.is_none_or(|one| one == p.id))
        .filter(|p| {
            visit.draft.practitioner_ids.is_empty() || visit.draft.practitioner_ids.contains(&p.id)
        })
        .collect();
    if practitioner.is_some() && offered.is_empty() {
        return Err(DomainError::NotFound);
    }
    Ok((visit, offered))
}

impl Services {
    /// Free slots a patient may book.
    pub async fn public_slots(
        &self,
        slug: &str,
        search: &PublicSlotSearch,
    ) -> Result<Vec<Slot>, DomainError> {
        let practice = self.bookable_practice(slug).await?;
        let mut errors = FieldErrors::new();
        let visit_type = errors.take(
            "visit_type_id",
            search.visit_type_id.trim().parse::<VisitTypeId>(),
        );
        let practitioner = match search.practitioner_id.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                errors.take("practitioner_id", raw.parse::<PractitionerId>())
            }
            _ => None,
        };
        let (from, to) = date_range(&mut errors, (&search.from, &search.to), MAX_DAYS);
        errors.into_result()?;
        let (Some(visit_type), Some(from), Some(to)) = (visit_type, from, to) else {
            return Err(DomainError::invalid("visit_type_id", "is required"));
        };
        self.bookable_slots(&practice, visit_type, practitioner, (from, to), true)
            .await
    }

    /// The slots of `visit_type` in [`from`, `to`] within its lead time and horizon.
    pub(super) async fn bookable_slots(
        &self,
        practice: &Organization,
        visit_type: VisitTypeId,
        practitioner: Option<PractitionerId>,
        (from, to): (Date, Date),
        with_bookings: bool,
    ) -> Result<Vec<Slot>, DomainError> {
        let data = self.store.practice(practice.id);
        let (visit, offered) = offer(data, visit_type, practitioner).await?;
        let now = self.clock.now();
        let zone = practice.time_zone.zone();
        compute(
            data,
            &SlotInputs {
                zone: &zone,
                visit: &visit,
                practitioners: &offered,
                from,
                to,
                earliest: now + visit.draft.rules.min_lead(),
                latest: now
                    .checked_add(visit.draft.rules.max_horizon())
                    .unwrap_or(Timestamp::MAX),
                now,
                with_bookings,
            },
        )
        .await
    }
}
