//! The booked appointment at `/book/<slug>/done/<token>`, where the code form leads: what
//! was booked, the manage link (the confirmation by SMS and e-mail carries it too) and the
//! calendar file. The token is the manage link's; without it there is nothing to see.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use termin_domain::DomainError;
use termin_domain::schedule::appointment::AppointmentStatus;

use super::details::Summary;
use super::frame::{Frame, LangParam, PageLang};
use super::text::{when, zone};
use crate::AppState;
use crate::error::PageError;
use crate::i18n::{Lang, Texts};

#[derive(Template)]
#[template(path = "booking/done.html")]
struct DonePage {
    t: Texts<'static>,
    frame: Frame,
    summary: Option<Summary>,
    manage: String,
    ics: String,
    cancelled: bool,
}

/// `GET /book/{slug}/done/{token}`.
pub(super) async fn page(
    State(state): State<AppState>,
    negotiated: Lang,
    Path((slug, token)): Path<(String, String)>,
    Query(param): Query<LangParam>,
) -> Result<Response, PageError> {
    let lang = PageLang::new(negotiated, &param);
    let t = lang.texts();
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let view = state
        .services
        .managed_appointment(&token)
        .await
        .map_err(lang.fail())?;
    // The link is the key; the page only refuses to show it under another practice's name.
    if view.practice != offer.practice {
        return Err(lang.fail()(DomainError::NotFound));
    }
    // The token parsed (64 hex digits) and the slug named a practice: both are safe in links.
    let here = format!("/book/{slug}/done/{token}");
    let cancelled = view.status == AppointmentStatus::Cancelled;
    let (heading, notice) = if cancelled {
        ("booking.done_cancelled", None)
    } else {
        (
            "booking.done_heading",
            Some(t.get("booking.done_sent").to_owned()),
        )
    };
    let page = DonePage {
        t,
        frame: Frame::new(lang, &view.practice, 0, heading, Some(&here)).notice(notice),
        summary: Some(Summary {
            visit: view.visit_type,
            when: when(t, lang.lang, view.start, &zone(&view.time_zone)),
            practitioner: view.practitioner,
            instructions: view.instructions,
        }),
        manage: format!("/manage/{token}"),
        ics: format!("/api/v1/manage/{token}/calendar.ics"),
        cancelled,
    };
    lang.page(&page)
}
