//! The patient's manage page behind the link from the confirmation (`/manage/<token>`): the
//! appointment in the practice's time, the calendar file, and cancelling until the
//! deadline. The token in the path is the only key; the page works without JavaScript.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use termin_app::booking::{ManagedAppointment, PublicCancellation};
use termin_domain::DomainError;
use termin_domain::schedule::appointment::AppointmentStatus;

use crate::AppState;
use crate::client_ip::client_ip;
use crate::error::PageError;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route("/manage/{token}", Access::Public, get(page))
        .route("/manage/{token}/cancel", Access::Public, post(cancel))
        .route(
            "/manage/{token}/reschedule",
            Access::Public,
            post(reschedule),
        )
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage<'a> {
    t: Texts<'a>,
    token: &'a str,
    practice: String,
    practitioner: String,
    visit_type: String,
    instructions: Option<String>,
    when: String,
    cancelled: bool,
    may_cancel: bool,
    cancel_until: String,
    /// Other times to move to: (instant, as shown).
    moves: Vec<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn wall_clock(at: jiff::Timestamp, zone: &str, lang: Lang) -> String {
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let format = match lang {
        Lang::De => "%d.%m.%Y, %H:%M Uhr",
        Lang::En => "%Y-%m-%d, %H:%M",
    };
    zone.to_datetime(at).strftime(format).to_string()
}

/// The page with the other times it offers (read through the use case).
async fn render_with_options(
    state: &AppState,
    lang: Lang,
    token: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let err = |err| PageError { lang, err };
    let view = state
        .services
        .managed_appointment(token)
        .await
        .map_err(err)?;
    let options = state
        .services
        .reschedule_options(token)
        .await
        .map_err(err)?;
    let moves = options
        .into_iter()
        .map(|at| (at.to_string(), wall_clock(at, &view.time_zone, lang)))
        .collect();
    render_page(lang, token, view, moves, (notice, error))
}

fn render_page(
    lang: Lang,
    token: &str,
    view: ManagedAppointment,
    moves: Vec<(String, String)>,
    (notice, error): (Option<&'static str>, Option<String>),
) -> Result<Response, PageError> {
    let page = ManagePage {
        t: I18n::global().texts(lang),
        token,
        practice: view.practice,
        practitioner: view.practitioner,
        visit_type: view.visit_type,
        instructions: view.instructions,
        when: wall_clock(view.start, &view.time_zone, lang),
        cancelled: view.status == AppointmentStatus::Cancelled,
        may_cancel: view.may_cancel,
        cancel_until: wall_clock(view.cancel_until, &view.time_zone, lang),
        moves,
        notice,
        error,
    };
    render::form_page(lang, page.error.is_some(), &page)
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Query(done): Query<forms::Done>,
) -> Result<Response, PageError> {
    let notice = done.done.as_deref().map(|what| match what {
        "moved" => "manage.moved",
        _ => "manage.cancelled",
    });
    render_with_options(&state, lang, &token, notice, None).await
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    start: String,
}

async fn reschedule(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<MoveForm>,
) -> Result<Response, PageError> {
    let result = state
        .services
        .reschedule_by_patient(&token, &form.start, client_ip(&headers))
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/manage/{token}?done=moved")).into_response()),
        Err(e @ (DomainError::Conflict { .. } | DomainError::Invalid(_))) => {
            render_with_options(&state, lang, &token, None, Some(refusal(lang, &e))).await
        }
        Err(err) => Err(PageError { lang, err }),
    }
}

/// A refused change in the patient's words.
fn refusal(lang: Lang, e: &DomainError) -> String {
    match e {
        DomainError::Conflict { code, .. } => I18n::global()
            .texts(lang)
            .get(&format!("manage.{code}"))
            .to_owned(),
        DomainError::Invalid(fields) => forms::messages(fields),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, PageError> {
    let result = state
        .services
        .cancel_by_patient(
            &token,
            &PublicCancellation {
                reason: Some(form.reason),
            },
            client_ip(&headers),
        )
        .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/manage/{token}?done=cancelled")).into_response()),
        Err(e @ (DomainError::Conflict { .. } | DomainError::Invalid(_))) => {
            render_with_options(&state, lang, &token, None, Some(refusal(lang, &e))).await
        }
        Err(err) => Err(PageError { lang, err }),
    }
}
