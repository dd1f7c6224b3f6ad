//! The sign-in pages: the same steps as the login API, as plain HTML forms (they work
//! without JavaScript). Forms that change state carry the session's CSRF token.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use termin_app::auth::{CurrentSession, LoginRequest, LoginStatus, LoginStep, Method};
use termin_domain::DomainError;
use termin_domain::password::Password;
use termin_domain::session::SessionStage;

use crate::AppState;
use crate::error::PageError;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{
    Client, DEVICE_COOKIE, SESSION_COOKIE, device_cookie, form_csrf_token, form_session,
    page_session, read_cookie, session_cookie, signed_out_to_login, to_login,
};

pub fn routes() -> Routes {
    Routes::new()
        .route("/login", Access::Public, get(login_form).post(login_submit))
        .route(
            "/login/verify",
            Access::Login,
            get(verify_form).post(verify_submit),
        )
        .route("/login/resend", Access::Login, post(resend_submit))
        .route("/logout", Access::Login, post(logout_submit))
        .route("/app", Access::SignedIn, get(overview))
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Cookies from a login step, and a redirect to where the login continues.
fn continue_login(step: &LoginStep) -> Response {
    let target = if step.status == LoginStatus::Authenticated {
        "/app"
    } else {
        "/login/verify"
    };
    let mut response = see_other(target);
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

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    t: Texts<'a>,
    email: &'a str,
    failed: bool,
}

async fn login_form(lang: Lang) -> Result<Response, PageError> {
    render::html(
        lang,
        &LoginPage {
            t: I18n::global().texts(lang),
            email: "",
            failed: false,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let result = state
        .services
        .login(LoginRequest {
            email: &form.email,
            password: Password::new(form.password),
            device_token: read_cookie(&headers, DEVICE_COOKIE),
            client,
        })
        .await;
    match result {
        Ok(step) => {
            state
                .services
                .end_replaced_session(read_cookie(&headers, SESSION_COOKIE))
                .await
                .map_err(|err| PageError { lang, err })?;
            Ok(continue_login(&step))
        }
        Err(DomainError::InvalidCredentials) => render::html_with_status(
            lang,
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                t: I18n::global().texts(lang),
                email: &form.email,
                failed: true,
            },
        ),
        Err(err) => Err(PageError { lang, err }),
    }
}

struct VerifyStep {
    method: &'static str,
    heading_key: &'static str,
    intro_key: &'static str,
    /// Whether a new code can be sent (codes by e-mail or SMS).
    resendable: bool,
}

impl VerifyStep {
    fn new(method: &'static str, heading_key: &'static str, intro_key: &'static str) -> Self {
        Self {
            method,
            heading_key,
            intro_key,
            resendable: matches!(method, "sms" | "email"),
        }
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage<'a> {
    t: Texts<'a>,
    csrf: String,
    steps: Vec<VerifyStep>,
    failed: bool,
}

async fn render_verify(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    session: &CurrentSession,
    failed: bool,
) -> Result<Response, PageError> {
    let status = state
        .services
        .pending_step(session)
        .await
        .map_err(|err| PageError { lang, err })?;
    let steps = match status {
        LoginStatus::Authenticated => return Ok(see_other("/app")),
        // The strongest factor first; SMS last.
        LoginStatus::SecondFactorRequired { mut methods } => {
            methods.sort_by_key(|m| match m {
                Method::Passkey => 0,
                Method::Totp => 1,
                Method::RecoveryCode => 2,
                Method::Sms | Method::Email => 3,
            });
            methods
                .iter()
                .map(|m| match m {
                    Method::Passkey => {
                        VerifyStep::new("passkey", "verify.passkey_heading", "verify.passkey_intro")
                    }
                    Method::Totp => {
                        VerifyStep::new("totp", "verify.totp_heading", "verify.totp_intro")
                    }
                    Method::RecoveryCode => VerifyStep::new(
                        "recovery_code",
                        "verify.recovery_heading",
                        "verify.recovery_intro",
                    ),
                    _ => VerifyStep::new("sms", "verify.device_heading", "verify.device_intro"),
                })
                .collect()
        }
        LoginStatus::VerificationRequired { pending } => pending
            .iter()
            .map(|p| match *p {
                "email" => VerifyStep::new("email", "verify.email_heading", "verify.email_intro"),
                _ => VerifyStep::new("sms", "verify.phone_heading", "verify.phone_intro"),
            })
            .collect(),
    };
    let page = VerifyPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        steps,
        failed,
    };
    render::form_page(lang, failed, &page)
}

async fn verify_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match page_session(&state, lang, &headers).await? {
        Some(session) if session.stage == SessionStage::Pending => {
            render_verify(&state, lang, &headers, &session, false).await
        }
        Some(_) => Ok(see_other("/app")),
        None => Ok(to_login()),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    code: String,
}

async fn verify_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let Some(session) = form_session(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let method = Method::parse(&form.method).unwrap_or(Method::Sms);
    match state
        .services
        .verify(&session, method, &form.code, &client)
        .await
    {
        Ok(step) => Ok(continue_login(&step)),
        Err(DomainError::InvalidCode) => {
            render_verify(&state, lang, &headers, &session, true).await
        }
        Err(err) => Err(PageError { lang, err }),
    }
}

async fn resend_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let Some(session) = form_session(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let method = Method::parse(&form.method).unwrap_or(Method::Sms);
    match state.services.resend_code(&session, method).await {
        // Throttled or not: back to the form, which says where the code went.
        Ok(()) | Err(DomainError::Throttled { .. }) => Ok(see_other("/login/verify")),
        Err(err) => Err(PageError { lang, err }),
    }
}

async fn logout_submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    if let Some(session) = form_session(&state, lang, &headers, &form.csrf).await? {
        state
            .services
            .logout(&session)
            .await
            .map_err(|err| PageError { lang, err })?;
    }
    Ok(signed_out_to_login())
}

#[derive(Template)]
#[template(path = "app.html")]
struct Overview<'a> {
    t: Texts<'a>,
    csrf: String,
    email: String,
    practices: Vec<PracticeRow>,
}

struct PracticeRow {
    name: String,
    slug: String,
    role_key: &'static str,
    manages: bool,
    /// Holds the calendar right: the practice set-up pages (practitioners, visit types,
    /// patients) are open to them.
    sees_calendar: bool,
    /// The practice requires a strong factor for this role and the user has none yet.
    needs_strong_factor: bool,
}

async fn overview(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let session = match page_session(&state, lang, &headers).await? {
        Some(s) if s.stage == SessionStage::Authenticated => s,
        Some(_) => return Ok(see_other("/login/verify")),
        None => return Ok(to_login()),
    };
    let me = state
        .services
        .me(&session)
        .await
        .map_err(|err| PageError { lang, err })?;
    // Asked only when some practice requires a strong factor of this user.
    let lacks_strong_factor = me
        .memberships
        .iter()
        .any(|m| m.security.requires_strong_factor(m.role))
        && !state
            .services
            .has_strong_factor(session.user_id)
            .await
            .map_err(|err| PageError { lang, err })?;
    let page = Overview {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(&headers),
        email: me.user.email.as_str().to_owned(),
        practices: me
            .memberships
            .iter()
            .map(|m| PracticeRow {
                name: m.org_name.clone(),
                slug: m.org_slug.as_str().to_owned(),
                role_key: super::practice_security::role_label(m.role),
                manages: {
                    let rights = m.rights();
                    rights.has(termin_domain::rights::Permission::ManageUsers)
                        || rights.has(termin_domain::rights::Permission::ManageSettings)
                },
                sees_calendar: m
                    .rights()
                    .has(termin_domain::rights::Permission::ViewCalendar),
                needs_strong_factor: m.security.requires_strong_factor(m.role)
                    && lacks_strong_factor,
            })
            .collect(),
    };
    render::html(lang, &page)
}
