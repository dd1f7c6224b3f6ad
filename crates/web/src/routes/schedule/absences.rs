//! Absences.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;
use termin_app::schedule::AbsenceInput;
use termin_domain::DomainError;
use termin_domain::rights::Permission;

use super::json;
use crate::AppState;
use crate::access::{ManageAvailability, Require, ViewCalendar};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::forms::path_id;
use crate::routes::table::{Access, Routes, Verb};

pub fn routes() -> Routes {
    Routes::new()
        .method(
            Verb::Get,
            "/api/v1/absences",
            Access::Staff(Permission::ViewCalendar),
            get(list),
        )
        .method(
            Verb::Post,
            "/api/v1/absences",
            Access::Staff(Permission::ManageAvailability),
            post(create),
        )
        .route(
            "/api/v1/absences/{id}",
            Access::Staff(Permission::ManageAvailability),
            delete(remove),
        )
}

#[derive(Deserialize)]
struct Window {
    from: Option<String>,
    to: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    ApiQuery(window): ApiQuery<Window>,
) -> Result<Response, ApiError> {
    let date = |field: &str, raw: Option<String>| {
        raw.as_deref()
            .unwrap_or_default()
            .parse::<jiff::civil::Date>()
            .map_err(|_| DomainError::invalid(field, "must be a date like 2026-12-01"))
    };
    let from = date("from", window.from)?;
    let to = date("to", window.to)?;
    let found = state.services.absences(&who.staff(), from, to).await?;
    Ok(
        Json(json!({"absences": found.iter().map(json::absence).collect::<Vec<_>>()}))
            .into_response(),
    )
}

/// `POST /api/v1/absences` → 201 with the absence and the booked appointments it covers
/// (`covered_appointments`), for staff to cancel or keep one by one.
async fn create(
    State(state): State<AppState>,
    who: Require<ManageAvailability>,
    ApiJson(body): ApiJson<AbsenceInput>,
) -> Result<Response, ApiError> {
    let created = state.services.create_absence(&who.staff(), &body).await?;
    let mut value = json::absence(&created.absence);
    // Only ids and times here: the calendar shows the rest to those who may see it.
    value["covered_appointments"] = json!(
        created
            .covered
            .iter()
            .map(|a| json!({
                "id": a.id,
                "practitioner_id": a.practitioner_id,
                "start": a.start.to_string(),
                "end": a.end.to_string(),
            }))
            .collect::<Vec<_>>()
    );
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

async fn remove(
    State(state): State<AppState>,
    who: Require<ManageAvailability>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    state
        .services
        .delete_absence(&who.staff(), path_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
