//! Authorization in the signature: a staff API handler takes `Require<P>`, which loads the
//! session, the acting practice (`X-Termin-Org`, or the user's only one) and the member's
//! rights, and refuses with 403 unless they hold `P` — before the handler's body runs. The
//! use case checks again (defence in depth); the route table declares the same permission
//! and `tests/access.rs` proves the two agree.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use termin_app::auth::CurrentSession;
use termin_app::users::Acting;
use termin_domain::rights::Permission;

use crate::AppState;
use crate::error::ApiError;
use crate::session::{Authenticated, org_header};

/// A permission as a type, for `Require<P>`.
pub trait Needs: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// Users and their rights.
pub struct ManageUsers;
impl Needs for ManageUsers {
    const PERMISSION: Permission = Permission::ManageUsers;
}

/// Practice settings and security.
pub struct ManageSettings;
impl Needs for ManageSettings {
    const PERMISSION: Permission = Permission::ManageSettings;
}

/// Reading and exporting the audit log.
pub struct ViewAuditLog;
impl Needs for ViewAuditLog {
    const PERMISSION: Permission = Permission::ViewAuditLog;
}

/// Seeing calendars (scoped per practitioner; the use case checks which).
pub struct ViewCalendar;
impl Needs for ViewCalendar {
    const PERMISSION: Permission = Permission::ViewCalendar;
}

/// Booking, moving and cancelling appointments (scoped).
pub struct ManageAppointments;
impl Needs for ManageAppointments {
    const PERMISSION: Permission = Permission::ManageAppointments;
}

/// Opening hours and absences (scoped).
pub struct ManageAvailability;
impl Needs for ManageAvailability {
    const PERMISSION: Permission = Permission::ManageAvailability;
}

/// Creating and changing patient records.
pub struct ManagePatients;
impl Needs for ManagePatients {
    const PERMISSION: Permission = Permission::ManagePatients;
}

/// Visit reasons and notes.
pub struct SeeMedicalNotes;
impl Needs for SeeMedicalNotes {
    const PERMISSION: Permission = Permission::SeeMedicalNotes;
}

/// Exporting, erasing and anonymising a patient's data (GDPR Art. 15, 17, 20).
pub struct ExportPatientData;
impl Needs for ExportPatientData {
    const PERMISSION: Permission = Permission::ExportPatientData;
}

/// The caller holds `P` in the acting practice.
pub struct Require<P: Needs> {
    pub session: CurrentSession,
    pub acting: Acting,
    permission: PhantomData<P>,
}

impl<P: Needs> Require<P> {
    /// The member acting in their practice, for the scheduling use cases.
    pub fn staff(&self) -> termin_app::schedule::Staff<'_> {
        termin_app::schedule::Staff::new(&self.session, &self.acting)
    }
}

impl<P: Needs> FromRequestParts<AppState> for Require<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(session) = Authenticated::from_request_parts(parts, state).await?;
        let org = org_header(&parts.headers);
        let acting = state
            .services
            .acting_with(&session, org, P::PERMISSION)
            .await?;
        Ok(Self {
            session,
            acting,
            permission: PhantomData,
        })
    }
}
