//! A practice's users and their rights (S7), API of API-CONTRACT.md plus adjustments:
//! list, change role, adjust permissions, remove. The practice is picked by `X-Termin-Org`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::{Value, json};
use termin_app::users::Member;
use termin_domain::DomainError;
use termin_domain::ids::UserId;
use termin_domain::rights::{Adjustment, Adjustments, Scope};
use termin_domain::user::{Role, UserStatus};

use crate::AppState;
use crate::access::{ManageUsers, Require};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forms;
use crate::routes::table::{Access, Routes};
use crate::session::org_header;
use termin_domain::rights::Permission;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/users",
            Access::Staff(Permission::ManageUsers),
            get(list),
        )
        .route(
            "/api/v1/users/{user_id}",
            Access::Staff(Permission::ManageUsers),
            axum::routing::delete(remove),
        )
        .route(
            "/api/v1/users/{user_id}/role",
            Access::Staff(Permission::ManageUsers),
            put(change_role),
        )
        .route(
            "/api/v1/users/{user_id}/permissions",
            Access::Staff(Permission::ManageUsers),
            put(adjust),
        )
}

fn user_id(raw: &str) -> Result<UserId, DomainError> {
    forms::path_id(raw)
}

pub fn status_name(status: UserStatus) -> &'static str {
    match status {
        UserStatus::Active => "active",
        UserStatus::VerificationPending => "verification_pending",
        UserStatus::Disabled => "disabled",
    }
}

fn scope_json(scope: &Scope) -> Value {
    match scope {
        Scope::All => Value::Null,
        Scope::Practitioners(set) => json!(set.iter().map(ToString::to_string).collect::<Vec<_>>()),
    }
}

/// A member as the API shows it: effective permissions (with their practitioners where
/// narrowed) and the adjustments that made them.
fn member_json(member: &Member) -> Value {
    let rights = member.rights();
    let grants: Vec<Value> = member
        .adjustments
        .iter()
        .filter_map(|(p, a)| match a {
            Adjustment::Grant(scope) => Some(json!({
                "permission": p.as_str(),
                "practitioner_ids": scope_json(scope),
            })),
            Adjustment::Remove => None,
        })
        .collect();
    let removals: Vec<&str> = member
        .adjustments
        .iter()
        .filter(|(_, a)| matches!(a, Adjustment::Remove))
        .map(|(p, _)| p.as_str())
        .collect();
    json!({
        "id": member.user_id.to_string(),
        "email": member.email.as_str(),
        "role": member.role.as_str(),
        "permissions": rights.permissions().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        "scopes": rights
            .permissions()
            .filter(|(_, s)| matches!(s, Scope::Practitioners(_)))
            .map(|(p, s)| (p.as_str().to_owned(), scope_json(s)))
            .collect::<serde_json::Map<_, _>>(),
        "adjustments": {"grants": grants, "removals": removals},
        "status": status_name(member.status),
    })
}

/// `GET /api/v1/users` → `{"users":[{"id","email","role","permissions","status",…}]}`.
async fn list(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let users = state.services.users(&session, org_header(&headers)).await?;
    Ok(Json(json!({"users": users.iter().map(member_json).collect::<Vec<_>>()})).into_response())
}

#[derive(Deserialize)]
struct RoleBody {
    #[serde(default)]
    role: String,
}

/// `PUT /api/v1/users/{id}/role` `{"role"}` → 200 with the member.
async fn change_role(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Response, ApiError> {
    let role = Role::parse(&body.role).map_err(|e| DomainError::invalid("role", e.to_string()))?;
    let member = state
        .services
        .change_role(&session, org_header(&headers), user_id(&raw)?, role)
        .await?;
    Ok(Json(member_json(&member)).into_response())
}

#[derive(Deserialize)]
struct GrantBody {
    permission: String,
    practitioner_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct AdjustBody {
    #[serde(default)]
    grants: Vec<GrantBody>,
    #[serde(default)]
    removals: Vec<String>,
}

/// `PUT /api/v1/users/{id}/permissions`
/// `{"grants":[{"permission","practitioner_ids"?}],"removals":[…]}` → 200 with the member.
async fn adjust(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<AdjustBody>,
) -> Result<Response, ApiError> {
    let grants: Vec<(String, Option<Vec<String>>)> = body
        .grants
        .into_iter()
        .map(|g| (g.permission, g.practitioner_ids))
        .collect();
    let adjustments = Adjustments::parse(&grants, &body.removals)?;
    let member = state
        .services
        .adjust_rights(&session, org_header(&headers), user_id(&raw)?, adjustments)
        .await?;
    Ok(Json(member_json(&member)).into_response())
}

/// `DELETE /api/v1/users/{id}` → 204: the user leaves the practice (the account stays).
async fn remove(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageUsers>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .remove_member(&session, org_header(&headers), user_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
