//! Step 5 at `/book/<slug>/code/<booking>`: the code from the SMS, with how long the time is
//! held in the practice's wall-clock time. The right code books the appointment
//! (`confirm_booking`) and the browser goes on to it; a wrong or expired one is said beside
//! the field and the form stays.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use termin_app::booking::PublicOffer;
use termin_domain::DomainError;
use termin_domain::ids::BookingId;

use super::choices::{Carried, Choices, Slot};
use super::details::{Input, Summary};
use super::frame::{Frame, LangParam, PageLang, go_to, refused_status};
use super::text::{clock, fill, zone};
use crate::AppState;
use crate::client_ip::client_ip;
use crate::error::PageError;
use crate::i18n::{Lang, Texts};

/// The held time, as the details step's redirect names it (shown only, never trusted).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct HeldTime {
    slot: String,
    until: String,
}

/// The code form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CodeForm {
    patient: String,
    insurance: String,
    visit_type: String,
    practitioner: String,
    slot: String,
    until: String,
    code: String,
}

impl CodeForm {
    fn carried(&self) -> Carried {
        Carried {
            patient: self.patient.clone(),
            insurance: self.insurance.clone(),
            visit_type: self.visit_type.clone(),
            practitioner: self.practitioner.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "booking/code.html")]
struct CodePage {
    t: Texts<'static>,
    frame: Frame,
    action: String,
    summary: Option<Summary>,
    held_until: Option<String>,
    other_time: String,
    patient: &'static str,
    insurance: &'static str,
    visit_type: String,
    practitioner: String,
    slot: String,
    until: String,
    f: Input,
}

/// `GET /book/{slug}/code/{booking}?…&slot=&until=`.
pub(super) async fn page(
    State(state): State<AppState>,
    negotiated: Lang,
    Path((slug, booking)): Path<(String, String)>,
    Query(param): Query<LangParam>,
    Query(carried): Query<Carried>,
    Query(held): Query<HeldTime>,
) -> Result<Response, PageError> {
    let lang = PageLang::new(negotiated, &param);
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let booking: BookingId = booking
        .parse()
        .map_err(|_| lang.fail()(DomainError::NotFound))?;
    let form = CodeForm {
        patient: carried.patient,
        insurance: carried.insurance,
        visit_type: carried.visit_type,
        practitioner: carried.practitioner,
        slot: held.slot,
        until: held.until,
        code: String::new(),
    };
    let choices = Choices::parse(&form.carried());
    let mut extra = Vec::new();
    if let Some(slot) = Slot::parse(&form.slot) {
        extra.push(("slot", slot.value()));
    }
    if let Ok(until) = form.until.trim().parse::<Timestamp>() {
        extra.push(("until", until.to_string()));
    }
    let here = choices.link(&format!("/book/{slug}/code/{booking}"), &extra);
    let frame = Frame::new(
        lang,
        &offer.practice,
        5,
        "booking.code_heading",
        Some(&here),
    )
    .notice(Some(lang.texts().get("booking.code_sent").to_owned()));
    render(lang, (&slug, booking), &offer, &form, frame, Vec::new())
}

/// `POST /book/{slug}/code/{booking}`: books with the code.
pub(super) async fn submit(
    State(state): State<AppState>,
    negotiated: Lang,
    headers: HeaderMap,
    Path((slug, booking)): Path<(String, String)>,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let lang = PageLang::of(negotiated);
    let t = lang.texts();
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let booking_id: BookingId = booking
        .parse()
        .map_err(|_| lang.fail()(DomainError::NotFound))?;
    match state
        .services
        .confirm_booking(&slug, &booking, &form.code, client_ip(&headers))
        .await
    {
        Ok(confirmed) => {
            let token = confirmed
                .manage_url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            Ok(go_to(&format!("/book/{slug}/done/{token}")))
        }
        Err(DomainError::InvalidCode) => {
            let frame = Frame::new(lang, &offer.practice, 5, "booking.code_heading", None)
                .refused(true)
                .alert(Some(t.get("booking.wrong_code").to_owned()));
            let errors = vec![t.get("booking.wrong_code_hint").to_owned()];
            render(lang, (&slug, booking_id), &offer, &form, frame, errors)
        }
        Err(err) => Err(lang.fail()(err)),
    }
}

fn render(
    lang: PageLang,
    (slug, booking): (&str, BookingId),
    offer: &PublicOffer,
    form: &CodeForm,
    frame: Frame,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let t = lang.texts();
    let choices = Choices::parse(&form.carried());
    let slot = Slot::parse(&form.slot);
    let until = form.until.trim().parse::<Timestamp>().ok();
    let refused = !errors.is_empty();
    let from: Vec<_> = slot
        .map(|s| {
            let day = zone(&offer.time_zone).to_datetime(s.start).date();
            ("from", day.to_string())
        })
        .into_iter()
        .collect();
    let page = CodePage {
        t,
        frame,
        action: format!("/book/{slug}/code/{booking}"),
        summary: Summary::of(lang, offer, &choices, slot),
        held_until: until
            .map(|u| fill(t, "booking.held_until", &clock(u, &zone(&offer.time_zone)))),
        other_time: choices.link(&format!("/book/{slug}/slots"), &from),
        patient: choices.patient(),
        insurance: choices.insurance(),
        visit_type: choices.visit_type(),
        practitioner: choices.practitioner(),
        slot: slot.map(|s| s.value()).unwrap_or_default(),
        until: until.map(|u| u.to_string()).unwrap_or_default(),
        f: Input {
            name: "code",
            label: t.get("booking.code").to_owned(),
            kind: "text",
            autocomplete: "one-time-code",
            inputmode: Some("numeric"),
            value: String::new(),
            required: true,
            hint: Some(t.get("booking.code_hint").to_owned()),
            errors,
        },
    };
    lang.render(refused_status(refused), &page)
}
