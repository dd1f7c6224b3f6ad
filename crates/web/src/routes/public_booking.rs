//! Online booking for patients, API-CONTRACT.md's public endpoints: free slots, starting a
//! booking (the slot is held while the patient confirms with the SMS code), confirming it;
//! and the patient's manage link (see, add to a calendar, cancel). No login; the strict
//! rate limit applies to every write.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use termin_app::booking::{
    BookingRequest, ManagedAppointment, PublicCancellation, PublicSlotSearch,
};

use crate::AppState;
use crate::client_ip::client_ip;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/public/{slug}/slots", Access::Public, get(slots))
        .route(
            "/api/v1/public/{slug}/bookings",
            Access::Public,
            post(start),
        )
        .route(
            "/api/v1/public/{slug}/bookings/{booking_id}/confirm",
            Access::Public,
            post(confirm),
        )
        .route("/api/v1/manage/{token}", Access::Public, get(show))
        .route(
            "/api/v1/manage/{token}/cancel",
            Access::Public,
            post(cancel),
        )
        .route(
            "/api/v1/manage/{token}/reschedule",
            Access::Public,
            post(reschedule),
        )
        .route(
            "/api/v1/manage/{token}/calendar.ics",
            Access::Public,
            get(ics),
        )
}

/// `GET /api/v1/public/{slug}/slots?visit_type_id=&practitioner_id=&from=DATE&to=DATE`.
async fn slots(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiQuery(search): ApiQuery<PublicSlotSearch>,
) -> Result<Response, ApiError> {
    let slots = state.services.public_slots(&slug, &search).await?;
    let list: Vec<_> = slots
        .iter()
        .map(|s| {
            json!({
                "start": s.start.to_string(),
                "end": s.end.to_string(),
                "practitioner_id": s.practitioner,
            })
        })
        .collect();
    Ok(Json(json!({ "slots": list })).into_response())
}

/// `POST /api/v1/public/{slug}/bookings` → 202 `{"booking_id","status","hold_expires_at"}`.
async fn start(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BookingRequest>,
) -> Result<Response, ApiError> {
    let held = state
        .services
        .start_booking(&slug, &body, client_ip(&headers))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "booking_id": held.booking_id,
            "status": "phone_verification_required",
            "hold_expires_at": held.hold_expires_at.to_string(),
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct CodeBody {
    #[serde(default)]
    code: String,
}

/// `POST /api/v1/public/{slug}/bookings/{booking_id}/confirm` `{"code"}` → 200
/// `{"status":"confirmed","appointment_id","manage_url"}`.
async fn confirm(
    State(state): State<AppState>,
    Path((slug, booking)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, ApiError> {
    let confirmed = state
        .services
        .confirm_booking(&slug, &booking, &body.code, client_ip(&headers))
        .await?;
    Ok(Json(json!({
        "status": "confirmed",
        "appointment_id": confirmed.appointment_id,
        "manage_url": confirmed.manage_url,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct StartBody {
    #[serde(default)]
    start: String,
}

/// `POST /api/v1/manage/{token}/reschedule` `{"start"}` → 200 with the moved appointment.
async fn reschedule(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartBody>,
) -> Result<Response, ApiError> {
    let view = state
        .services
        .reschedule_by_patient(&token, &body.start, client_ip(&headers))
        .await?;
    Ok(Json(managed_json(&view)).into_response())
}

/// `GET /api/v1/manage/{token}` → the appointment behind the link.
async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let view = state.services.managed_appointment(&token).await?;
    Ok(Json(managed_json(&view)).into_response())
}

fn managed_json(view: &ManagedAppointment) -> serde_json::Value {
    json!({
        "practice": view.practice,
        "practitioner": view.practitioner,
        "visit_type": view.visit_type,
        "instructions": view.instructions,
        "start": view.start.to_string(),
        "end": view.end.to_string(),
        "time_zone": view.time_zone,
        "status": view.status.as_str(),
        "cancel_until": view.cancel_until.to_string(),
        "may_cancel": view.may_cancel,
    })
}

/// `POST /api/v1/manage/{token}/cancel` `{"reason"?}` → 204.
async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<PublicCancellation>,
) -> Result<Response, ApiError> {
    state
        .services
        .cancel_by_patient(&token, &body, client_ip(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/manage/{token}/calendar.ics` → `text/calendar`.
async fn ics(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let calendar = state.services.appointment_ics(&token).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"termin.ics\"",
            ),
        ],
        calendar,
    )
        .into_response())
}
