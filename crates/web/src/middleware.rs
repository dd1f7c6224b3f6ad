//! Middleware applied to every response: security headers, request ids and request logs,
//! a body-size limit, and turning a panic into a plain 500.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tracing::Instrument;

use crate::AppState;
use crate::error::{ApiError, error_page};
use crate::i18n::Lang;

/// A request body must arrive within this time (slow-body clients hold no worker for long).
const BODY_TIMEOUT: Duration = Duration::from_secs(15);

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The Content-Security-Policy: no inline script or style, nothing from other origins,
/// never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), \
    magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

/// Layers from the inside out: body limits and timeouts around the handler, then panics
/// caught, then rate limits and load shedding (cheap refusals before any work), then the
/// same-origin check, the security headers and the request log on every answer.
pub fn apply(routes: Router, state: AppState) -> Router {
    let limits = state.limiter.limits().clone();
    routes
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_panic| {
            // The panic message may hold data; it is already printed by the panic hook
            // to the log, never to the client.
            ApiError::Domain(termin_domain::DomainError::internal("handler panicked"))
                .into_response()
        }))
        .layer(middleware::from_fn_with_state(
            state.limiter.clone(),
            crate::limits::enforce,
        ))
        .layer(middleware::from_fn_with_state(
            state.proxies.clone(),
            crate::client_ip::resolve,
        ))
        .layer(middleware::from_fn(reauth_redirects))
        .layer(middleware::from_fn(same_origin_writes))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(request_log))
}

/// Sets the security headers on every response. `Cache-Control: no-store` unless the
/// handler chose otherwise (only the static assets do): nothing personal is cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        // Also for the timeout layer's bare 503: tell clients when to come back.
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from_static("5"));
    }
    response
}

/// Turns a page's "confirm your password first" into a redirect to the confirmation, which
/// leads back to the page the action was taken on.
async fn reauth_redirects(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response
        .extensions()
        .get::<crate::error::ReauthNeeded>()
        .is_none()
        || path.starts_with("/api/")
    {
        return response;
    }
    let back = page_of(&path);
    let encoded: String = back
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    let target = format!("/reauth?next={encoded}");
    axum::response::Redirect::to(&target).into_response()
}

/// The page a form action belongs to: `/practices/{slug}/{page}` for practice pages, else
/// the first segment (`/account/totp/start` → `/account`).
fn page_of(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let keep = if segments.first() == Some(&"practices") {
        3
    } else {
        1
    };
    format!(
        "/{}",
        segments
            .into_iter()
            .take(keep)
            .collect::<Vec<_>>()
            .join("/")
    )
}

/// Refuses state-changing requests that a browser says come from another site. Modern
/// browsers send `Sec-Fetch-Site`; only `same-origin` (and `none`, a user's own action) pass.
/// Without it, an `Origin` naming another host is refused. `Origin: null` alone passes:
/// with `Referrer-Policy: no-referrer` browsers send it for their own same-origin form posts.
/// Requests with neither header (scripts, API clients) pass; cookie sessions also need their
/// CSRF token, and the cookie is SameSite=Strict.
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe && is_cross_site(&request) {
        return ApiError::Domain(termin_domain::DomainError::Csrf).into_response();
    }
    next.run(request).await
}

fn is_cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return false;
    }
    // HTTP/2 carries the host in the URI's authority, HTTP/1.1 in the Host header.
    let own = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    match (origin.strip_prefix("https://"), own) {
        (Some(theirs), Some(own)) => !theirs.eq_ignore_ascii_case(&own),
        _ => true,
    }
}

/// A client-supplied request id is kept only if it is short and plain, so that it cannot
/// forge log lines; otherwise a fresh one is made.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Logs each request inside a span carrying its request id. Only the route *pattern* is
/// logged (`/setup/{token}`), never the path, query or body: those can hold tokens, codes
/// or patient data.
async fn request_log(request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", |p| p.as_str())
        .to_owned();
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The answer for a known route called with the wrong method.
pub async fn method_not_allowed(lang: Lang, request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        ApiError::MethodNotAllowed.into_response()
    } else {
        error_page(lang, axum::http::StatusCode::METHOD_NOT_ALLOWED)
    }
}

/// The answer for a route that does not exist: JSON under `/api/`, a page elsewhere.
pub async fn not_found(lang: Lang, request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        ApiError::Domain(termin_domain::DomainError::NotFound).into_response()
    } else {
        error_page(lang, axum::http::StatusCode::NOT_FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn a_form_action_leads_back_to_its_page() {
        assert_eq!(page_of("/account/totp/start"), "/account");
        assert_eq!(page_of("/account"), "/account");
        assert_eq!(
            page_of("/practices/praxis-am-see/protection/unlock"),
            "/practices/praxis-am-see/protection"
        );
        assert_eq!(page_of("/"), "/");
    }
}
