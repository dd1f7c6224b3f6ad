//! The login API of API-CONTRACT.md: login, second step, resend, logout, me.

use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;
use termin_app::auth::{LoginRequest, LoginStatus, LoginStep, Method};
use termin_domain::DomainError;
use termin_domain::password::Password;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::table::{Access, Routes};
use crate::session::{
    AnySession, Authenticated, Client, DEVICE_COOKIE, PendingLogin, SESSION_COOKIE, device_cookie,
    read_cookie, session_cookie, signed_out_no_content,
};

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/auth/login", Access::Public, post(login))
        .route("/api/v1/auth/verify", Access::Login, post(verify))
        .route("/api/v1/auth/resend", Access::Login, post(resend))
        .route("/api/v1/auth/logout", Access::Login, post(logout))
        .route("/api/v1/me", Access::SignedIn, get(me))
        .route(
            "/api/v1/me/password",
            Access::SignedIn,
            post(change_password),
        )
        .route("/api/v1/me/devices", Access::SignedIn, get(devices))
        .route(
            "/api/v1/me/devices/{id}",
            Access::SignedIn,
            delete(remove_device),
        )
        .route("/api/v1/me/totp", Access::SignedIn, post(start_totp))
        .route(
            "/api/v1/me/totp/confirm",
            Access::SignedIn,
            post(confirm_totp),
        )
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

/// The contract's answer to a login step, with the cookies that go with it.
fn step_response(step: LoginStep) -> Response {
    let (status, methods, pending): (&str, Vec<&str>, Option<Vec<&str>>) = match &step.status {
        LoginStatus::Authenticated => ("authenticated", Vec::new(), None),
        LoginStatus::SecondFactorRequired { methods } => (
            "second_factor_required",
            methods.iter().map(|m| m.as_str()).collect(),
            None,
        ),
        LoginStatus::VerificationRequired { pending } => (
            "verification_required",
            pending
                .iter()
                .map(|p| if *p == "email" { "email" } else { "sms" })
                .collect(),
            Some(pending.clone()),
        ),
    };
    let mut body = json!({
        "status": status,
        "methods": methods,
        "csrf_token": step.csrf_token.reveal(),
    });
    if let Some(pending) = pending {
        body["pending"] = json!(pending);
    }
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session_cookie(step.session_token.reveal()),
    );
    if let Some(device) = &step.device_token {
        headers.append(header::SET_COOKIE, device_cookie(device.reveal()));
    }
    response
}

/// `POST /api/v1/auth/login` `{"email","password"}`.
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let step = state
        .services
        .login(LoginRequest {
            email: &body.email,
            password: Password::new(body.password),
            device_token: read_cookie(&headers, DEVICE_COOKIE),
            client,
        })
        .await?;
    state
        .services
        .end_replaced_session(read_cookie(&headers, SESSION_COOKIE))
        .await?;
    Ok(step_response(step))
}

#[derive(Deserialize)]
struct VerifyBody {
    method: String,
    #[serde(default)]
    code: String,
    /// A passkey's answer (`"method": "passkey"`), from `navigator.credentials.get`.
    credential: Option<serde_json::Value>,
}

fn method(raw: &str) -> Result<Method, ApiError> {
    Method::parse(raw).ok_or_else(|| {
        DomainError::invalid(
            "method",
            "must be sms, email, totp, recovery_code or passkey",
        )
        .into()
    })
}

/// `POST /api/v1/auth/verify` `{"method","code"}`, or `{"method":"passkey","credential"}`.
async fn verify(
    State(state): State<AppState>,
    PendingLogin(session): PendingLogin,
    Client(client): Client,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    let method = method(&body.method)?;
    let step = match (method, body.credential) {
        (Method::Passkey, Some(credential)) => {
            state
                .services
                .finish_passkey_login(&session, credential, &client)
                .await?
        }
        _ => {
            state
                .services
                .verify(&session, method, &body.code, &client)
                .await?
        }
    };
    Ok(step_response(step))
}

#[derive(Deserialize)]
struct ResendBody {
    method: String,
}

/// `POST /api/v1/auth/resend` `{"method"}` → 204: a new code for the pending login.
async fn resend(
    State(state): State<AppState>,
    PendingLogin(session): PendingLogin,
    ApiJson(body): ApiJson<ResendBody>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .resend_code(&session, method(&body.method)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/auth/logout` → 204; the session is deleted.
async fn logout(
    State(state): State<AppState>,
    AnySession(session): AnySession,
) -> Result<Response, ApiError> {
    state.services.logout(&session).await?;
    Ok(signed_out_no_content())
}

/// `GET /api/v1/me`.
async fn me(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
) -> Result<Response, ApiError> {
    let me = state.services.me(&session).await?;
    let organizations: Vec<_> = me
        .memberships
        .iter()
        .map(|m| json!({"id": m.org_id, "slug": m.org_slug.as_str(), "name": m.org_name, "role": m.role.as_str()}))
        .collect();
    Ok(Json(json!({
        "user_id": me.user.id,
        "email": me.user.email.as_str(),
        "phone": me.user.phone.as_str(),
        "organizations": organizations,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: String,
    new_password: String,
    /// Ends every other session of the user (default: yes).
    #[serde(default = "yes")]
    end_other_sessions: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/me/password` `{"current_password","new_password","end_other_sessions"?}` → 204.
async fn change_password(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .change_password(
            &session,
            &Password::new(body.current_password),
            &Password::new(body.new_password),
            body.end_other_sessions,
            &client,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me/devices` → `{"devices":[{"id","name","created_at","last_used_at","ip","current"}]}`.
async fn devices(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let devices = state
        .services
        .trusted_devices(&session, read_cookie(&headers, DEVICE_COOKIE))
        .await?;
    let devices: Vec<_> = devices
        .iter()
        .map(|d| {
            json!({
                "id": d.device.id,
                "name": d.device.name,
                "created_at": d.device.created_at.to_string(),
                "last_used_at": d.device.last_used_at.to_string(),
                "ip": d.device.last_ip,
                "current": d.current,
            })
        })
        .collect();
    Ok(Json(json!({ "devices": devices })).into_response())
}

/// `DELETE /api/v1/me/devices/{id}` → 204; 404 for an unknown id or another user's device.
async fn remove_device(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.services.remove_trusted_device(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/me/totp` → `{"secret","otpauth_url","qr_svg"}`: starts TOTP enrolment.
async fn start_totp(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
) -> Result<Response, ApiError> {
    let enrolment = state.services.start_totp_enrolment(&session).await?;
    Ok(Json(json!({
        "secret": enrolment.secret_base32,
        "otpauth_url": enrolment.otpauth_url,
        "qr_svg": enrolment.qr_svg,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

/// `POST /api/v1/me/totp/confirm` `{"code"}` → `{"recovery_codes":[…]}` (shown once).
async fn confirm_totp(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, ApiError> {
    let codes = state.services.confirm_totp(&session, &body.code).await?;
    let codes: Vec<&str> = codes.iter().map(|c| c.reveal()).collect();
    Ok(Json(json!({ "recovery_codes": codes })).into_response())
}
