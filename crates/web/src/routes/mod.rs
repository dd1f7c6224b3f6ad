//! The route table. Each module is one feature: its pages and its JSON API.

mod account_pages;
mod auth;
mod health;
mod home;
mod invitations;
mod login_pages;
mod passkeys;
mod practice_security;
mod protection;
mod reauth;
mod recovery;
pub mod redirect;
mod sessions;
mod setup;
mod users;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub fn all() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/assets/{name}", get(crate::assets::serve))
        .merge(setup::routes())
        .merge(auth::routes())
        .merge(passkeys::routes())
        .merge(practice_security::routes())
        .merge(sessions::routes())
        .merge(protection::routes())
        .merge(reauth::routes())
        .merge(users::routes())
        .merge(login_pages::routes())
        .merge(invitations::routes())
        .merge(recovery::routes())
        .merge(account_pages::routes())
        .fallback(crate::middleware::not_found)
        .method_not_allowed_fallback(crate::middleware::method_not_allowed)
}
