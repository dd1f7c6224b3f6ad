//! The one place where errors become HTTP responses.
//!
//! [`DomainError`] maps to a status and a machine code here and nowhere else. API handlers
//! return [`ApiError`] (JSON body as in API-CONTRACT.md), page handlers return
//! [`PageError`] (an HTML page in the visitor's language). Internal errors get a fixed body;
//! their cause goes to the log, inside the request's span (so with its request id).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use termin_domain::DomainError;

use crate::i18n::{Lang, Texts};

/// The JSON error shape of the API contract.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fields: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub violations: Option<Vec<String>>,
}

impl ErrorBody {
    pub fn new(error: &str, message: impl Into<String>) -> Self {
        Self {
            error: error.to_owned(),
            message: message.into(),
            fields: None,
            violations: None,
        }
    }
}

/// Status, machine code and client-safe message for an error.
struct Mapped {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn map(err: &DomainError) -> Mapped {
    let (code, message) = match err {
        DomainError::NotFound => ("not_found", "Not found.".to_owned()),
        DomainError::Unauthenticated => ("not_authenticated", "Please sign in.".to_owned()),
        DomainError::InvalidCredentials => (
            "invalid_credentials",
            "The e-mail address or the password is wrong.".to_owned(),
        ),
        DomainError::InvalidCode => (
            "invalid_code",
            "The code is wrong or no longer valid. Request a new one if needed.".to_owned(),
        ),
        DomainError::Csrf => ("csrf", "The request lacks a valid CSRF token.".to_owned()),
        DomainError::Throttled { .. } => (
            "throttled",
            "Too many requests. Please wait a moment and try again.".to_owned(),
        ),
        DomainError::Forbidden => ("forbidden", "You are not allowed to do this.".to_owned()),
        DomainError::NetworkNotAllowed => (
            "network_not_allowed",
            "Your practice allows this only from its own networks (practice network, VPN).".to_owned(),
        ),
        DomainError::ReauthenticationRequired => (
            "reauthentication_required",
            "Please confirm your password first: this action needs a sign-in within the last ten minutes.".to_owned(),
        ),
        DomainError::StrongFactorRequired => (
            "strong_factor_required",
            "Your practice requires an authenticator app or a passkey for your role: set one up on the account page first.".to_owned(),
        ),
        DomainError::Conflict { code, message } => (*code, message.clone()),
        DomainError::Invalid(_) => ("validation", "Some fields are invalid.".to_owned()),
        DomainError::PasswordPolicy { .. } => (
            "password_policy",
            "The password does not meet the password rules.".to_owned(),
        ),
        DomainError::Unavailable => (
            "unavailable",
            "Termin is busy right now. Please try again in a moment.".to_owned(),
        ),
        DomainError::Internal(cause) => {
            // The cause's Display chain only: Debug forms of database errors can carry row
            // data (PostgreSQL's "Failing row contains …").
            tracing::error!(error = %display_chain(cause.as_ref()), "internal error");
            (
                "internal",
                "Something went wrong on our side. Please try again later.".to_owned(),
            )
        }
    };
    Mapped {
        status: status_of(err),
        code,
        message,
    }
}

/// `cause: source: source …`, each by its Display.
fn display_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(source) = next {
        out.push_str(": ");
        out.push_str(&source.to_string());
        next = source.source();
    }
    out
}

/// For the page behind an e-mailed link: `Ok` when the link can still be used, otherwise
/// the "not found" page (unknown, used and expired links look the same).
pub fn link_must_be_open(lang: Lang, open: Result<bool, DomainError>) -> Result<(), PageError> {
    match open {
        Ok(true) => Ok(()),
        Ok(false) => Err(PageError {
            lang,
            err: DomainError::NotFound,
        }),
        Err(err) => Err(PageError { lang, err }),
    }
}

/// What a form shows for a password-policy violation: each broken rule; for other
/// errors the given fallback text.
pub fn form_messages(err: &DomainError, fallback: &str) -> Vec<String> {
    match err {
        DomainError::PasswordPolicy { violations } => {
            violations.iter().map(|v| v.describe().to_owned()).collect()
        }
        _ => vec![fallback.to_owned()],
    }
}

/// The HTTP status a domain error is answered with.
pub fn status_of(err: &DomainError) -> StatusCode {
    match err {
        DomainError::NotFound => StatusCode::NOT_FOUND,
        DomainError::Unauthenticated | DomainError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        DomainError::InvalidCode => StatusCode::UNPROCESSABLE_ENTITY,
        DomainError::Csrf => StatusCode::FORBIDDEN,
        DomainError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        DomainError::Forbidden
        | DomainError::StrongFactorRequired
        | DomainError::ReauthenticationRequired
        | DomainError::NetworkNotAllowed => StatusCode::FORBIDDEN,
        DomainError::Conflict { .. } => StatusCode::CONFLICT,
        DomainError::Invalid(_) | DomainError::PasswordPolicy { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        DomainError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: u32 = 5;

fn with_retry_after(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

/// An error answered as JSON.
#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    /// The request itself is malformed (bad JSON, wrong content type, bad path parameter).
    Malformed(String),
    /// The body is larger than any request of Termin's needs.
    TooLarge,
    /// The route exists, but not for this method.
    MethodNotAllowed,
    /// The service cannot answer now; the client should retry (503 with `Retry-After`).
    Unavailable {
        code: &'static str,
        message: String,
    },
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        Self::Domain(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Malformed(message) => json_error(
                StatusCode::BAD_REQUEST,
                ErrorBody::new("malformed", message),
            ),
            ApiError::MethodNotAllowed => json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorBody::new("method_not_allowed", "This method is not allowed here."),
            ),
            ApiError::TooLarge => json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new("too_large", "The request body is too large."),
            ),
            ApiError::Unavailable { code, message } => with_retry_after(json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorBody::new(code, message),
            )),
            ApiError::Domain(err) => {
                let mapped = map(&err);
                let mut body = ErrorBody::new(mapped.code, mapped.message);
                let retry_after = match &err {
                    DomainError::Throttled { retry_after_secs } => Some(*retry_after_secs),
                    _ => None,
                };
                match err {
                    DomainError::Invalid(fields) => {
                        body.fields = Some(
                            fields
                                .iter()
                                .map(|(k, v)| (k.to_owned(), v.to_vec()))
                                .collect(),
                        );
                    }
                    DomainError::PasswordPolicy { violations } => {
                        body.violations =
                            Some(violations.iter().map(|v| v.code().to_owned()).collect());
                        body.fields = Some(BTreeMap::from([(
                            "password".to_owned(),
                            violations.iter().map(|v| v.describe().to_owned()).collect(),
                        )]));
                    }
                    _ => {}
                }
                let mut response = with_retry_after(json_error(mapped.status, body));
                if let Some(secs) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                response
            }
        }
    }
}

fn json_error(status: StatusCode, body: ErrorBody) -> Response {
    (status, Json(body)).into_response()
}

/// An error answered as an HTML page in the visitor's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub err: DomainError,
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: Texts<'a>,
    status: u16,
    heading: &'a str,
    detail: &'a str,
}

/// Marks a page answer that must become a redirect to the password confirmation (the
/// middleware knows the page to come back to).
#[derive(Debug, Clone, Copy)]
pub struct ReauthNeeded;

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mapped = map(&self.err);
        let mut response = with_retry_after(error_page(self.lang, mapped.status));
        if matches!(self.err, DomainError::ReauthenticationRequired) {
            response.extensions_mut().insert(ReauthNeeded);
        }
        response
    }
}

/// Renders the generic error page for a status; the text comes from the catalogue, never
/// from the error itself.
pub fn error_page(lang: Lang, status: StatusCode) -> Response {
    let t = crate::i18n::I18n::global().texts(lang);
    let key = match status.as_u16() {
        404 => "error.not_found",
        401 => "error.not_authenticated",
        403 => "error.forbidden",
        409 => "error.conflict",
        400 | 422 => "error.invalid",
        429 => "error.throttled",
        503 => "error.unavailable",
        _ => "error.internal",
    };
    let page = ErrorPage {
        t,
        status: status.as_u16(),
        heading: t.get(&format!("{key}.heading")),
        detail: t.get(&format!("{key}.detail")),
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "error page failed to render");
            (status, "error").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use termin_domain::FieldErrors;

    async fn body_of(response: Response) -> (StatusCode, ErrorBody) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn internal_errors_never_reveal_their_cause() {
        let err = DomainError::internal("connection to 10.0.0.5:5432 refused (password=hunter2)");
        let (status, body) = body_of(ApiError::from(err).into_response()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body.error, "internal");
        assert!(!body.message.contains("hunter2") && !body.message.contains("10.0.0.5"));
    }

    #[tokio::test]
    async fn validation_errors_list_fields() {
        let mut fields = FieldErrors::new();
        fields.add("owner_email", "is not a valid e-mail address");
        let (status, body) =
            body_of(ApiError::from(DomainError::Invalid(fields)).into_response()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body.error, "validation");
        assert_eq!(
            body.fields.unwrap()["owner_email"],
            vec!["is not a valid e-mail address".to_owned()]
        );
    }

    #[tokio::test]
    async fn conflicts_carry_their_code() {
        let err = DomainError::Conflict {
            code: "email_taken",
            message: "taken".into(),
        };
        let (status, body) = body_of(ApiError::from(err).into_response()).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::CONFLICT, "email_taken")
        );
    }

    #[tokio::test]
    async fn unavailable_sets_retry_after() {
        let response = ApiError::Unavailable {
            code: "not_ready",
            message: "later".into(),
        }
        .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let overloaded = ApiError::from(DomainError::Unavailable).into_response();
        assert_eq!(overloaded.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(overloaded.headers()[header::RETRY_AFTER], "5");
    }
}
