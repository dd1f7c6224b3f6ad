//! First-run set-up: the page behind the one-time link printed by `serve`, and its JSON
//! twin. The link's token is the only credential, so nothing here needs a session.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use termin_domain::DomainError;
use termin_domain::setup::NewPracticeInput;

use crate::AppState;
use crate::error::{ApiError, PageError, status_of};
use crate::extract::ApiJson;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/setup/{token}",
            Access::Public,
            get(show_form).post(submit_form),
        )
        .route("/api/v1/setup", Access::Public, post(api_setup))
}

#[derive(Deserialize, Default)]
pub struct SetupFields {
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    owner_email: String,
    #[serde(default)]
    owner_phone: String,
    #[serde(default)]
    password: String,
}

impl SetupFields {
    fn input(&self) -> NewPracticeInput<'_> {
        NewPracticeInput {
            org_name: &self.org_name,
            time_zone: self.time_zone.as_deref(),
            owner_email: &self.owner_email,
            owner_phone: &self.owner_phone,
            password: &self.password,
        }
    }
}

// ---- pages ----

struct FormField<'a> {
    name: &'static str,
    label_key: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: &'a str,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    t: Texts<'a>,
    token: &'a str,
    fields: Vec<FormField<'a>>,
    has_errors: bool,
}

#[derive(Template)]
#[template(path = "setup_done.html")]
struct SetupDone<'a> {
    t: Texts<'a>,
    slug: &'a str,
}

fn setup_page<'a>(
    lang: Lang,
    token: &'a str,
    values: &'a SetupFields,
    err: Option<&DomainError>,
) -> SetupPage<'a> {
    let t = I18n::global().texts(lang);
    let errors_for = |name: &str| -> Vec<String> {
        match err {
            Some(DomainError::Invalid(fields)) => {
                fields.get(name).map(<[String]>::to_vec).unwrap_or_default()
            }
            Some(DomainError::PasswordPolicy { violations }) if name == "password" => {
                violations.iter().map(|v| v.describe().to_owned()).collect()
            }
            Some(DomainError::Conflict { .. }) if name == "owner_email" => {
                vec![t.get("setup.conflict").to_owned()]
            }
            _ => Vec::new(),
        }
    };
    let field = |name, label_key, kind, autocomplete, value| FormField {
        name,
        label_key,
        kind,
        autocomplete,
        value,
        errors: errors_for(name),
    };
    SetupPage {
        t,
        token,
        has_errors: err.is_some(),
        fields: vec![
            field(
                "org_name",
                "setup.org_name",
                "text",
                "organization",
                &values.org_name,
            ),
            field(
                "time_zone",
                "setup.time_zone",
                "text",
                "off",
                values.time_zone.as_deref().unwrap_or("Europe/Berlin"),
            ),
            field(
                "owner_email",
                "setup.owner_email",
                "email",
                "email",
                &values.owner_email,
            ),
            field(
                "owner_phone",
                "setup.owner_phone",
                "tel",
                "tel",
                &values.owner_phone,
            ),
            // A password is never sent back to the browser.
            field("password", "setup.password", "password", "new-password", ""),
        ],
    }
}

async fn show_form(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    state
        .services
        .check_setup_link(&token)
        .await
        .map_err(|err| PageError { lang, err })?;
    let values = SetupFields::default();
    render::html(lang, &setup_page(lang, &token, &values, None))
}

async fn submit_form(
    State(state): State<AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Form(fields): Form<SetupFields>,
) -> Result<Response, PageError> {
    let created = state
        .services
        .create_practice_with_link(&token, fields.input())
        .await;
    match created {
        Ok(created) => render::html(
            lang,
            &SetupDone {
                t: I18n::global().texts(lang),
                slug: created.slug.as_str(),
            },
        ),
        // Input the visitor can correct: show the form again with the messages.
        Err(
            err @ (DomainError::Invalid(_)
            | DomainError::PasswordPolicy { .. }
            | DomainError::Conflict { .. }),
        ) => render::html_with_status(
            lang,
            status_of(&err),
            &setup_page(lang, &token, &fields, Some(&err)),
        ),
        Err(err) => Err(PageError { lang, err }),
    }
}

// ---- JSON API ----

#[derive(Deserialize)]
struct ApiSetup {
    token: String,
    #[serde(flatten)]
    fields: SetupFields,
}

/// `POST /api/v1/setup` `{"token","org_name","owner_email","owner_phone","password","time_zone"?}`
/// → 201 `{"org_id","slug","owner_id","owner_status"}`.
async fn api_setup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ApiSetup>,
) -> Result<Response, ApiError> {
    let created = state
        .services
        .create_practice_with_link(&body.token, body.fields.input())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "org_id": created.org_id,
            "slug": created.slug.as_str(),
            "owner_id": created.owner_id,
            "owner_status": "verification_pending",
        })),
    )
        .into_response())
}
