//! Practitioners and their opening hours.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json;
use termin_domain::rights::Permission;
use termin_domain::schedule::hours::RawOpeningRule;
use termin_domain::schedule::practitioner::RawPractitioner;

use super::json;
use crate::AppState;
use crate::access::{ManageAvailability, ManageSettings, Require, ViewCalendar};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forms::path_id;
use crate::routes::table::{Access, Routes, Verb};

pub fn routes() -> Routes {
    Routes::new()
        .method(
            Verb::Get,
            "/api/v1/practitioners",
            Access::Staff(Permission::ViewCalendar),
            get(list),
        )
        .method(
            Verb::Post,
            "/api/v1/practitioners",
            Access::Staff(Permission::ManageSettings),
            post(create),
        )
        .method(
            Verb::Get,
            "/api/v1/practitioners/{id}",
            Access::Staff(Permission::ViewCalendar),
            get(show),
        )
        .method(
            Verb::Put,
            "/api/v1/practitioners/{id}",
            Access::Staff(Permission::ManageSettings),
            put(update),
        )
        .route(
            "/api/v1/practitioners/{id}/opening-hours",
            Access::Staff(Permission::ManageAvailability),
            put(opening_hours),
        )
}

async fn list(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
) -> Result<Response, ApiError> {
    let all = state.services.practitioners(&who.staff()).await?;
    Ok(
        Json(json!({"practitioners": all.iter().map(json::practitioner).collect::<Vec<_>>()}))
            .into_response(),
    )
}

async fn create(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
    ApiJson(body): ApiJson<RawPractitioner>,
) -> Result<Response, ApiError> {
    let created = state
        .services
        .create_practitioner(&who.staff(), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(json::practitioner(&created))).into_response())
}

async fn show(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let found = state
        .services
        .practitioner(&who.staff(), path_id(&raw)?)
        .await?;
    Ok(Json(json::practitioner(&found)).into_response())
}

#[derive(Deserialize)]
struct UpdateBody {
    #[serde(flatten)]
    record: RawPractitioner,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

async fn update(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let updated = state
        .services
        .update_practitioner(&who.staff(), id, &body.record, body.active)
        .await?;
    Ok(Json(json::practitioner(&updated)).into_response())
}

#[derive(Deserialize)]
struct HoursBody {
    #[serde(default)]
    weekly: Vec<RawOpeningRule>,
}

/// `PUT /api/v1/practitioners/{id}/opening-hours` `{"weekly": [...]}` → 200.
async fn opening_hours(
    State(state): State<AppState>,
    who: Require<ManageAvailability>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<HoursBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let updated = state
        .services
        .set_opening_hours(&who.staff(), id, &body.weekly)
        .await?;
    Ok(Json(json::practitioner(&updated)).into_response())
}
