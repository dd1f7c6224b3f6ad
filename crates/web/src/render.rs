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

/// Renders a form page: 422 when the submitted form was refused (the page shows why), else
/// 200.
pub fn form_page(lang: Lang, refused: bool, page: &impl Template) -> Result<Response, PageError> {
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_with_status(lang, status, page)
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
