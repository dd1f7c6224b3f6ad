//! Scheduling rules: practitioners (calendars), visit types, opening hours, absences,
//! patients, appointments and the slot engine. Pure values and calculations; storage keeps
//! them, `app` applies them.

pub mod absence;
pub mod appointment;
pub mod booking;
pub mod hours;
pub mod patient;
pub mod practitioner;
pub mod reminders;
pub mod slots;
pub mod span;
mod text;
pub mod visit_type;
pub mod waiting_list;
