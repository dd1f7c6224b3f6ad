//! The practice's calendar as a JSON API (API-CONTRACT.md's practice-data endpoints and
//! more): practitioners, opening hours, visit types, absences, patients, appointments.
//! Each handler takes `Require<P>` for the permission its route declares and hands the
//! member (`Staff`) to one use case, which checks calendar scopes and writes the audit log.

mod absences;
mod appointments;
mod json;
pub(super) mod patient_rights;
mod patients;
mod practitioners;
mod reminders;
mod slots;
mod visit_types;

use crate::routes::table::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .merge(practitioners::routes())
        .merge(visit_types::routes())
        .merge(absences::routes())
        .merge(patients::routes())
        .merge(patient_rights::routes())
        .merge(appointments::routes())
        .merge(slots::routes())
        .merge(reminders::routes())
}
