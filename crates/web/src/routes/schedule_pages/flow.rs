//! What the set-up pages do alike: a page every member with the calendar right sees, with
//! a form that needs a right of its own, and the three ways a post ends (on to the next
//! page and its notice, the form again with its messages, or the error page). Kept in one
//! place so that the pages cannot drift apart in who may do what or in how a refusal is
//! shown.

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use termin_domain::rights::Permission;
use termin_domain::{DomainError, FieldErrors};

use super::fail;
use crate::AppState;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::routes::table::{Access, Routes, Verb};

/// A page at `path` for every member with the calendar right, and its form, which needs
/// `form_right`.
pub(super) fn page_with_form(
    path: &'static str,
    page: MethodRouter<AppState>,
    form_right: Permission,
    form: MethodRouter<AppState>,
) -> Routes {
    Routes::new()
        .method(
            Verb::Get,
            path,
            Access::Staff(Permission::ViewCalendar),
            page,
        )
        .method(Verb::Post, path, Access::Staff(form_right), form)
}

/// The notice on a record's page after a post (`?done=…`): `created_key` when the record
/// was just created, "saved" after any other change.
pub(super) fn done_notice(done: Option<&str>, created_key: &'static str) -> Option<&'static str> {
    done.map(|done| match done {
        "created" => created_key,
        _ => "schedule_pages.saved",
    })
}

/// After a post that was done: the browser goes on to `url` (a reload then does not send
/// the form again).
pub(super) fn go_to(url: &str) -> Result<Response, PageError> {
    Ok(Redirect::to(url).into_response())
}

/// The messages of input a use case refused, for the form shown again; any other error is
/// the error page.
pub(super) fn refused_input(lang: Lang, err: DomainError) -> Result<FieldErrors, PageError> {
    match err {
        DomainError::Invalid(refused) => Ok(refused),
        err => Err(fail(lang)(err)),
    }
}
