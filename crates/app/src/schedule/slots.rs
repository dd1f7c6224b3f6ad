//! Free slots: opening hours − absences − appointments − buffers, by the domain's slot
//! engine. Staff see them for the calendars they may see; the public booking page (which
//! adds lead time and horizon) uses the same calculation.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use termin_domain::DomainError;
use termin_domain::error::FieldErrors;
use termin_domain::ids::{PractitionerId, VisitTypeId};
use termin_domain::rights::Permission;
use termin_domain::schedule::slots::{CalendarInput, Slot, SlotRequest, free_slots};
use termin_domain::schedule::span::Span;
use termin_storage::{AppointmentFilter, PracticeData, Practitioner, VisitType};

use super::{Staff, field_id};
use crate::Services;

/// The longest range one slot search may cover.
const MAX_DAYS: i32 = 62;

/// A slot search as a client sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SlotSearch {
    pub visit_type_id: String,
    pub practitioner_id: Option<String>,
    pub from: String,
    pub to: String,
}

/// What the engine needs, read from one practice.
pub(crate) struct SlotInputs<'a> {
    pub zone: &'a jiff::tz::TimeZone,
    pub visit: &'a VisitType,
    pub practitioners: &'a [Practitioner],
    pub from: Date,
    pub to: Date,
    pub earliest: Timestamp,
    pub latest: Timestamp,
    /// For the holds of patients' bookings still open.
    pub now: Timestamp,
    /// Whether appointments and holds block (false: opening hours and absences only, to
    /// tell "not a bookable time" from "taken").
    pub with_bookings: bool,
}

/// Free slots of `practitioners` for the visit type: their appointments (with buffers),
/// patients' open holds and absences are read from `data` and handed to the engine.
pub(crate) async fn compute(
    data: PracticeData<'_>,
    inputs: &SlotInputs<'_>,
) -> Result<Vec<Slot>, DomainError> {
    let zone = inputs.zone;
    let day_start = |date: Date| {
        date.to_zoned_datetime(zone.clone())
            .map(|z| z.timestamp())
            .map_err(DomainError::internal)
    };
    let range_start = day_start(inputs.from)?;
    let range_end = day_start(inputs.to.tomorrow().map_err(DomainError::internal)?)?;
    let ids: Vec<PractitionerId> = inputs.practitioners.iter().map(|p| p.id).collect();
    let mut blocked: HashMap<PractitionerId, Vec<Span>> = HashMap::new();
    let calendars_of = if inputs.with_bookings {
        ids.clone()
    } else {
        Vec::new()
    };
    for appointment in data
        .appointments(&AppointmentFilter {
            practitioners: calendars_of.clone(),
            from: range_start,
            to: range_end,
            include_cancelled: false,
            patient: None,
        })
        .await?
    {
        blocked
            .entry(appointment.practitioner_id)
            .or_default()
            .push(appointment.block);
    }
    for (practitioner, span) in data
        .holds(&calendars_of, range_start, range_end, inputs.now)
        .await?
    {
        blocked.entry(practitioner).or_default().push(span);
    }
    for absence in data.absences(inputs.from, inputs.to).await? {
        let spans = absence.plan.spans(zone, inputs.from, inputs.to);
        for practitioner in absence.practitioner_ids.iter().filter(|p| ids.contains(p)) {
            blocked
                .entry(*practitioner)
                .or_default()
                .extend(spans.iter().copied());
        }
    }
    let empty = Vec::new();
    let calendars: Vec<CalendarInput<'_>> = inputs
        .practitioners
        .iter()
        .map(|p| CalendarInput {
            practitioner: p.id,
            hours: &p.hours,
            blocked: blocked.get(&p.id).unwrap_or(&empty),
        })
        .collect();
    let draft = &inputs.visit.draft;
    Ok(free_slots(
        &SlotRequest {
            tz: zone,
            from: inputs.from,
            to: inputs.to,
            visit_type: inputs.visit.id,
            duration: draft.duration(),
            buffer_before: draft.buffer_before(),
            buffer_after: draft.buffer_after(),
            earliest: inputs.earliest,
            latest: inputs.latest,
        },
        &calendars,
    ))
}

/// A search's `from` and `to` dates (both inclusive): well-formed, in order, at most
/// `max_days` apart; problems go into `errors` under the two fields.
pub(crate) fn date_range(
    errors: &mut FieldErrors,
    (from, to): (&str, &str),
    max_days: i32,
) -> (Option<Date>, Option<Date>) {
    let from = errors.take("from", from.trim().parse::<Date>());
    let to = errors.take("to", to.trim().parse::<Date>());
    if let (Some(from), Some(to)) = (from, to)
        && (to < from || (to - from).get_days() > max_days)
    {
        errors.add(
            "to",
            format!("must be on or after from, at most {max_days} days later"),
        );
    }
    (from, to)
}

impl Services {
    /// Free slots for a visit type in the calendars the member may see (or one of them),
    /// from now on.
    pub async fn staff_slots(
        &self,
        staff: &Staff<'_>,
        search: &SlotSearch,
    ) -> Result<Vec<Slot>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let mut errors = FieldErrors::new();
        let visit_type: Option<VisitTypeId> =
            field_id(&mut errors, "visit_type_id", &search.visit_type_id);
        let practitioner: Option<PractitionerId> = search
            .practitioner_id
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| field_id(&mut errors, "practitioner_id", p));
        let (from, to) = date_range(&mut errors, (&search.from, &search.to), MAX_DAYS);
        errors.into_result()?;
        let (Some(visit_type), Some(from), Some(to)) = (visit_type, from, to) else {
            return Err(DomainError::invalid("visit_type_id", "is required"));
        };
        let data = self.practice_data(staff);
        let visit = data
            .visit_type(visit_type)
            .await?
            .ok_or(DomainError::NotFound)?;
        let practitioners: Vec<Practitioner> = match practitioner {
            Some(one) => {
                let found = data.practitioner(one).await?.ok_or(DomainError::NotFound)?;
                staff.require_for(Permission::ViewCalendar, one)?;
                vec![found]
            }
            None => data
                .practitioners()
                .await?
                .into_iter()
                .filter(|p| p.active && staff.may_view(p.id))
                .collect(),
        };
        let offered: Vec<Practitioner> = practitioners
            .into_iter()
            .filter(|p| {
                visit.draft.practitioner_ids.is_empty()
                    || visit.draft.practitioner_ids.contains(&p.id)
            })
            .collect();
        let zone = staff.zone();
        compute(
            data,
            &SlotInputs {
                zone: &zone,
                visit: &visit,
                practitioners: &offered,
                from,
                to,
                earliest: self.clock.now(),
                latest: Timestamp::MAX,
                now: self.clock.now(),
                with_bookings: true,
            },
        )
        .await
    }
}
