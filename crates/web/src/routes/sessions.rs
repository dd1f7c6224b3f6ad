//! The session API of API-CONTRACT.md: list, end one, end all (S6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::table::{Access, Routes};
use crate::session::{Authenticated, signed_out_no_content};

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/sessions", Access::SignedIn, get(list))
        .route("/api/v1/sessions/{id}", Access::SignedIn, delete(end_one))
        .route("/api/v1/sessions/end-all", Access::SignedIn, post(end_all))
}

/// `GET /api/v1/sessions` →
/// `{"sessions":[{"id","created_at","last_seen_at","ip","user_agent","device","current"}]}`.
async fn list(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
) -> Result<Response, ApiError> {
    let sessions: Vec<_> = state
        .services
        .sessions(&session)
        .await?
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "created_at": s.created_at.to_string(),
                "last_seen_at": s.last_seen_at.to_string(),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "device": s.device,
                "current": s.current,
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })).into_response())
}

/// 204, clearing the cookie when the caller's own session was among those ended.
fn ended(own_session_ended: bool) -> Response {
    if own_session_ended {
        signed_out_no_content()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// `DELETE /api/v1/sessions/{id}` → 204; 404 for an unknown id or another user's session.
async fn end_one(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.services.end_session(&session, &id).await?;
    Ok(ended(id == session.session_id))
}

#[derive(Deserialize)]
struct EndAllBody {
    #[serde(default)]
    keep_current: bool,
}

/// `POST /api/v1/sessions/end-all` `{"keep_current": bool}` → 204.
async fn end_all(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiJson(body): ApiJson<EndAllBody>,
) -> Result<Response, ApiError> {
    state
        .services
        .end_all_sessions(&session, body.keep_current)
        .await?;
    Ok(ended(!body.keep_current))
}
