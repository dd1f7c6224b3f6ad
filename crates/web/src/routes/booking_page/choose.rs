//! Steps 1 and 2 at `/book/<slug>`: whether the patient is new or returning and how they
//! are insured, then the visit types open to them. Both forms are `GET` forms: choosing is
//! not a change, and every step stays a link.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use termin_app::booking::{OfferedVisit, PublicOffer};
use termin_domain::schedule::visit_type::Insurance;

use super::choices::{Carried, Choices};
use super::frame::{Frame, LangParam, PageLang, refused_status};
use super::text::fill;
use crate::AppState;
use crate::error::PageError;
use crate::i18n::{Lang, Texts};

/// Flags of the first two steps' links.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Asked {
    /// The first step's form was sent: a missing answer is refused, not a first visit.
    asked: String,
    /// Back from a later step to change the first step's answers.
    change: String,
    /// The second step's form was sent without a visit type.
    need: String,
}

#[derive(Template)]
#[template(path = "booking/about.html")]
struct AboutPage {
    t: Texts<'static>,
    frame: Frame,
    slug: String,
    patient: &'static str,
    insurance: &'static str,
    insurances: Vec<(&'static str, String)>,
    patient_error: Option<String>,
    insurance_error: Option<String>,
    /// The practice books nothing online.
    closed: bool,
}

#[derive(Template)]
#[template(path = "booking/visit.html")]
struct VisitPage {
    t: Texts<'static>,
    frame: Frame,
    slug: String,
    summary: String,
    change: String,
    patient: &'static str,
    insurance: &'static str,
    visits: Vec<VisitItem>,
    error: Option<String>,
}

struct VisitItem {
    id: String,
    name: String,
    /// "30 Minuten · bei Dr. Anna Weber, Dr. Ben Roth".
    meta: String,
    instructions: Option<String>,
    checked: bool,
}

/// `GET /book/{slug}`.
pub(super) async fn page(
    State(state): State<AppState>,
    negotiated: Lang,
    Path(slug): Path<String>,
    Query(param): Query<LangParam>,
    Query(carried): Query<Carried>,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    let lang = PageLang::new(negotiated, &param);
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let choices = Choices::parse(&carried);
    match (choices.returning, choices.insurance) {
        (Some(returning), Some(insurance)) if asked.change.is_empty() => {
            let missing = !asked.need.is_empty();
            visit_step(
                lang,
                &slug,
                &offer,
                choices,
                (returning, insurance),
                missing,
            )
        }
        _ => about_step(lang, &slug, &offer, choices, &asked),
    }
}

fn about_step(
    lang: PageLang,
    slug: &str,
    offer: &PublicOffer,
    choices: Choices,
    asked: &Asked,
) -> Result<Response, PageError> {
    let t = lang.texts();
    let sent = !asked.asked.is_empty();
    let missing = |chosen: bool| (sent && !chosen).then(|| t.get("booking.choose_one").to_owned());
    let patient_error = missing(choices.returning.is_some());
    let insurance_error = missing(choices.insurance.is_some());
    let refused = patient_error.is_some() || insurance_error.is_some();
    let here = choices.link(&format!("/book/{slug}"), &[("change", "1".to_owned())]);
    let page = AboutPage {
        t,
        frame: Frame::new(
            lang,
            &offer.practice,
            1,
            "booking.about_heading",
            Some(&here),
        )
        .refused(refused)
        .alert(refused.then(|| t.get("booking.refused").to_owned())),
        slug: slug.to_owned(),
        patient: choices.patient(),
        insurance: choices.insurance(),
        insurances: Insurance::ALL
            .iter()
            .map(|i| {
                let key = format!("booking.insurance_{}", i.as_str());
                (i.as_str(), t.get(&key).to_owned())
            })
            .collect(),
        patient_error,
        insurance_error,
        closed: offer.visit_types.is_empty(),
    };
    lang.render(refused_status(refused), &page)
}

/// "30 Minuten · bei Dr. Anna Weber, Dr. Ben Roth".
fn meta(t: Texts<'_>, visit: &OfferedVisit) -> String {
    let names: Vec<&str> = visit
        .practitioners
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    format!(
        "{} · {}",
        fill(t, "booking.minutes", &visit.duration_minutes.to_string()),
        fill(t, "booking.with", &names.join(", "))
    )
}

fn visit_step(
    lang: PageLang,
    slug: &str,
    offer: &PublicOffer,
    choices: Choices,
    (returning, insurance): (bool, Insurance),
    missing: bool,
) -> Result<Response, PageError> {
    let t = lang.texts();
    let visits: Vec<VisitItem> = offer
        .visit_types
        .iter()
        .filter(|v| v.open_to(returning, insurance))
        .map(|v| VisitItem {
            id: v.id.to_string(),
            name: v.name.clone(),
            meta: meta(t, v),
            instructions: v.instructions.clone(),
            checked: choices.visit_type == Some(v.id),
        })
        .collect();
    let error = missing.then(|| t.get("booking.choose_visit").to_owned());
    let base = format!("/book/{slug}");
    let here = choices.link(&base, &[]);
    let who = if returning {
        "booking.you_returning"
    } else {
        "booking.you_new"
    };
    let page = VisitPage {
        t,
        frame: Frame::new(
            lang,
            &offer.practice,
            2,
            "booking.visit_heading",
            Some(&here),
        )
        .refused(missing)
        .alert(missing.then(|| t.get("booking.refused").to_owned())),
        slug: slug.to_owned(),
        summary: format!(
            "{} · {}",
            t.get(who),
            t.get(&format!("booking.insured_{}", insurance.as_str()))
        ),
        change: choices.link(&base, &[("change", "1".to_owned())]),
        patient: choices.patient(),
        insurance: choices.insurance(),
        visits,
        error,
    };
    lang.render(refused_status(missing), &page)
}
