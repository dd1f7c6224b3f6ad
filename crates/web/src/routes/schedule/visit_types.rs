//! Visit types.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json;
use termin_domain::rights::Permission;
use termin_domain::schedule::visit_type::RawVisitType;

use super::json;
use crate::AppState;
use crate::access::{ManageSettings, Require, ViewCalendar};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forms::path_id;
use crate::routes::table::{Access, Routes, Verb};

pub fn routes() -> Routes {
    Routes::new()
        .method(
            Verb::Get,
            "/api/v1/visit-types",
            Access::Staff(Permission::ViewCalendar),
            get(list),
        )
        .method(
            Verb::Post,
            "/api/v1/visit-types",
            Access::Staff(Permission::ManageSettings),
            post(create),
        )
        .route(
            "/api/v1/visit-types/{id}",
            Access::Staff(Permission::ManageSettings),
            put(update),
        )
}

async fn list(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
) -> Result<Response, ApiError> {
    let all = state.services.visit_types(&who.staff()).await?;
    Ok(
        Json(json!({"visit_types": all.iter().map(json::visit_type).collect::<Vec<_>>()}))
            .into_response(),
    )
}

async fn create(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
    ApiJson(body): ApiJson<RawVisitType>,
) -> Result<Response, ApiError> {
    let created = state
        .services
        .create_visit_type(&who.staff(), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(json::visit_type(&created))).into_response())
}

#[derive(Deserialize)]
struct UpdateBody {
    #[serde(flatten)]
    record: RawVisitType,
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
        .update_visit_type(&who.staff(), id, &body.record, body.active)
        .await?;
    Ok(Json(json::visit_type(&updated)).into_response())
}
