//! Appointments.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use serde::Deserialize;
use serde_json::json;
use termin_app::schedule::{AppointmentInput, AppointmentMove, Cancellation, Range};
use termin_domain::rights::Permission;

use super::json;
use crate::AppState;
use crate::access::{ManageAppointments, Require, SeeMedicalNotes, ViewCalendar};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, OptionalJson};
use crate::forms::path_id;
use crate::routes::table::{Access, Routes, Verb};

pub fn routes() -> Routes {
    Routes::new()
        .method(
            Verb::Get,
            "/api/v1/appointments",
            Access::Staff(Permission::ViewCalendar),
            get(list),
        )
        .method(
            Verb::Post,
            "/api/v1/appointments",
            Access::Staff(Permission::ManageAppointments),
            post(create),
        )
        .method(
            Verb::Get,
            "/api/v1/appointments/{id}",
            Access::Staff(Permission::ViewCalendar),
            get(show),
        )
        .method(
            Verb::Patch,
            "/api/v1/appointments/{id}",
            Access::Staff(Permission::ManageAppointments),
            patch(reschedule),
        )
        .method(
            Verb::Delete,
            "/api/v1/appointments/{id}",
            Access::Staff(Permission::ManageAppointments),
            delete(cancel),
        )
        .route(
            "/api/v1/appointments/{id}/status",
            Access::Staff(Permission::ManageAppointments),
            put(status),
        )
        .route(
            "/api/v1/appointments/{id}/notes",
            Access::Staff(Permission::SeeMedicalNotes),
            put(notes),
        )
        .route(
            "/api/v1/appointments/{id}/history",
            Access::Staff(Permission::ViewCalendar),
            get(history),
        )
}

/// `GET /api/v1/appointments?practitioner_id=&from=&to=` → `{"appointments":[…]}`.
async fn list(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    ApiQuery(range): ApiQuery<Range>,
) -> Result<Response, ApiError> {
    let found = state.services.appointments(&who.staff(), &range).await?;
    Ok(
        Json(json!({"appointments": found.iter().map(json::appointment).collect::<Vec<_>>()}))
            .into_response(),
    )
}

/// `POST /api/v1/appointments` → 201 `{"id","start","end",…}`; 409 `slot_taken`.
async fn create(
    State(state): State<AppState>,
    who: Require<ManageAppointments>,
    ApiJson(body): ApiJson<AppointmentInput>,
) -> Result<Response, ApiError> {
    let created = state
        .services
        .create_appointment(&who.staff(), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(json::appointment(&created))).into_response())
}

async fn show(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let found = state
        .services
        .appointment(&who.staff(), path_id(&raw)?)
        .await?;
    Ok(Json(json::appointment(&found)).into_response())
}

/// `PATCH /api/v1/appointments/{id}` `{"start"?, "end"?, "practitioner_id"?, "overbook"?}`.
async fn reschedule(
    State(state): State<AppState>,
    who: Require<ManageAppointments>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<AppointmentMove>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let moved = state
        .services
        .move_appointment(&who.staff(), id, &body)
        .await?;
    Ok(Json(json::appointment(&moved)).into_response())
}

/// `DELETE /api/v1/appointments/{id}` with optional `{"reason", "notify"}` → 204.
async fn cancel(
    State(state): State<AppState>,
    who: Require<ManageAppointments>,
    Path(raw): Path<String>,
    OptionalJson(body): OptionalJson<Cancellation>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    state
        .services
        .cancel_appointment(&who.staff(), id, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    status: String,
}

async fn status(
    State(state): State<AppState>,
    who: Require<ManageAppointments>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let updated = state
        .services
        .set_appointment_status(&who.staff(), id, &body.status)
        .await?;
    Ok(Json(json::appointment(&updated)).into_response())
}

#[derive(Deserialize)]
struct NotesBody {
    visit_reason: Option<String>,
    notes: Option<String>,
}

async fn notes(
    State(state): State<AppState>,
    who: Require<SeeMedicalNotes>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<NotesBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let updated = state
        .services
        .set_clinical_text(
            &who.staff(),
            id,
            body.visit_reason.as_deref(),
            body.notes.as_deref(),
        )
        .await?;
    Ok(Json(json::appointment(&updated)).into_response())
}

async fn history(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let changes = state.services.appointment_history(&who.staff(), id).await?;
    Ok(
        Json(json!({"history": changes.iter().map(json::change).collect::<Vec<_>>()}))
            .into_response(),
    )
}
