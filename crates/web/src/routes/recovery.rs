//! Password reset and "this wasn't me": API and pages.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_app::auth::Method;
use termin_domain::DomainError;
use termin_domain::password::Password;

use crate::AppState;
use crate::error::{ApiError, PageError, form_messages, link_must_be_open, status_of};
use crate::extract::ApiJson;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::Client;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/auth/password-reset",
            Access::Public,
            post(request_reset),
        )
        .route(
            "/api/v1/auth/password-reset/confirm",
            Access::Public,
            post(confirm_reset),
        )
        .route("/api/v1/auth/not-me", Access::Public, post(not_me_api))
        .route(
            "/reset",
            Access::Public,
            get(request_form).post(request_submit),
        )
        .route(
            "/reset/{token}",
            Access::Public,
            get(reset_form).post(reset_submit),
        )
        .route(
            "/not-me/{token}",
            Access::Public,
            get(not_me_form).post(not_me_submit),
        )
}

#[derive(Deserialize)]
struct ResetRequest {
    #[serde(default)]
    email: String,
}

/// `POST /api/v1/auth/password-reset` `{"email"}` → 202, the same for every address.
async fn request_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<Response, ApiError> {
    state
        .services
        .request_password_reset(&body.email, &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"status": "requested"}))).into_response())
}

#[derive(Deserialize)]
struct ResetConfirm {
    #[serde(default)]
    token: String,
    #[serde(default = "sms")]
    method: String,
    #[serde(default)]
    code: String,
    #[serde(default, alias = "password")]
    new_password: String,
}

fn sms() -> String {
    "sms".to_owned()
}

fn reset_method(raw: &str) -> Result<Method, DomainError> {
    match Method::parse(raw) {
        Some(m @ (Method::Sms | Method::Totp)) => Ok(m),
        _ => Err(DomainError::invalid("method", "must be sms or totp")),
    }
}

/// `POST /api/v1/auth/password-reset/confirm` `{"token","method","code","new_password"}` → 204.
async fn confirm_reset(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ResetConfirm>,
) -> Result<StatusCode, ApiError> {
    let method = reset_method(&body.method)?;
    state
        .services
        .complete_password_reset(
            &body.token,
            method,
            &body.code,
            &Password::new(body.new_password),
            &client,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NotMeBody {
    #[serde(default)]
    token: String,
}

/// `POST /api/v1/auth/not-me` `{"token"}` → 204.
async fn not_me_api(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NotMeBody>,
) -> Result<StatusCode, ApiError> {
    state.services.not_me(&body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Template)]
#[template(path = "reset_request.html")]
struct ResetRequestPage<'a> {
    t: Texts<'a>,
    sent: bool,
}

/// "Forgot your password?": asks for the e-mail address.
async fn request_form(lang: Lang) -> Result<Response, PageError> {
    render::html(
        lang,
        &ResetRequestPage {
            t: I18n::global().texts(lang),
            sent: false,
        },
    )
}

/// Sends the reset link if the address has an account; the page says the same either way.
async fn request_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    Form(form): Form<ResetRequest>,
) -> Result<Response, PageError> {
    state
        .services
        .request_password_reset(&form.email, &client)
        .await
        .map_err(|err| PageError { lang, err })?;
    render::html(
        lang,
        &ResetRequestPage {
            t: I18n::global().texts(lang),
            sent: true,
        },
    )
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage<'a> {
    t: Texts<'a>,
    token: &'a str,
    errors: Vec<String>,
    done: bool,
}

async fn reset_form(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    link_must_be_open(lang, state.services.reset_link_is_open(&token).await)?;
    render::html(
        lang,
        &ResetPage {
            t: I18n::global().texts(lang),
            token: &token,
            errors: Vec::new(),
            done: false,
        },
    )
}

async fn reset_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    Path(token): Path<String>,
    Form(form): Form<ResetConfirm>,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let result = match reset_method(&form.method) {
        Ok(method) => {
            state
                .services
                .complete_password_reset(
                    &token,
                    method,
                    &form.code,
                    &Password::new(form.new_password),
                    &client,
                )
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => render::html(
            lang,
            &ResetPage {
                t,
                token: &token,
                errors: Vec::new(),
                done: true,
            },
        ),
        Err(
            err @ (DomainError::PasswordPolicy { .. }
            | DomainError::InvalidCode
            | DomainError::Invalid(_)),
        ) => {
            let errors = form_messages(&err, t.get("verify.failed"));
            render::html_with_status(
                lang,
                status_of(&err),
                &ResetPage {
                    t,
                    token: &token,
                    errors,
                    done: false,
                },
            )
        }
        Err(err) => Err(PageError { lang, err }),
    }
}

#[derive(Template)]
#[template(path = "not_me.html")]
struct NotMePage<'a> {
    t: Texts<'a>,
    token: &'a str,
    done: bool,
}

/// Shows a button only: a GET (a mail scanner following the link) must not act.
async fn not_me_form(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    link_must_be_open(lang, state.services.not_me_link_is_open(&token).await)?;
    render::html(
        lang,
        &NotMePage {
            t: I18n::global().texts(lang),
            token: &token,
            done: false,
        },
    )
}

async fn not_me_submit(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    state
        .services
        .not_me(&token)
        .await
        .map_err(|err| PageError { lang, err })?;
    render::html(
        lang,
        &NotMePage {
            t: I18n::global().texts(lang),
            token: &token,
            done: true,
        },
    )
}
