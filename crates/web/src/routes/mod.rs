//! The route table. Each module is one feature: its pages and its JSON API.

mod account_pages;
mod audit;
mod auth;
mod backups;
mod booking_page;
mod calendar_page;
mod health;
mod home;
mod invitations;
mod login_pages;
mod manage_page;
mod network;
mod passkeys;
mod practice_security;
mod protection;
mod public_booking;
mod reauth;
mod recovery;
pub mod redirect;
mod schedule;
mod schedule_pages;
mod sessions;
mod setup;
pub mod table;
mod users;
mod users_page;
mod waiting_list;

use axum::routing::get;

use table::{Access, Routes};

pub fn all() -> Routes {
    Routes::new()
        .route("/", Access::Public, get(home::page))
        .route("/healthz", Access::Public, get(health::healthz))
        .route("/readyz", Access::Public, get(health::readyz))
        .route("/assets/{name}", Access::Public, get(crate::assets::serve))
        .merge(setup::routes())
        .merge(auth::routes())
        .merge(passkeys::routes())
        .merge(practice_security::routes())
        .merge(sessions::routes())
        .merge(protection::routes())
        .merge(reauth::routes())
        .merge(users::routes())
        .merge(schedule::routes())
        .merge(public_booking::routes())
        .merge(manage_page::routes())
        .merge(booking_page::routes())
        .merge(schedule_pages::routes())
        .merge(network::routes())
        .merge(audit::routes())
        .merge(backups::routes())
        .merge(users_page::routes())
        .merge(login_pages::routes())
        .merge(invitations::routes())
        .merge(recovery::routes())
        .merge(account_pages::routes())
        .merge(calendar_page::routes())
        .merge(waiting_list::routes())
}
