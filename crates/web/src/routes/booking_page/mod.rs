//! The public booking page of a practice (`/book/<slug>`): server-rendered steps that work
//! without JavaScript, one question at a time so that they read well on a phone and with a
//! screen reader. (1) new or returning patient and insurance, (2) the visit type, (3) a
//! free time (by practitioner or anyone's), (4) the patient's details, which hold the time
//! and send a code by SMS, (5) the code, which books it; then the booked appointment with
//! its manage link.
//!
//! The choices made so far travel in the query string of each step (`Choices`), so every
//! step is a plain link that can be reloaded, bookmarked or gone back to. Only parsed values
//! are written into links, never what the browser sent. The writes (`POST`) fall under the
//! strict per-source limit (`/book/` in `limits.rs`) and the same-origin check; a refused
//! form comes back with what was entered and each message beside its field. Nothing here
//! says whether the practice already knows the person booking.

mod choices;
mod choose;
mod code;
mod details;
mod done;
mod frame;
mod slots;
mod text;

use axum::routing::get;

use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route("/book/{slug}", Access::Public, get(choose::page))
        .route("/book/{slug}/slots", Access::Public, get(slots::page))
        .route(
            "/book/{slug}/details",
            Access::Public,
            get(details::page).post(details::submit),
        )
        .route(
            "/book/{slug}/code/{booking}",
            Access::Public,
            get(code::page).post(code::submit),
        )
        .route("/book/{slug}/done/{token}", Access::Public, get(done::page))
}
