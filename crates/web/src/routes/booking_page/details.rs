//! Step 4 at `/book/<slug>/details`: the chosen time and the patient's details (name, birth
//! date, mobile number, e-mail if they like). Sending them holds the time for ten minutes
//! and sends the code by SMS (`start_booking`); the browser then goes on to the code form.
//! Refused details come back with what was entered and each message beside its field; a
//! time taken meanwhile leads back to the free times with a message.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use termin_app::booking::{BookingRequest, PublicOffer};
use termin_domain::schedule::booking::RawBookingPatient;
use termin_domain::{DomainError, FieldErrors};

use super::choices::{Carried, Choices, Slot};
use super::frame::{Frame, LangParam, PageLang, go_to};
use super::text::{message, when, zone};
use crate::AppState;
use crate::client_ip::client_ip;
use crate::error::PageError;
use crate::i18n::{Lang, Texts};

/// The chosen time, as the free times' buttons send it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Picked {
    slot: String,
}

/// The details form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DetailsForm {
    patient: String,
    insurance: String,
    visit_type: String,
    practitioner: String,
    slot: String,
    given_name: String,
    family_name: String,
    birth_date: String,
    phone: String,
    email: String,
}

impl DetailsForm {
    fn carried(&self) -> Carried {
        Carried {
            patient: self.patient.clone(),
            insurance: self.insurance.clone(),
            visit_type: self.visit_type.clone(),
            practitioner: self.practitioner.clone(),
        }
    }
}

/// The chosen appointment as the details and code steps show it.
pub(super) struct Summary {
    pub visit: String,
    pub when: String,
    pub practitioner: String,
    pub instructions: Option<String>,
}

impl Summary {
    /// The summary of `slot` of the chosen visit type; `None` when either is not (or no
    /// longer) offered.
    pub fn of(
        lang: PageLang,
        offer: &PublicOffer,
        choices: &Choices,
        slot: Option<Slot>,
    ) -> Option<Self> {
        let visit = offer.visit_type(choices.visit_type?)?;
        let slot = slot?;
        let practitioner = visit.practitioner(slot.practitioner)?;
        Some(Self {
            visit: visit.name.clone(),
            when: when(lang.texts(), lang.lang, slot.start, &zone(&offer.time_zone)),
            practitioner: practitioner.name.clone(),
            instructions: visit.instructions.clone(),
        })
    }
}

/// A labelled input with its hint and messages.
pub(super) struct Input {
    pub name: &'static str,
    pub label: String,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub inputmode: Option<&'static str>,
    pub value: String,
    pub required: bool,
    pub hint: Option<String>,
    pub errors: Vec<String>,
}

impl Input {
    /// The ids of the hint and the messages, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("book-{}-hint", self.name));
        }
        if !self.errors.is_empty() {
            ids.push(format!("book-{}-error", self.name));
        }
        ids.join(" ")
    }
}

#[derive(Template)]
#[template(path = "booking/details.html")]
struct DetailsPage {
    t: Texts<'static>,
    frame: Frame,
    slug: String,
    summary: Option<Summary>,
    other_time: String,
    patient: &'static str,
    insurance: &'static str,
    visit_type: String,
    practitioner: String,
    slot: String,
    fields: Vec<Input>,
}

/// `GET /book/{slug}/details?…&slot=`.
pub(super) async fn page(
    State(state): State<AppState>,
    negotiated: Lang,
    Path(slug): Path<String>,
    Query(param): Query<LangParam>,
    Query(carried): Query<Carried>,
    Query(picked): Query<Picked>,
) -> Result<Response, PageError> {
    let lang = PageLang::new(negotiated, &param);
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let choices = Choices::parse(&carried);
    let slot = Slot::parse(&picked.slot);
    if Summary::of(lang, &offer, &choices, slot).is_none() {
        // An old or edited link: choose again.
        return Ok(go_to(&choices.link(&format!("/book/{slug}/slots"), &[])));
    }
    let path = format!("/book/{slug}/details");
    let here = slot.map(|s| choices.link(&path, &[("slot", s.value())]));
    let frame = Frame::new(
        lang,
        &offer.practice,
        4,
        "booking.details_heading",
        here.as_deref(),
    );
    let form = DetailsForm {
        patient: carried.patient,
        insurance: carried.insurance,
        visit_type: carried.visit_type,
        practitioner: carried.practitioner,
        slot: picked.slot,
        ..DetailsForm::default()
    };
    render(
        lang,
        &slug,
        &offer,
        &form,
        (frame, StatusCode::OK),
        &FieldErrors::new(),
    )
}

/// `POST /book/{slug}/details`: holds the time and sends the code.
pub(super) async fn submit(
    State(state): State<AppState>,
    negotiated: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<DetailsForm>,
) -> Result<Response, PageError> {
    let lang = PageLang::of(negotiated);
    let t = lang.texts();
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let choices = Choices::parse(&form.carried());
    let slot = Slot::parse(&form.slot);
    let request = BookingRequest {
        visit_type_id: form.visit_type.clone(),
        practitioner_id: slot.map(|s| s.practitioner.to_string()).unwrap_or_default(),
        start: slot.map(|s| s.start.to_string()).unwrap_or_default(),
        patient: RawBookingPatient {
            given_name: form.given_name.clone(),
            family_name: form.family_name.clone(),
            birth_date: form.birth_date.clone(),
            phone: form.phone.clone(),
            email: Some(form.email.clone()),
        },
    };
    // A form's answer has no language switch: it would lose what was entered.
    let frame = || Frame::new(lang, &offer.practice, 4, "booking.details_heading", None);
    match state
        .services
        .start_booking(&slug, &request, client_ip(&headers))
        .await
    {
        Ok(held) => {
            let mut extra = vec![("until", held.hold_expires_at.to_string())];
            if let Some(slot) = slot {
                extra.insert(0, ("slot", slot.value()));
            }
            let path = format!("/book/{slug}/code/{}", held.booking_id);
            Ok(go_to(&choices.link(&path, &extra)))
        }
        Err(DomainError::Conflict {
            code: "slot_taken", ..
        }) => {
            let mut extra = vec![("taken", "1".to_owned())];
            if let Some(slot) = slot {
                let day = zone(&offer.time_zone).to_datetime(slot.start).date();
                extra.insert(0, ("from", day.to_string()));
            }
            Ok(go_to(&choices.link(&format!("/book/{slug}/slots"), &extra)))
        }
        Err(DomainError::Invalid(refused)) => {
            let frame = frame()
                .refused(true)
                .alert(Some(t.get("booking.refused").to_owned()));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(lang, &slug, &offer, &form, (frame, status), &refused)
        }
        Err(DomainError::Throttled { .. }) => {
            let frame = frame().alert(Some(t.get("booking.throttled").to_owned()));
            let status = StatusCode::TOO_MANY_REQUESTS;
            render(
                lang,
                &slug,
                &offer,
                &form,
                (frame, status),
                &FieldErrors::new(),
            )
        }
        Err(err) => Err(PageError {
            lang: lang.lang,
            err,
        }),
    }
}

/// The details form with `form`'s values and the messages of `refused`: the patient's
/// beside their fields, any other (the time, the visit type) in the alert above.
fn render(
    lang: PageLang,
    slug: &str,
    offer: &PublicOffer,
    form: &DetailsForm,
    (frame, status): (Frame, StatusCode),
    refused: &FieldErrors,
) -> Result<Response, PageError> {
    let t = lang.texts();
    let mut messages: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut about_time = false;
    for (field, list) in refused.iter() {
        match field.strip_prefix("patient.") {
            Some(name) => messages
                .entry(name)
                .or_default()
                .extend(list.iter().map(|m| message(t, m))),
            None => about_time = true,
        }
    }
    let frame = if about_time {
        frame.alert(Some(t.get("booking.not_bookable").to_owned()))
    } else {
        frame
    };
    let mut input = |name: &'static str, kind, autocomplete, value: &str| Input {
        name,
        label: t.get(&format!("booking.{name}")).to_owned(),
        kind,
        autocomplete,
        inputmode: None,
        value: value.to_owned(),
        required: true,
        hint: None,
        errors: messages.remove(name).unwrap_or_default(),
    };
    let fields = vec![
        input("given_name", "text", "given-name", &form.given_name),
        input("family_name", "text", "family-name", &form.family_name),
        Input {
            hint: Some(t.get("booking.birth_date_hint").to_owned()),
            ..input("birth_date", "date", "bday", &form.birth_date)
        },
        Input {
            inputmode: Some("tel"),
            hint: Some(t.get("booking.phone_hint").to_owned()),
            ..input("phone", "tel", "tel", &form.phone)
        },
        Input {
            required: false,
            hint: Some(t.get("booking.email_hint").to_owned()),
            ..input("email", "email", "email", &form.email)
        },
    ];
    let choices = Choices::parse(&form.carried());
    let slot = Slot::parse(&form.slot);
    let from: Vec<_> = slot
        .map(|s| {
            let day = zone(&offer.time_zone).to_datetime(s.start).date();
            ("from", day.to_string())
        })
        .into_iter()
        .collect();
    let page = DetailsPage {
        t,
        frame,
        slug: slug.to_owned(),
        summary: Summary::of(lang, offer, &choices, slot),
        other_time: choices.link(&format!("/book/{slug}/slots"), &from),
        patient: choices.patient(),
        insurance: choices.insurance(),
        visit_type: choices.visit_type(),
        practitioner: choices.practitioner(),
        slot: slot.map(|s| s.value()).unwrap_or_default(),
        fields,
    };
    lang.render(status, &page)
}
