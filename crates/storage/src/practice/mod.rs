//! A practice's calendar data, behind handles bound to one practice (tenancy in the storage
//! layer): every query of [`PracticeData`] and [`PracticeTx`] filters by the practice it was
//! opened for, and every reference between rows includes the practice's id (composite
//! foreign keys), so no query can return or link another practice's rows, whatever id a
//! caller passes.

mod absences;
mod appointments;
mod bookings;
mod patient_rights;
mod patients;
mod practitioners;
mod reminders;
mod settings;
mod visit_types;
mod waiting_list;

use sqlx::AnyPool;
use termin_domain::ids::OrgId;

pub use absences::Absence;
pub use appointments::{
    Appointment, AppointmentChange, AppointmentFilter, Booking, NewAppointment, Reschedule,
};
pub use bookings::{NewHold, PendingBooking};
pub use patient_rights::{AnonymisedRecord, ErasedCounts, PatientBooking};
pub use patients::{Patient, PatientQuery, PatientVisibility};
pub use practitioners::Practitioner;
pub use reminders::{DueReminder, ReminderOutcome, ReminderState};
pub use visit_types::VisitType;
pub use waiting_list::{
    FreedTime, Joined, OfferLink, WaitingCandidate, WaitingEntry, WaitingOffer,
};

use crate::{StorageError, Store, Tx};

/// Reads of one practice's data.
#[derive(Clone, Copy)]
pub struct PracticeData<'a> {
    pool: &'a AnyPool,
    org: OrgId,
}

/// Writes (and reads that must see them) of one practice's data, inside a transaction.
pub struct PracticeTx<'a> {
    tx: &'a mut Tx,
    org: OrgId,
}

impl Store {
    /// The data of practice `org`; nothing else is reachable through the handle.
    pub fn practice(&self, org: OrgId) -> PracticeData<'_> {
        PracticeData {
            pool: &self.pool,
            org,
        }
    }
}

impl Tx {
    /// The data of practice `org` within this transaction.
    pub fn practice(&mut self, org: OrgId) -> PracticeTx<'_> {
        PracticeTx { tx: self, org }
    }
}

impl PracticeData<'_> {
    pub fn org(&self) -> OrgId {
        self.org
    }
}

impl PracticeTx<'_> {
    pub fn org(&self) -> OrgId {
        self.org
    }
}

pub(crate) fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(what.to_owned())
}

/// Parses an id column.
pub(crate) fn id<T: std::str::FromStr>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<T, StorageError> {
    use sqlx::Row;
    row.try_get::<String, _>(column)?
        .parse()
        .map_err(|_| corrupt(column))
}

/// `$n, $n+1, …` placeholders for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
