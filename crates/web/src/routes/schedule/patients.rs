//! Patients: search, create (with the duplicate warning), read, change, merge, history.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Deserialize;
use serde_json::json;
use termin_app::schedule::{NewPatient, PatientSearch};
use termin_domain::rights::Permission;
use termin_domain::schedule::patient::RawPatient;

use super::json;
use crate::AppState;
use crate::access::{ManagePatients, Require, ViewCalendar};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::forms::path_id;
use crate::routes::table::{Access, Routes, Verb};

pub fn routes() -> Routes {
    Routes::new()
        .method(
            Verb::Get,
            "/api/v1/patients",
            Access::Staff(Permission::ViewCalendar),
            get(search),
        )
        .method(
            Verb::Post,
            "/api/v1/patients",
            Access::Staff(Permission::ManagePatients),
            post(create),
        )
        .method(
            Verb::Get,
            "/api/v1/patients/{id}",
            Access::Staff(Permission::ViewCalendar),
            get(show),
        )
        .method(
            Verb::Patch,
            "/api/v1/patients/{id}",
            Access::Staff(Permission::ManagePatients),
            patch(update),
        )
        .route(
            "/api/v1/patients/{id}/appointments",
            Access::Staff(Permission::ViewCalendar),
            get(history),
        )
        .route(
            "/api/v1/patients/{id}/merge",
            Access::Staff(Permission::ManagePatients),
            post(merge),
        )
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    birth_date: Option<String>,
    phone: Option<String>,
}

/// `GET /api/v1/patients?q=&birth_date=&phone=` → `{"patients":[…]}`.
async fn search(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let found = state
        .services
        .search_patients(
            &who.staff(),
            &PatientSearch {
                name: query.q,
                birth_date: query.birth_date,
                phone: query.phone,
            },
        )
        .await?;
    Ok(
        Json(json!({"patients": found.iter().map(json::patient).collect::<Vec<_>>()}))
            .into_response(),
    )
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    record: RawPatient,
    #[serde(default)]
    confirm_duplicate: bool,
}

/// `POST /api/v1/patients` → 201, or 409 `possible_duplicate` with the ids of the records
/// with the same name and birth date that the member may see.
async fn create(
    State(state): State<AppState>,
    who: Require<ManagePatients>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    match state
        .services
        .create_patient(&who.staff(), &body.record, body.confirm_duplicate)
        .await?
    {
        NewPatient::Created(view) => Ok((StatusCode::CREATED, Json(json::patient(&view))).into_response()),
        NewPatient::PossibleDuplicate(ids) => Ok((
            StatusCode::CONFLICT,
            Json(json!({
                "error": "possible_duplicate",
                "message": "a patient with this name and birth date exists; send confirm_duplicate to create another record",
                "duplicates": ids,
            })),
        )
            .into_response()),
    }
}

async fn show(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let found = state.services.patient(&who.staff(), path_id(&raw)?).await?;
    Ok(Json(json::patient(&found)).into_response())
}

async fn update(
    State(state): State<AppState>,
    who: Require<ManagePatients>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<RawPatient>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let updated = state
        .services
        .update_patient(&who.staff(), id, &body)
        .await?;
    Ok(Json(json::patient(&updated)).into_response())
}

async fn history(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let appointments = state.services.patient_history(&who.staff(), id).await?;
    let list: Vec<_> = appointments
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "practitioner_id": a.practitioner_id,
                "visit_type_id": a.visit_type_id,
                "start": a.start.to_string(),
                "end": a.end.to_string(),
                "status": a.status.as_str(),
            })
        })
        .collect();
    Ok(Json(json!({"appointments": list})).into_response())
}

#[derive(Deserialize)]
struct MergeBody {
    #[serde(default)]
    duplicate_id: String,
}

/// `POST /api/v1/patients/{id}/merge` `{"duplicate_id"}`: the duplicate's appointments move
/// to this record and the duplicate is deleted.
async fn merge(
    State(state): State<AppState>,
    who: Require<ManagePatients>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Response, ApiError> {
    let keep = path_id(&raw)?;
    let duplicate = body
        .duplicate_id
        .parse()
        .map_err(|_| termin_domain::DomainError::invalid("duplicate_id", "is not a valid id"))?;
    let kept = state
        .services
        .merge_patients(&who.staff(), keep, duplicate)
        .await?;
    Ok(Json(json::patient(&kept)).into_response())
}
