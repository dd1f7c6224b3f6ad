//! The optional plain-HTTP listener. It serves nothing but a permanent redirect to HTTPS,
//! so that a typed `http://` address still ends up encrypted.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(Clone)]
struct Target {
    https_port: u16,
    /// `https://host[:port]` from the configured public URL; preferred over the Host header.
    public_origin: Option<String>,
}

pub fn router(https_port: u16, public_origin: Option<String>) -> Router {
    Router::new().fallback(redirect).with_state(Target {
        https_port,
        public_origin,
    })
}

/// A host name or address as a Host header may carry it, without the port.
fn host_without_port(host: &str) -> Option<&str> {
    let host = if host.starts_with('[') {
        // [v6]:port
        &host[..=host.find(']')?]
    } else {
        host.split(':').next()?
    };
    let plausible = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    plausible.then_some(host)
}

async fn redirect(State(target): State<Target>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let origin = match &target.public_origin {
        Some(origin) => origin.clone(),
        None => {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(host_without_port);
            match host {
                Some(host) if target.https_port == 443 => format!("https://{host}"),
                Some(host) => format!("https://{host}:{}", target.https_port),
                None => return (StatusCode::BAD_REQUEST, "HTTPS required").into_response(),
            }
        }
    };
    match format!("{origin}{path}").parse::<Uri>() {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location.to_string())],
        )
            .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "HTTPS required").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_forms() {
        assert_eq!(
            host_without_port("praxis.example:80"),
            Some("praxis.example")
        );
        assert_eq!(host_without_port("[::1]:8080"), Some("[::1]"));
        assert_eq!(host_without_port("evil.example/x"), None);
        assert_eq!(host_without_port(""), None);
    }
}
