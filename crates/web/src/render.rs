//! Rendering templates into responses.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use termin_domain::DomainError;

use crate::error::PageError;
use crate::i18n::Lang;

/// Renders `page` with status 200.
pub fn html(lang: Lang, page: &impl Template) -> Result<Response, PageError> {
    html_with_status(lang, StatusCode::OK, page)
}

pub fn html_with_status(
    lang: Lang,
    status: StatusCode,
    page: &impl Template,
) -> Result<Response, PageError> {
    page.render()
        .map(|body| (status, Html(body)).into_response())
        .map_err(|err| PageError {
            lang,
            err: DomainError::internal(err),
        })
}
