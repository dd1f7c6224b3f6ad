//! Invitations: the API for administrators, and the page behind the invitation link.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_app::invitations::InvitationRequest;
use termin_domain::DomainError;
use termin_domain::password::Password;

use crate::AppState;
use crate::access::{ManageUsers, Require};
use crate::error::{ApiError, PageError, form_messages, link_must_be_open, status_of};
use crate::extract::ApiJson;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::org_header;
use termin_domain::rights::Permission;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/invitations",
            Access::Staff(Permission::ManageUsers),
            post(invite),
        )
        .route("/api/v1/invitations/accept", Access::Public, post(accept))
        .route(
            "/invite/{token}",
            Access::Public,
            get(accept_form).post(accept_submit),
        )
}

#[derive(Deserialize)]
struct InviteBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    role: String,
}

/// `POST /api/v1/invitations` `{"email","phone","role"}` → 201 `{"id"}`.
async fn invite(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let org = org_header(&headers);
    let id = state
        .services
        .invite(
            &session,
            org,
            InvitationRequest {
                email: &body.email,
                phone: &body.phone,
                role: &body.role,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Deserialize)]
struct AcceptBody {
    token: String,
    password: String,
}

/// `POST /api/v1/invitations/accept` `{"token","password"}` → 200.
async fn accept(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response, ApiError> {
    let user_id = state
        .services
        .accept_invitation(&body.token, &Password::new(body.password))
        .await?;
    Ok(Json(json!({ "user_id": user_id, "status": "verification_pending" })).into_response())
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage<'a> {
    t: Texts<'a>,
    token: &'a str,
    errors: Vec<String>,
    done: bool,
}

async fn accept_form(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    link_must_be_open(lang, state.services.invitation_is_open(&token).await)?;
    render::html(
        lang,
        &InvitePage {
            t: I18n::global().texts(lang),
            token: &token,
            errors: Vec::new(),
            done: false,
        },
    )
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    password: String,
}

async fn accept_submit(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    match state
        .services
        .accept_invitation(&token, &Password::new(form.password))
        .await
    {
        Ok(_) => render::html(
            lang,
            &InvitePage {
                t,
                token: &token,
                errors: Vec::new(),
                done: true,
            },
        ),
        Err(err @ DomainError::PasswordPolicy { .. }) => {
            let errors = form_messages(&err, "");
            render::html_with_status(
                lang,
                status_of(&err),
                &InvitePage {
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
