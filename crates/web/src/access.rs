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

/// The caller holds `P` in the acting practice.
pub struct Require<P: Needs> {
    pub session: CurrentSession,
    pub acting: Acting,
    permission: PhantomData<P>,
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
