//! Cookies and the extractors that recognise the caller's session.
//!
//! The session cookie is `__Host-` prefixed (Secure, Path=/, no Domain), HttpOnly and
//! SameSite=Strict. State-changing requests of a cookie session must carry the session's
//! CSRF token in `X-CSRF-Token` (compared in constant time), else 403 `csrf`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use termin_app::auth::{ClientInfo, CurrentSession};
use termin_domain::DomainError;
use termin_domain::session::{DEVICE_TRUST, SessionStage};

use crate::AppState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "__Host-termin_session";
pub const DEVICE_COOKIE: &str = "__Host-termin_device";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Names the acting practice when a user belongs to several (API-CONTRACT.md).
pub const ORG_HEADER: &str = "x-termin-org";

/// The practice a request names in `X-Termin-Org`, if any.
pub fn org_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(ORG_HEADER).and_then(|v| v.to_str().ok())
}

/// The value of cookie `name`, if sent.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// A `Set-Cookie` value for a secret cookie; `max_age` `None` means a browser-session
/// cookie, `Some(0)` deletes it.
pub fn secret_cookie(name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let cookie = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict{age}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn session_cookie(token: &str) -> HeaderValue {
    secret_cookie(SESSION_COOKIE, token, None)
}

pub fn device_cookie(token: &str) -> HeaderValue {
    secret_cookie(DEVICE_COOKIE, token, Some(DEVICE_TRUST.as_secs()))
}

pub fn clear_session_cookie() -> HeaderValue {
    secret_cookie(SESSION_COOKIE, "", Some(0))
}

/// The CSRF token for forms: derived from the session cookie (never stored).
pub fn form_csrf_token(headers: &HeaderMap) -> String {
    read_cookie(headers, SESSION_COOKIE)
        .and_then(|c| termin_domain::token::SecretToken::parse(c).ok())
        .map(|t| t.derive("csrf").reveal().to_owned())
        .unwrap_or_default()
}

/// The session of a page request, if any. Pages redirect where the API answers 401, so
/// this does not reject.
pub async fn page_session(
    state: &AppState,
    lang: crate::i18n::Lang,
    headers: &HeaderMap,
) -> Result<Option<CurrentSession>, crate::error::PageError> {
    match read_cookie(headers, SESSION_COOKIE) {
        Some(cookie) => state
            .services
            .resolve_session(cookie, crate::client_ip::client_ip(headers))
            .await
            .map_err(|err| crate::error::PageError { lang, err }),
        None => Ok(None),
    }
}

/// The session of a form post, with the form's `csrf` field checked (403 when wrong).
pub async fn form_session(
    state: &AppState,
    lang: crate::i18n::Lang,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Option<CurrentSession>, crate::error::PageError> {
    match page_session(state, lang, headers).await? {
        Some(s) if !s.csrf_matches(Some(csrf)) => Err(crate::error::PageError {
            lang,
            err: DomainError::Csrf,
        }),
        other => Ok(other),
    }
}

/// The fully signed-in session of a page request; `None` (no session, or a login still
/// waiting for its second step) means the page sends the browser to the login.
pub async fn signed_in_page(
    state: &AppState,
    lang: crate::i18n::Lang,
    headers: &HeaderMap,
) -> Result<Option<CurrentSession>, crate::error::PageError> {
    Ok(page_session(state, lang, headers)
        .await?
        .filter(|s| s.stage == SessionStage::Authenticated))
}

/// [`signed_in_page`] for a form post, with the form's `csrf` field checked.
pub async fn signed_in_form(
    state: &AppState,
    lang: crate::i18n::Lang,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Option<CurrentSession>, crate::error::PageError> {
    Ok(form_session(state, lang, headers, csrf)
        .await?
        .filter(|s| s.stage == SessionStage::Authenticated))
}

/// A page's answer without a signed-in session: to the login page.
pub fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// To the login page with the session cookie cleared: the session has just ended.
pub fn signed_out_to_login() -> Response {
    let mut response = to_login();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie());
    response
}

/// The API's 204 for a request that ended the caller's own session: the cookie is cleared.
pub fn signed_out_no_content() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_session_cookie())],
    )
        .into_response()
}

/// Any live session (pending or authenticated), CSRF-checked for state-changing methods.
pub struct AnySession(pub CurrentSession);

/// A fully authenticated session.
pub struct Authenticated(pub CurrentSession);

/// A login waiting for its second step.
pub struct PendingLogin(pub CurrentSession);

async fn session_of(parts: &Parts, state: &AppState) -> Result<CurrentSession, ApiError> {
    let cookie = read_cookie(&parts.headers, SESSION_COOKIE).ok_or(DomainError::Unauthenticated)?;
    let session = state
        .services
        .resolve_session(cookie, crate::client_ip::client_ip(&parts.headers))
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if !safe && !session.csrf_matches(presented) {
        return Err(DomainError::Csrf.into());
    }
    Ok(session)
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        session_of(parts, state).await.map(Self)
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, state).await?;
        if session.stage != SessionStage::Authenticated {
            return Err(DomainError::Unauthenticated.into());
        }
        Ok(Self(session))
    }
}

impl FromRequestParts<AppState> for PendingLogin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = session_of(parts, state).await?;
        if session.stage != SessionStage::Pending {
            return Err(DomainError::invalid("method", "this login needs no further step").into());
        }
        Ok(Self(session))
    }
}

/// The caller's address and browser, for session and device records.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The client behind trusted proxies (see `client_ip`), else the peer.
        let ip = crate::client_ip::client_ip(&parts.headers)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        Ok(Self(ClientInfo { ip, user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("lang=de; __Host-termin_session=abc"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("__Host-termin_device=xyz"),
        );
        assert_eq!(read_cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(read_cookie(&headers, DEVICE_COOKIE), Some("xyz"));
        assert_eq!(read_cookie(&headers, "other"), None);
    }

    #[test]
    fn secret_cookies_carry_every_protective_attribute() {
        let cookie = session_cookie("abc");
        assert_eq!(
            cookie,
            "__Host-termin_session=abc; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        let device = device_cookie("xyz");
        assert!(
            device
                .to_str()
                .unwrap()
                .ends_with("SameSite=Strict; Max-Age=7776000")
        );
    }
}
