//! Liveness and readiness for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use termin_app::Readiness;

use crate::AppState;
use crate::error::ApiError;

/// `GET /healthz`: 200 while the process lives.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database is reachable and migrated, else 503.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.readiness().await {
        Readiness::Ready => Json(json!({ "status": "ready" })).into_response(),
        Readiness::NotMigrated => ApiError::Unavailable {
            code: "not_ready",
            message: "The database schema is not migrated to this version.".into(),
        }
        .into_response(),
        Readiness::Unreachable => ApiError::Unavailable {
            code: "not_ready",
            message: "The database is not reachable.".into(),
        }
        .into_response(),
    }
}
