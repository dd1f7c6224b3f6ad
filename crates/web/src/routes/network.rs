//! Practice-network rules (S10): the networks staff may act from, optionally for some roles
//! only, and the staff requests refused for coming from elsewhere. API of API-CONTRACT.md
//! (practice by `X-Termin-Org`) and a page (practice by path).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_domain::DomainError;
use termin_domain::network::NetworkRule;
use termin_domain::rights::Permission;
use termin_domain::user::Role;

use crate::AppState;
use crate::access::{ManageSettings, Require};
use crate::error::{ApiError, PageError};
use crate::extract::ApiJson;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::practice_security::role_label;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, org_header, signed_in_form, signed_in_page, to_login};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/settings/network-rules",
            Access::Staff(Permission::ManageSettings),
            get(show).put(update),
        )
        .route(
            "/practices/{slug}/network",
            Access::Staff(Permission::ManageSettings),
            get(page).post(submit),
        )
}

fn rule_json(rule: &NetworkRule) -> serde_json::Value {
    json!({
        "allowed_networks": rule.allowed.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "roles": rule.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/settings/network-rules` → `{"allowed_networks","roles"}`.
async fn show(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageSettings>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, rule) = state
        .services
        .network_rule(&session, org_header(&headers))
        .await?;
    Ok(Json(rule_json(&rule)).into_response())
}

#[derive(Deserialize)]
struct RuleBody {
    #[serde(default)]
    allowed_networks: Vec<String>,
    /// The roles the rule binds; none: all staff.
    #[serde(default)]
    roles: Vec<String>,
}

/// `PUT /api/v1/settings/network-rules` `{"allowed_networks":[CIDR…],"roles"?}` → 200 with
/// the rule in force (an empty list: no restriction).
async fn update(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageSettings>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RuleBody>,
) -> Result<Response, ApiError> {
    let rule = NetworkRule::parse(&body.allowed_networks, &body.roles)?;
    let saved = state
        .services
        .update_network_rule(&session, org_header(&headers), rule)
        .await?;
    Ok(Json(rule_json(&saved)).into_response())
}

struct RoleChoice {
    name: &'static str,
    label_key: &'static str,
    checked: bool,
}

struct Denial {
    at: String,
    source: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "network.html")]
struct NetworkPage<'a> {
    t: Texts<'a>,
    csrf: String,
    slug: String,
    practice: String,
    networks: String,
    roles: Vec<RoleChoice>,
    denials: Vec<Denial>,
    saved: bool,
    error: Option<String>,
}

async fn render_page(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    (session, slug): (&termin_app::auth::CurrentSession, &str),
    (rule, networks_text): (&NetworkRule, Option<String>),
    (saved, error): (bool, Option<String>),
) -> Result<Response, PageError> {
    let err = |err| PageError { lang, err };
    let (membership, _) = state
        .services
        .network_rule(session, Some(slug))
        .await
        .map_err(err)?;
    let denials = state
        .services
        .network_denials(session, Some(slug))
        .await
        .map_err(err)?
        .into_iter()
        .map(|e| Denial {
            at: e.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            source: e.source.unwrap_or_default(),
            detail: e.detail,
        })
        .collect();
    let page = NetworkPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        slug: slug.to_owned(),
        practice: membership.org_name,
        networks: networks_text.unwrap_or_else(|| {
            rule.allowed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        }),
        roles: Role::ALL
            .into_iter()
            .map(|r| RoleChoice {
                name: r.as_str(),
                label_key: role_label(r),
                checked: rule.roles.contains(&r),
            })
            .collect(),
        denials,
        saved,
        error,
    };
    render::form_page(lang, page.error.is_some(), &page)
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
    let (_, rule) = state
        .services
        .network_rule(&session, Some(&slug))
        .await
        .map_err(|err| PageError { lang, err })?;
    render_page(
        &state,
        lang,
        &headers,
        (&session, &slug),
        (&rule, None),
        (false, None),
    )
    .await
}

/// The form: `csrf`, `networks` (one CIDR per line) and one `role` field per checked role.
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
    let (_, current) = state
        .services
        .network_rule(&session, Some(&slug))
        .await
        .map_err(|err| PageError { lang, err })?;
    let networks: Vec<String> = field("networks")
        .split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let roles = forms::values(&fields, "role");
    let result = match NetworkRule::parse(&networks, &roles) {
        Ok(rule) => {
            state
                .services
                .update_network_rule(&session, Some(&slug), rule)
                .await
        }
        Err(err) => Err(err),
    };
    let at = (&session, slug.as_str());
    match result {
        Ok(saved) => render_page(&state, lang, &headers, at, (&saved, None), (true, None)).await,
        Err(DomainError::Invalid(errors)) => {
            let message = forms::messages(&errors);
            let typed = Some(networks.join("\n"));
            render_page(
                &state,
                lang,
                &headers,
                at,
                (&current, typed),
                (false, Some(message)),
            )
            .await
        }
        Err(err) => Err(PageError { lang, err }),
    }
}
