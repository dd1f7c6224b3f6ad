//! The account-security page: password change, second factors (with the warning that SMS
//! is the weakest), TOTP enrolment with QR code and recovery codes, passkeys, trusted
//! devices and sessions.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Deserialize;
use termin_app::auth::CurrentSession;
use termin_domain::DomainError;
use termin_domain::password::Password;

use crate::AppState;
use crate::error::{PageError, form_messages};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{
    Client, DEVICE_COOKIE, form_csrf_token, read_cookie, signed_in_form, signed_in_page,
    signed_out_to_login, to_login,
};

pub fn routes() -> Routes {
    Routes::new()
        .route("/account", Access::SignedIn, get(page))
        .route("/account/password", Access::SignedIn, post(change_password))
        .route("/account/totp", Access::SignedIn, post(start_totp))
        .route(
            "/account/totp/confirm",
            Access::SignedIn,
            post(confirm_totp),
        )
        .route(
            "/account/{what}/{id}/remove",
            Access::SignedIn,
            post(remove_item),
        )
        .route(
            "/account/sessions/end-others",
            Access::SignedIn,
            post(end_other_sessions),
        )
}

struct DeviceRow {
    id: String,
    name: String,
    last_used: String,
    ip: String,
    current: bool,
}

struct SessionRow {
    id: String,
    device: String,
    ip: String,
    started: String,
    last_seen: String,
    current: bool,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
}

struct Enrolment {
    secret: String,
    qr_base64: String,
}

/// What the page shows once, after an action.
#[derive(Default)]
struct Outcome {
    enrolment: Option<Enrolment>,
    recovery_codes: Option<Vec<String>>,
    password_errors: Vec<String>,
    password_changed: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    t: Texts<'a>,
    csrf: String,
    totp_active: bool,
    enrolment: Option<Enrolment>,
    recovery_codes: Option<Vec<String>>,
    password_errors: Vec<String>,
    password_changed: bool,
    devices: Vec<DeviceRow>,
    passkeys: Vec<PasskeyRow>,
    sessions: Vec<SessionRow>,
}

fn shown(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

async fn render_page(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    session: &CurrentSession,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let err = |err| PageError { lang, err };
    let devices = state
        .services
        .trusted_devices(session, read_cookie(headers, DEVICE_COOKIE))
        .await
        .map_err(err)?
        .into_iter()
        .map(|d| DeviceRow {
            id: d.device.id,
            name: d.device.name,
            last_used: shown(d.device.last_used_at),
            ip: d.device.last_ip,
            current: d.current,
        })
        .collect();
    let passkeys = state
        .services
        .passkeys(session)
        .await
        .map_err(err)?
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            created: shown(p.created_at),
            last_used: p.last_used_at.map(shown),
        })
        .collect();
    let sessions = state
        .services
        .sessions(session)
        .await
        .map_err(err)?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            device: s.device,
            ip: s.ip,
            started: shown(s.created_at),
            last_seen: shown(s.last_seen_at),
            current: s.current,
        })
        .collect();
    let page = AccountPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        totp_active: state.services.totp_active(session).await.map_err(err)?,
        enrolment: outcome.enrolment,
        recovery_codes: outcome.recovery_codes,
        devices,
        passkeys,
        sessions,
        password_changed: outcome.password_changed,
        password_errors: outcome.password_errors,
    };
    render::form_page(lang, !page.password_errors.is_empty(), &page)
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match signed_in_page(&state, lang, &headers).await? {
        Some(session) => render_page(&state, lang, &headers, &session, Outcome::default()).await,
        None => Ok(to_login()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn start_totp(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let enrolment = state
        .services
        .start_totp_enrolment(&session)
        .await
        .map_err(|err| PageError { lang, err })?;
    let shown = Enrolment {
        secret: enrolment.secret_base32,
        qr_base64: base64::engine::general_purpose::STANDARD.encode(enrolment.qr_svg),
    };
    let outcome = Outcome {
        enrolment: Some(shown),
        ..Outcome::default()
    };
    render_page(&state, lang, &headers, &session, outcome).await
}

async fn confirm_totp(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let codes = state
        .services
        .confirm_totp(&session, &form.code)
        .await
        .map_err(|err| PageError { lang, err })?;
    let codes = codes.iter().map(|c| c.reveal().to_owned()).collect();
    let outcome = Outcome {
        recovery_codes: Some(codes),
        ..Outcome::default()
    };
    render_page(&state, lang, &headers, &session, outcome).await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    /// A checkbox: present when ticked.
    end_other_sessions: Option<String>,
}

/// `POST /account/password`: the current password (which is also the confirmation a
/// sensitive action needs), the new one, and whether to sign out everywhere else.
async fn change_password(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Client(client): Client,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let t = I18n::global().texts(lang);
    let result = state
        .services
        .change_password(
            &session,
            &Password::new(form.current_password),
            &Password::new(form.new_password),
            form.end_other_sessions.is_some(),
            &client,
        )
        .await;
    let outcome = match result {
        Ok(()) => Outcome {
            password_changed: true,
            ..Outcome::default()
        },
        Err(DomainError::Invalid(_)) => Outcome {
            password_errors: vec![t.get("account.password_wrong").to_owned()],
            ..Outcome::default()
        },
        Err(err @ DomainError::PasswordPolicy { .. }) => Outcome {
            password_errors: form_messages(&err, ""),
            ..Outcome::default()
        },
        Err(err) => return Err(PageError { lang, err }),
    };
    render_page(&state, lang, &headers, &session, outcome).await
}

/// What a "remove" button on the account page removes.
enum Removal {
    Device,
    Passkey,
    Session,
}

async fn remove(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    csrf: &str,
    (what, id): (Removal, &str),
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(state, lang, headers, csrf).await? else {
        return Ok(to_login());
    };
    let removed = match what {
        Removal::Device => state.services.remove_trusted_device(&session, id).await,
        Removal::Passkey => state.services.remove_passkey(&session, id).await,
        Removal::Session => state.services.end_session(&session, id).await,
    };
    removed.map_err(|err| PageError { lang, err })?;
    if id == session.session_id {
        // The user ended the session they are using: back to the login page.
        return Ok(signed_out_to_login());
    }
    Ok(Redirect::to("/account").into_response())
}

/// `POST /account/{devices|passkeys|sessions}/{id}/remove`.
async fn remove_item(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((what, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let what = match what.as_str() {
        "devices" => Removal::Device,
        "passkeys" => Removal::Passkey,
        "sessions" => Removal::Session,
        _ => {
            return Err(PageError {
                lang,
                err: DomainError::NotFound,
            });
        }
    };
    remove(&state, lang, &headers, &form.csrf, (what, &id)).await
}

async fn end_other_sessions(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    state
        .services
        .end_all_sessions(&session, true)
        .await
        .map_err(|err| PageError { lang, err })?;
    Ok(Redirect::to("/account").into_response())
}
