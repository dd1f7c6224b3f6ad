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

/// `GET /readyz`: 200 when the database is reachable and migrated, else 503. The body also
/// says whether backups protect the installation (two targets with a current backup each);
/// problem codes only — target names and errors are on the administrators' page.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.readiness().await {
        Readiness::Ready => {
            let backup = match state.services.backup_health().await {
                Ok((health, _)) => json!({
                    "status": health.status.as_str(),
                    "problems": health.problems.iter().map(|p| p.code()).collect::<Vec<_>>(),
                }),
                Err(_) => json!({ "status": "unknown" }),
            };
            Json(json!({ "status": "ready", "backup": backup })).into_response()
        }
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
