//! A practice's account-security settings: password policy and the roles that must use an
//! authenticator app or a passkey. The API acts in the practice named by `X-Termin-Org`;
//! the page in the practice of its path. Both for those who manage the practice's users.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_domain::DomainError;
use termin_domain::password::PasswordPolicy;
use termin_domain::security::SecuritySettings;
use termin_domain::user::Role;

use crate::AppState;
use crate::access::{ManageSettings, Require};
use crate::error::{ApiError, PageError};
use crate::extract::ApiJson;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, org_header, signed_in_form, signed_in_page, to_login};
use termin_domain::rights::Permission;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/settings/security",
            Access::Staff(Permission::ManageSettings),
            get(show).put(update),
        )
        .route(
            "/practices/{slug}/security",
            Access::Staff(Permission::ManageSettings),
            get(page).post(submit),
        )
}

fn settings_json(settings: &SecuritySettings) -> serde_json::Value {
    json!({
        "password_policy": settings.password_policy.as_str(),
        "strong_factor_roles": settings.strong_factor_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "session_idle_minutes": settings.sessions.idle_minutes(),
        "session_max_hours": settings.sessions.absolute_hours(),
    })
}

/// `GET /api/v1/settings/security` → `{"password_policy","strong_factor_roles"}`.
async fn show(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageSettings>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let org = org_header(&headers);
    let (_, settings) = state.services.security_settings(&session, org).await?;
    Ok(Json(settings_json(&settings)).into_response())
}

#[derive(Deserialize)]
struct SettingsBody {
    #[serde(default)]
    password_policy: String,
    #[serde(default)]
    strong_factor_roles: Vec<String>,
    /// Optional: the defaults (30 minutes, 12 hours) when left out.
    session_idle_minutes: Option<i64>,
    session_max_hours: Option<i64>,
}

/// `PUT /api/v1/settings/security` `{"password_policy","strong_factor_roles"}` → 200 with
/// the settings now in force.
async fn update(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageSettings>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Response, ApiError> {
    let org = org_header(&headers);
    let settings = SecuritySettings::parse(
        &body.password_policy,
        &body.strong_factor_roles,
        body.session_idle_minutes,
        body.session_max_hours,
    )?;
    let saved = state
        .services
        .update_security_settings(&session, org, settings)
        .await?;
    Ok(Json(settings_json(&saved)).into_response())
}

struct RoleChoice {
    name: &'static str,
    label_key: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "practice_security.html")]
struct SecurityPage<'a> {
    t: Texts<'a>,
    csrf: String,
    slug: String,
    practice: String,
    length_only: bool,
    roles: Vec<RoleChoice>,
    idle_minutes: i64,
    max_hours: i64,
    saved: bool,
    error: Option<String>,
}

fn render_page(
    lang: Lang,
    headers: &HeaderMap,
    (slug, practice): (&str, &str),
    settings: &SecuritySettings,
    saved: bool,
    error: Option<String>,
) -> Result<Response, PageError> {
    let page = SecurityPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        slug: slug.to_owned(),
        practice: practice.to_owned(),
        length_only: settings.password_policy == PasswordPolicy::LengthOnly,
        roles: Role::ALL
            .into_iter()
            .map(|r| RoleChoice {
                name: r.as_str(),
                label_key: role_label(r),
                checked: settings.requires_strong_factor(r),
            })
            .collect(),
        idle_minutes: settings.sessions.idle_minutes(),
        max_hours: settings.sessions.absolute_hours(),
        saved,
        error,
    };
    render::form_page(lang, page.error.is_some(), &page)
}

/// The catalogue key of a role's display name.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "role.owner",
        Role::Administrator => "role.administrator",
        Role::Practitioner => "role.practitioner",
        Role::Assistant => "role.assistant",
        Role::Reception => "role.reception",
        Role::ReadOnly => "role.read_only",
    }
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_page(&state, lang, &headers).await? else {
        return Ok(to_login());
    };
    let (membership, settings) = state
        .services
        .security_settings(&session, Some(&slug))
        .await
        .map_err(|err| PageError { lang, err })?;
    render_page(
        lang,
        &headers,
        (&slug, &membership.org_name),
        &settings,
        false,
        None,
    )
}

/// The form: `csrf`, `password_policy`, and one `role` field per checked role.
async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| forms::field(&fields, name);
    let Some(session) = signed_in_form(&state, lang, &headers, field("csrf")).await? else {
        return Ok(to_login());
    };
    let (membership, current) = state
        .services
        .security_settings(&session, Some(&slug))
        .await
        .map_err(|err| PageError { lang, err })?;
    let roles = forms::values(&fields, "role");
    let practice = (slug.as_str(), membership.org_name.as_str());
    // A number field that is not a number is out of bounds: the bounds are the message.
    let number = |name: &str| {
        let raw = field(name).trim();
        (!raw.is_empty()).then(|| raw.parse::<i64>().unwrap_or(i64::MIN))
    };
    let result = match SecuritySettings::parse(
        field("password_policy"),
        &roles,
        number("session_idle_minutes"),
        number("session_max_hours"),
    ) {
        Ok(settings) => {
            state
                .services
                .update_security_settings(&session, Some(&slug), settings)
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(saved) => render_page(lang, &headers, practice, &saved, true, None),
        Err(DomainError::Invalid(fields)) => {
            let message = forms::messages(&fields);
            render_page(lang, &headers, practice, &current, false, Some(message))
        }
        Err(err) => Err(PageError { lang, err }),
    }
}
