//! Confirming the password again before sensitive actions (a sign-in within the last ten
//! minutes): API and page. The session gets new tokens, as at every privilege change.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use termin_domain::DomainError;
use termin_domain::password::Password;

use crate::AppState;
use crate::error::{ApiError, PageError};
use crate::extract::ApiJson;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{
    Authenticated, Client, form_csrf_token, session_cookie, signed_in_form, signed_in_page,
    to_login,
};

pub fn routes() -> Routes {
    Routes::new()
        .route("/api/v1/auth/reauthenticate", Access::SignedIn, post(api))
        .route("/reauth", Access::SignedIn, get(page).post(submit))
}

#[derive(Deserialize)]
struct ReauthBody {
    #[serde(default)]
    password: String,
}

/// `POST /api/v1/auth/reauthenticate` `{"password"}` → 200
/// `{"status":"authenticated","csrf_token"}` with a new session cookie; a wrong password
/// → 422 on `password`.
async fn api(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    Client(client): Client,
    ApiJson(body): ApiJson<ReauthBody>,
) -> Result<Response, ApiError> {
    let step = state
        .services
        .reauthenticate(&session, &Password::new(body.password), &client)
        .await
        .map_err(password_field)?;
    let mut response = Json(json!({
        "status": "authenticated",
        "csrf_token": step.csrf_token.reveal(),
    }))
    .into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(step.session_token.reveal()),
    );
    Ok(response)
}

/// The password check reports on `current_password` (shared with the password change);
/// here the field is `password`.
fn password_field(err: DomainError) -> DomainError {
    match err {
        DomainError::Invalid(_) => DomainError::invalid("password", "is not your password"),
        other => other,
    }
}

/// Where to go afterwards: only a plain path of this site, made of the characters page
/// paths use. Anything else — `//host`, a URL, a backslash, a tab or other control
/// character that a browser would drop to leave the site — goes to the overview.
fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && next.len() <= 512
                && next.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')
                }) =>
        {
            next.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage<'a> {
    t: Texts<'a>,
    csrf: String,
    next: String,
    failed: bool,
}

fn render_page(
    lang: Lang,
    headers: &HeaderMap,
    next: String,
    failed: bool,
) -> Result<Response, PageError> {
    let page = ReauthPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        next,
        failed,
    };
    render::form_page(lang, failed, &page)
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    if signed_in_page(&state, lang, &headers).await?.is_none() {
        return Ok(to_login());
    }
    render_page(lang, &headers, safe_next(query.next.as_deref()), false)
}

#[derive(Deserialize)]
struct ReauthForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Client(client): Client,
    Form(form): Form<ReauthForm>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_form(&state, lang, &headers, &form.csrf).await? else {
        return Ok(to_login());
    };
    let next = safe_next(form.next.as_deref());
    match state
        .services
        .reauthenticate(&session, &Password::new(form.password), &client)
        .await
    {
        Ok(step) => {
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(step.session_token.reveal()),
            );
            Ok(response)
        }
        Err(DomainError::Invalid(_)) => render_page(lang, &headers, next, true),
        Err(err) => Err(PageError { lang, err }),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(safe_next(Some("//evil.example/x")), "/app");
        assert_eq!(safe_next(Some("https://evil.example")), "/app");
        assert_eq!(safe_next(Some("/\\evil.example")), "/app");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/app");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/app");
        assert_eq!(
            safe_next(Some("/practices/praxis-am-see/security")),
            "/practices/praxis-am-see/security"
        );
        assert_eq!(safe_next(None), "/app");
    }
}
