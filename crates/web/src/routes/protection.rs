//! The administrators' view of attacks on their staff's accounts (S8) and the ending of a
//! member's sessions (S6): locked accounts, blocked sources, recent failures; unlock,
//! unblock, end sessions. API (practice by `X-Termin-Org`) and page (practice by path).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_app::lockouts::LockoutOverview;
use termin_domain::DomainError;
use termin_domain::ids::UserId;

use crate::AppState;
use crate::access::{ManageUsers, Require};
use crate::error::{ApiError, PageError};
use crate::extract::ApiJson;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::practice_security::role_label;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, org_header, signed_in_form, signed_in_page, to_login};
use termin_domain::rights::Permission;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/security/lockouts",
            Access::Staff(Permission::ManageUsers),
            get(overview),
        )
        .route(
            "/api/v1/security/lockouts/{user_id}/unlock",
            Access::Staff(Permission::ManageUsers),
            post(unlock),
        )
        .route(
            "/api/v1/security/blocked-sources/unblock",
            Access::Staff(Permission::ManageUsers),
            post(unblock),
        )
        .route(
            "/api/v1/users/{user_id}/sessions/end-all",
            Access::Staff(Permission::ManageUsers),
            post(end_sessions),
        )
        .route(
            "/practices/{slug}/protection",
            Access::Staff(Permission::ManageUsers),
            get(page),
        )
        .route(
            "/practices/{slug}/protection/{action}",
            Access::Staff(Permission::ManageUsers),
            post(submit),
        )
}

fn user_id(raw: &str) -> Result<UserId, DomainError> {
    forms::path_id(raw)
}

fn overview_json(overview: &LockoutOverview) -> serde_json::Value {
    json!({
        "locked_accounts": overview.locked_accounts.iter().map(|a| json!({
            "user_id": a.user_id.to_string(),
            "email": a.email,
            "failures": a.failures,
            "locked_until": a.locked_until.map(|t| t.to_string()),
            "permanent": a.locked_until.is_none(),
        })).collect::<Vec<_>>(),
        "blocked_sources": overview.blocked_sources.iter().map(|seen| json!({
            "source": seen.block.source,
            "kind": seen.block.kind.as_str(),
            "reason": seen.block.reason,
            "blocked_at": seen.block.blocked_at.to_string(),
            "blocked_until": seen.block.blocked_until.to_string(),
            "can_unblock": seen.only_ours,
        })).collect::<Vec<_>>(),
        "recent_failures": overview.recent_failures.iter().map(|f| json!({
            "at": f.at.to_string(),
            "user_id": f.user_id.map(|u| u.to_string()),
            "email": f.email,
            "ip": f.ip,
            "kind": f.kind.as_str(),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/security/lockouts` →
/// `{"locked_accounts":[…],"blocked_sources":[…],"recent_failures":[…]}`.
async fn overview(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, overview) = state
        .services
        .lockout_overview(&session, org_header(&headers))
        .await?;
    Ok(Json(overview_json(&overview)).into_response())
}

/// `POST /api/v1/security/lockouts/{user_id}/unlock` → 204; 404 for a non-member.
async fn unlock(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .unlock_member(&session, org_header(&headers), user_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct UnblockBody {
    #[serde(default)]
    source: String,
}

/// `POST /api/v1/security/blocked-sources/unblock` `{"source"}` → 204; 404 for a source
/// this practice does not see.
async fn unblock(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UnblockBody>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .unblock_source(&session, org_header(&headers), &body.source)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{user_id}/sessions/end-all` → 200 `{"ended": n}`; 404 for a
/// non-member.
async fn end_sessions(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let ended = state
        .services
        .end_member_sessions(&session, org_header(&headers), user_id(&raw)?)
        .await?;
    Ok(Json(json!({ "ended": ended })).into_response())
}

struct MemberRow {
    id: String,
    email: String,
    role_key: &'static str,
}

struct LockedRow {
    id: String,
    email: String,
    failures: u32,
    until: Option<String>,
}

struct BlockRow {
    source: String,
    reason: String,
    until: String,
    /// Only sources that tried nothing but this practice's accounts.
    can_unblock: bool,
}

struct FailureRow {
    at: String,
    email: String,
    ip: String,
    kind: &'static str,
}

#[derive(Template)]
#[template(path = "protection.html")]
struct ProtectionPage<'a> {
    t: Texts<'a>,
    csrf: String,
    slug: String,
    practice: String,
    notice: Option<&'static str>,
    members: Vec<MemberRow>,
    locked: Vec<LockedRow>,
    blocked: Vec<BlockRow>,
    failures: Vec<FailureRow>,
}

fn shown(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

async fn render_page(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    session: &termin_app::auth::CurrentSession,
    slug: &str,
    notice: Option<&'static str>,
) -> Result<Response, PageError> {
    let (membership, overview) = state
        .services
        .lockout_overview(session, Some(slug))
        .await
        .map_err(|err| PageError { lang, err })?;
    let page = ProtectionPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        slug: slug.to_owned(),
        practice: membership.org_name,
        notice,
        members: overview
            .members
            .iter()
            .map(|m| MemberRow {
                id: m.user_id.to_string(),
                email: m.email.as_str().to_owned(),
                role_key: role_label(m.role),
            })
            .collect(),
        locked: overview
            .locked_accounts
            .iter()
            .map(|a| LockedRow {
                id: a.user_id.to_string(),
                email: a.email.clone(),
                failures: a.failures,
                until: a.locked_until.map(shown),
            })
            .collect(),
        blocked: overview
            .blocked_sources
            .iter()
            .map(|seen| BlockRow {
                source: seen.block.source.clone(),
                reason: seen.block.reason.clone(),
                until: shown(seen.block.blocked_until),
                can_unblock: seen.only_ours,
            })
            .collect(),
        failures: overview
            .recent_failures
            .iter()
            .map(|f| FailureRow {
                at: shown(f.at),
                email: f.email.clone().unwrap_or_default(),
                ip: f.ip.clone(),
                kind: f.kind.as_str(),
            })
            .collect(),
    };
    render::html(lang, &page)
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(done): Query<forms::Done>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_page(&state, lang, &headers).await? else {
        return Ok(to_login());
    };
    let notice = match done.done.as_deref() {
        Some("unlock") => Some("protection.unlocked"),
        Some("unblock") => Some("protection.unblocked"),
        Some("end-sessions") => Some("protection.sessions_ended"),
        _ => None,
    };
    render_page(&state, lang, &headers, &session, &slug, notice).await
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    source: String,
}

/// `unlock` (`user_id`), `unblock` (`source`) or `end-sessions` (`user_id`); then back to
/// the page with a notice.
async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let services = &state.services;
    let org = Some(slug.as_str());
    // The right first: without it, nothing about the form's content is answered.
    services
        .acting_with(&session, org, Permission::ManageUsers)
        .await
        .map_err(|err| PageError { lang, err })?;
    let result = match action.as_str() {
        "unlock" => match user_id(&form.user_id) {
            Ok(user) => services.unlock_member(&session, org, user).await,
            Err(err) => Err(err),
        },
        "unblock" => services.unblock_source(&session, org, &form.source).await,
        "end-sessions" => match user_id(&form.user_id) {
            Ok(user) => services
                .end_member_sessions(&session, org, user)
                .await
                .map(|_| ()),
            Err(err) => Err(err),
        },
        _ => Err(DomainError::NotFound),
    };
    result.map_err(|err| PageError { lang, err })?;
    Ok(Redirect::to(&format!("/practices/{slug}/protection?done={action}")).into_response())
}
