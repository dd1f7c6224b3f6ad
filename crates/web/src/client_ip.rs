//! The client's address. Behind a reverse proxy every connection comes from the proxy; only
//! when the peer is one of the operator's trusted proxies (`[proxy] trusted`) is
//! `Forwarded` (RFC 7239) or else `X-Forwarded-For` read (from the right, skipping trusted
//! hops); from anyone else both are ignored, so a client cannot choose its address. The result is handed on in a request
//! header of our own, which is removed from what the client sent and set on every request.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use termin_domain::network::{Cidr, client_address, forwarded_hops};

/// Set by [`resolve`] on every request that has a peer; never taken from the client.
pub const CLIENT_IP_HEADER: &str = "x-termin-client-ip";

/// The operator's reverse proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<Cidr>>);

/// Resolves the client's address before anything else looks at it.
pub async fn resolve(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    request.headers_mut().remove(CLIENT_IP_HEADER);
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let header = |name: &str| -> Vec<&str> {
            request
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect()
        };
        // The standard header wins when a proxy sends both.
        let standard = forwarded_hops(&header("forwarded"));
        let client = if standard.is_empty() {
            client_address(peer, &header("x-forwarded-for"), &proxies.0)
        } else {
            let hops: Vec<&str> = standard.iter().map(String::as_str).collect();
            client_address(peer, &hops, &proxies.0)
        };
        if let Ok(value) = HeaderValue::from_str(&client.to_string()) {
            request.headers_mut().insert(CLIENT_IP_HEADER, value);
        }
    }
    next.run(request).await
}

/// The client's address as [`resolve`] found it.
pub fn client_ip(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get(CLIENT_IP_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
