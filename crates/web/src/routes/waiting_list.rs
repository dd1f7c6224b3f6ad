//! The waiting list for patients: joining and leaving through the manage link (API and a
//! page), and the offer link sent when an earlier time frees up (API and a page with the
//! accept button). Public: the tokens in the paths are the only keys; writes fall under the
//! strict rate limit (`limits.rs`). The pages work without JavaScript.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_app::booking::{OfferedTime, WaitingEntry, WaitingListView, WaitingPreference};
use termin_domain::DomainError;

use crate::AppState;
use crate::client_ip::client_ip;
use crate::error::{ApiError, PageError};
use crate::extract::OptionalJson;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/manage/{token}/waiting-list",
            Access::Public,
            get(status).post(join).delete(leave),
        )
        .route("/api/v1/offers/{token}", Access::Public, get(offer))
        .route(
            "/api/v1/offers/{token}/accept",
            Access::Public,
            post(accept),
        )
        .route(
            "/manage/{token}/waiting-list",
            Access::Public,
            get(waiting_page).post(join_form),
        )
        .route(
            "/manage/{token}/waiting-list/leave",
            Access::Public,
            post(leave_form),
        )
        .route("/offers/{token}", Access::Public, get(offer_page))
        .route("/offers/{token}/accept", Access::Public, post(accept_form))
}

fn entry_json(entry: Option<&WaitingEntry>) -> serde_json::Value {
    match entry {
        Some(entry) => json!({
            "waiting": true,
            "same_practitioner": entry.same_practitioner,
            "joined_at": entry.joined_at.to_string(),
        }),
        None => json!({ "waiting": false }),
    }
}

/// `GET /api/v1/manage/{token}/waiting-list` → whether the appointment waits.
async fn status(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.services.waiting_list_view(&token).await?;
    Ok(Json(entry_json(view.entry.as_ref())).into_response())
}

/// `POST /api/v1/manage/{token}/waiting-list` `{"same_practitioner"?}` → 201.
async fn join(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<WaitingPreference>,
) -> Result<Response, ApiError> {
    let entry = state
        .services
        .join_waiting_list(&token, &body, client_ip(&headers))
        .await?;
    Ok((StatusCode::CREATED, Json(entry_json(Some(&entry)))).into_response())
}

/// `DELETE /api/v1/manage/{token}/waiting-list` → 204.
async fn leave(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state
        .services
        .leave_waiting_list(&token, client_ip(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/offers/{token}` → the offered time; 409 `offer_taken`, 404 unknown or
/// expired.
async fn offer(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let offered = state.services.offered_time(&token).await?;
    Ok(Json(json!({
        "practice": offered.practice,
        "practitioner": offered.practitioner,
        "visit_type": offered.visit_type,
        "start": offered.start.to_string(),
        "end": offered.end.to_string(),
        "current_start": offered.current_start.to_string(),
        "expires_at": offered.expires_at.to_string(),
        "time_zone": offered.time_zone,
        "status": if offered.accepted { "accepted" } else { "open" },
    }))
    .into_response())
}

/// `POST /api/v1/offers/{token}/accept` → 200 with the appointment's new time.
async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let accepted = state
        .services
        .accept_offer(&token, client_ip(&headers))
        .await?;
    Ok(Json(json!({
        "status": "accepted",
        "appointment_id": accepted.appointment_id,
        "start": accepted.start.to_string(),
        "end": accepted.end.to_string(),
    }))
    .into_response())
}

fn wall_clock(at: jiff::Timestamp, zone: &str, lang: Lang) -> String {
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let format = match lang {
        Lang::De => "%d.%m.%Y, %H:%M Uhr",
        Lang::En => "%Y-%m-%d, %H:%M",
    };
    zone.to_datetime(at).strftime(format).to_string()
}

/// A refusal the pages explain in place (`waiting_list.<code>`); anything else is the
/// error page.
fn explained(lang: Lang, err: DomainError) -> Result<String, PageError> {
    match err {
        DomainError::Conflict { code, .. } => Ok(I18n::global()
            .texts(lang)
            .get(&format!("waiting_list.{code}"))
            .to_owned()),
        err => Err(PageError { lang, err }),
    }
}

#[derive(Template)]
#[template(path = "waiting_list.html")]
struct WaitingPage<'a> {
    t: Texts<'a>,
    token: &'a str,
    when: String,
    practitioner: String,
    waiting: bool,
    same_practitioner: bool,
    since: String,
    may_join: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn render_waiting(
    lang: Lang,
    token: &str,
    view: &WaitingListView,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let zone = &view.appointment.time_zone;
    let page = WaitingPage {
        t: I18n::global().texts(lang),
        token,
        when: wall_clock(view.appointment.start, zone, lang),
        practitioner: view.appointment.practitioner.clone(),
        waiting: view.entry.is_some(),
        same_practitioner: view.entry.as_ref().is_some_and(|e| e.same_practitioner),
        since: view
            .entry
            .as_ref()
            .map(|e| wall_clock(e.joined_at, zone, lang))
            .unwrap_or_default(),
        may_join: view.may_join,
        notice,
        error,
    };
    let status = if page.error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    render::html_with_status(lang, status, &page)
}

/// `/manage/{token}/waiting-list`: whether the appointment waits, join or leave.
async fn waiting_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Query(done): Query<forms::Done>,
) -> Result<Response, PageError> {
    let view = state
        .services
        .waiting_list_view(&token)
        .await
        .map_err(|err| PageError { lang, err })?;
    let notice = match done.done.as_deref() {
        Some("joined") => Some("waiting_list.joined"),
        Some("left") => Some("waiting_list.left"),
        _ => None,
    };
    render_waiting(lang, &token, &view, notice, None)
}

#[derive(Deserialize)]
struct JoinForm {
    #[serde(default)]
    same_practitioner: Option<String>,
}

async fn join_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<JoinForm>,
) -> Result<Response, PageError> {
    let preference = WaitingPreference {
        same_practitioner: Some(form.same_practitioner.is_some()),
    };
    match state
        .services
        .join_waiting_list(&token, &preference, client_ip(&headers))
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/manage/{token}/waiting-list?done=joined")).into_response())
        }
        Err(err) => {
            let message = explained(lang, err)?;
            let view = state
                .services
                .waiting_list_view(&token)
                .await
                .map_err(|err| PageError { lang, err })?;
            render_waiting(lang, &token, &view, None, Some(message))
        }
    }
}

async fn leave_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    state
        .services
        .leave_waiting_list(&token, client_ip(&headers))
        .await
        .map_err(|err| PageError { lang, err })?;
    Ok(Redirect::to(&format!("/manage/{token}/waiting-list?done=left")).into_response())
}

/// The offered time as the offer page shows it.
struct OfferFields {
    practice: String,
    practitioner: String,
    visit_type: String,
    when: String,
    current: String,
    until: String,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage<'a> {
    t: Texts<'a>,
    token: &'a str,
    offer: Option<OfferFields>,
    accepted: bool,
    error: Option<String>,
}

fn offer_fields(offered: &OfferedTime, lang: Lang) -> OfferFields {
    let zone = &offered.time_zone;
    OfferFields {
        practice: offered.practice.clone(),
        practitioner: offered.practitioner.clone(),
        visit_type: offered.visit_type.clone(),
        when: wall_clock(offered.start, zone, lang),
        current: wall_clock(offered.current_start, zone, lang),
        until: wall_clock(offered.expires_at, zone, lang),
    }
}

/// A page with the refusal only (the offer is gone for this patient): 409.
fn refused_offer(lang: Lang, token: &str, err: DomainError) -> Result<Response, PageError> {
    let page = OfferPage {
        t: I18n::global().texts(lang),
        token,
        offer: None,
        accepted: false,
        error: Some(explained(lang, err)?),
    };
    render::html_with_status(lang, StatusCode::CONFLICT, &page)
}

/// `/offers/{token}`: the offered time with the accept button, or that it is accepted.
async fn offer_page(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state.services.offered_time(&token).await {
        Ok(offered) => {
            let page = OfferPage {
                t: I18n::global().texts(lang),
                token: &token,
                offer: Some(offer_fields(&offered, lang)),
                accepted: offered.accepted,
                error: None,
            };
            render::html(lang, &page)
        }
        Err(err) => refused_offer(lang, &token, err),
    }
}

async fn accept_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state
        .services
        .accept_offer(&token, client_ip(&headers))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/offers/{token}")).into_response()),
        Err(err) => refused_offer(lang, &token, err),
    }
}
