//! Passkey API: enrolment and removal for a signed-in user, and the challenge of a passkey
//! login (its answer goes to `POST /api/v1/auth/verify` with `"method": "passkey"`).

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
use crate::session::{Authenticated, PendingLogin};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/me/passkeys",
            Access::SignedIn,
            get(list).post(enrol),
        )
        .route(
            "/api/v1/me/passkeys/challenge",
            Access::SignedIn,
            post(enrolment_challenge),
        )
        .route("/api/v1/me/passkeys/{id}", Access::SignedIn, delete(remove))
        .route(
            "/api/v1/auth/passkey/challenge",
            Access::Login,
            post(login_challenge),
        )
}

/// `POST /api/v1/me/passkeys/challenge` → the `PublicKeyCredentialCreationOptions` (as
/// `{"publicKey": …}`, binary fields base64url) for `navigator.credentials.create`.
async fn enrolment_challenge(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
) -> Result<Response, ApiError> {
    let options = state.services.start_passkey_enrolment(&session).await?;
    Ok(Json(options).into_response())
}

#[derive(Deserialize)]
struct EnrolBody {
    name: String,
    credential: serde_json::Value,
}

/// `POST /api/v1/me/passkeys` `{"name","credential"}` → 201 `{"id"}`.
async fn enrol(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiJson(body): ApiJson<EnrolBody>,
) -> Result<Response, ApiError> {
    let id = state
        .services
        .finish_passkey_enrolment(&session, &body.name, body.credential)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// `GET /api/v1/me/passkeys` → `{"passkeys":[{"id","name","created_at","last_used_at"}]}`.
async fn list(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
) -> Result<Response, ApiError> {
    let passkeys: Vec<_> = state
        .services
        .passkeys(&session)
        .await?
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "created_at": p.created_at.to_string(),
                "last_used_at": p.last_used_at.map(|t| t.to_string()),
            })
        })
        .collect();
    Ok(Json(json!({ "passkeys": passkeys })).into_response())
}

/// `DELETE /api/v1/me/passkeys/{id}` → 204; 404 for an unknown id or another user's passkey.
async fn remove(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.services.remove_passkey(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/auth/passkey/challenge` → the `PublicKeyCredentialRequestOptions` (as
/// `{"publicKey": …}`) for `navigator.credentials.get`, for a login on a new device.
async fn login_challenge(
    State(state): State<AppState>,
    PendingLogin(session): PendingLogin,
) -> Result<Response, ApiError> {
    let options = state.services.start_passkey_login(&session).await?;
    Ok(Json(options).into_response())
}
