//! The practice's calendar: practitioners, visit types, opening hours, absences, patients
//! and appointments. Every use case takes a [`Staff`] — the signed-in member and their rights
//! in the acting practice, loaded once per request by the web layer's `Require<P>` — checks
//! the (possibly calendar-scoped) permission it needs, reaches the data only through the
//! practice-bound storage handle, and writes an audit entry for every read and change of
//! patient data and appointments.

mod absences;
mod appointments;
mod patient_rights;
mod patients;
mod practitioners;
pub(crate) mod reminders;
pub(crate) mod slots;
mod visit_types;

pub use absences::{AbsenceInput, NewAbsence};
pub(crate) use appointments::booking_outcome;
pub use appointments::{AppointmentInput, AppointmentMove, AppointmentView, Cancellation, Range};
pub use patient_rights::{
    EXPORT_FORMAT_VERSION, Erasure, ErasureMode, ExportedAppointment, PatientExport,
    anonymised_name,
};
pub use patients::{NewPatient, PatientSearch, PatientView};
pub use slots::SlotSearch;
pub use termin_domain::schedule::slots::Slot;
pub use termin_storage::{
    Absence, Appointment, AppointmentChange, ErasedCounts, Patient, PatientBooking, Practitioner,
    VisitType,
};

use termin_domain::DomainError;
use termin_domain::ids::{OrgId, PractitionerId};
use termin_domain::rights::{Permission, Scope};
use termin_storage::{NewAuditEntry, PatientVisibility, PracticeData, Tx};

use crate::Services;
use crate::auth::CurrentSession;
use crate::users::Acting;

/// A member acting in their practice.
#[derive(Debug, Clone, Copy)]
pub struct Staff<'a> {
    pub session: &'a CurrentSession,
    pub acting: &'a Acting,
}

impl<'a> Staff<'a> {
    pub fn new(session: &'a CurrentSession, acting: &'a Acting) -> Self {
        Self { session, acting }
    }

    pub fn org(&self) -> OrgId {
        self.acting.membership.org_id
    }

    pub fn zone(&self) -> jiff::tz::TimeZone {
        self.acting.membership.time_zone.zone()
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.acting.rights.has(permission)
    }

    /// 403 unless the member holds `permission` (anywhere in the practice).
    pub fn require(&self, permission: Permission) -> Result<(), DomainError> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// 403 unless the member holds `permission` for this practitioner's calendar.
    pub fn require_for(
        &self,
        permission: Permission,
        practitioner: PractitionerId,
    ) -> Result<(), DomainError> {
        if self.acting.rights.allows(permission, practitioner) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    pub fn may_view(&self, practitioner: PractitionerId) -> bool {
        self.acting
            .rights
            .allows(Permission::ViewCalendar, practitioner)
    }

    /// The calendars the member may see.
    pub fn calendar_view(&self) -> Option<&Scope> {
        self.acting.rights.scope(Permission::ViewCalendar)
    }

    /// Which patients the member sees.
    pub fn patients(&self) -> PatientVisibility {
        PatientVisibility::of(
            self.calendar_view(),
            self.has(Permission::AllPatients),
            self.session.user_id,
        )
    }

    fn source(&self) -> String {
        self.session
            .client_ip
            .map_or_else(String::new, |ip| ip.to_string())
    }
}

impl Services {
    fn practice_data(&self, staff: &Staff<'_>) -> PracticeData<'_> {
        self.store.practice(staff.org())
    }

    /// Appends an audit entry for the acting member (ids only, never content).
    async fn audit(
        &self,
        tx: &mut Tx,
        staff: &Staff<'_>,
        action: &str,
        target: String,
    ) -> Result<(), DomainError> {
        let source = staff.source();
        tx.append_audit(
            staff.org(),
            &NewAuditEntry {
                at: self.clock.now(),
                actor_id: Some(staff.session.user_id),
                action,
                target,
                source: &source,
                outcome: "ok",
            },
        )
        .await?;
        Ok(())
    }

    /// An audit entry for a read, in a transaction of its own.
    async fn audit_read(
        &self,
        staff: &Staff<'_>,
        action: &str,
        target: String,
    ) -> Result<(), DomainError> {
        let mut tx = self.store.begin().await?;
        self.audit(&mut tx, staff, action, target).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Parses an id from a request body field.
fn field_id<T: std::str::FromStr>(
    errors: &mut termin_domain::error::FieldErrors,
    field: &str,
    raw: &str,
) -> Option<T> {
    match raw.trim().parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "is not a valid id");
            None
        }
    }
}
