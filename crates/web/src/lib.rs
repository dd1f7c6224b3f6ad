//! Termin's web layer: routes, extractors, rendering, and the mapping of domain errors to
//! HTTP. Handlers extract, call one use case in `termin-app`, and render HTML or JSON.
//! Pages are server-rendered (askama, escaping by default) with small progressive
//! enhancement; every flow is also a JSON API under `/api/v1`.

pub mod access;
mod assets;
pub mod client_ip;
pub mod error;
mod extract;
mod forms;
pub mod i18n;
pub mod limits;
mod middleware;
mod render;
pub mod routes;
pub mod session;

use axum::Router;
use termin_app::Services;

pub use error::ErrorBody;
pub use i18n::{I18n, Lang};
pub use limits::HttpLimits;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub limiter: limits::Limiter,
    pub proxies: client_ip::TrustedProxies,
}

impl AppState {
    pub fn new(
        services: Services,
        limits: limits::HttpLimits,
        trusted_proxies: Vec<termin_domain::network::Cidr>,
    ) -> Self {
        let limiter = limits::Limiter::new(limits, services.clock.clone());
        Self {
            services,
            limiter,
            proxies: client_ip::TrustedProxies(std::sync::Arc::new(trusted_proxies)),
        }
    }
}

/// The complete application router with every middleware applied.
pub fn router(state: AppState) -> Router {
    let routes = routes::all()
        .into_router()
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .with_state(state.clone());
    middleware::apply(routes, state)
}

/// Every route with its declared access, for the test that walks them.
pub fn declared_routes() -> Vec<routes::table::Declared> {
    routes::all().declared().to_vec()
}

/// The router of the optional plain-HTTP listener: it only redirects to HTTPS.
pub fn https_redirect_router(https_port: u16, public_origin: Option<String>) -> Router {
    routes::redirect::router(https_port, public_origin)
}
