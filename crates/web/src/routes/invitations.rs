//! Invitations: the API for administrators, and the page behind the invitation link.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
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
use crate::session::{
    Authenticated, form_csrf_token, org_header, signed_in_form, signed_in_page, to_login,
};
use termin_domain::rights::Permission;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/invitations",
            Access::Staff(Permission::ManageUsers),
            post(invite),
        )
        .route("/api/v1/invitations/accept", Access::Public, post(accept))
        .route("/api/v1/invitations/join", Access::SignedIn, post(join))
        .route(
            "/invite/{token}",
            Access::Public,
            get(accept_form).post(accept_submit),
        )
        .route("/invite/{token}/join", Access::SignedIn, post(join_submit))
}

#[derive(Deserialize)]
struct JoinBody {
    #[serde(default)]
    token: String,
}

/// `POST /api/v1/invitations/join` `{"token"}` → 200 `{"slug"}`: a signed-in user joins the
/// practice that invited their address.
async fn join(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<Response, ApiError> {
    let slug = state.services.join_practice(&session, &body.token).await?;
    Ok(Json(json!({ "slug": slug })).into_response())
}

#[derive(Deserialize)]
struct JoinForm {
    #[serde(default)]
    csrf: String,
}

/// The page's "join with my account" button.
async fn join_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<JoinForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    state
        .services
        .join_practice(&session, &token)
        .await
        .map_err(|err| PageError { lang, err })?;
    Ok(Redirect::to("/app").into_response())
}

#[derive(Deserialize)]
struct InviteBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    practitioner_ids: Vec<String>,
}

/// `POST /api/v1/invitations` `{"email","phone","role","practitioner_ids"?}` → 201 `{"id"}`;
/// the practitioners narrow the new member's calendar permissions to their calendars.
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
                practitioner_ids: &body.practitioner_ids,
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
    /// The form token of a signed-in visitor, who may join with their account.
    join_csrf: Option<String>,
}

async fn accept_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    link_must_be_open(lang, state.services.invitation_is_open(&token).await)?;
    let join_csrf = signed_in_page(&state, lang, &headers)
        .await?
        .map(|_| form_csrf_token(&headers));
    render::html(
        lang,
        &InvitePage {
            t: I18n::global().texts(lang),
            token: &token,
            errors: Vec::new(),
            done: false,
            join_csrf,
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
                join_csrf: None,
            },
        ),
        Err(err @ (DomainError::PasswordPolicy { .. } | DomainError::Conflict { .. })) => {
            let errors = match &err {
                DomainError::Conflict { message, .. } => vec![message.clone()],
                _ => form_messages(&err, ""),
            };
            render::html_with_status(
                lang,
                status_of(&err),
                &InvitePage {
                    t,
                    token: &token,
                    errors,
                    done: false,
                    join_csrf: None,
                },
            )
        }
        Err(err) => Err(PageError { lang, err }),
    }
}
