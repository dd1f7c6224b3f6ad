//! Step 3 at `/book/<slug>/slots`: the free times of the chosen visit type for two weeks,
//! day by day in the practice's wall-clock time, each time a button of one `GET` form that
//! leads to the details form. The patient picks a practitioner or anyone; with anyone, a
//! time shows once however many could take it. Links lead to the two weeks before and
//! after, within the visit type's horizon.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::ToSpan;
use jiff::civil::Date;
use serde::Deserialize;
use termin_app::booking::PublicSlotSearch;

use super::choices::{Carried, Choices, Slot};
use super::frame::{Frame, LangParam, PageLang, go_to};
use super::text::{clock, day, fill, zone};
use crate::AppState;
use crate::error::PageError;
use crate::i18n::{Lang, Texts};

/// Days shown at once.
const DAYS: i64 = 14;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Window {
    /// The first day shown (default today).
    from: String,
    /// Back here because the time chosen was taken meanwhile.
    taken: String,
}

#[derive(Template)]
#[template(path = "booking/slots.html")]
struct SlotsPage {
    t: Texts<'static>,
    frame: Frame,
    slug: String,
    summary: String,
    change: String,
    patient: &'static str,
    insurance: &'static str,
    visit_type: String,
    practitioner: String,
    from: String,
    practitioners: Vec<Who>,
    range: String,
    zone_note: String,
    days: Vec<Day>,
    earlier: Option<String>,
    later: Option<String>,
}

/// An entry of the practitioner list.
struct Who {
    value: String,
    label: String,
    selected: bool,
}

struct Day {
    id: String,
    label: String,
    times: Vec<Time>,
}

struct Time {
    value: String,
    label: String,
}

/// `GET /book/{slug}/slots`.
pub(super) async fn page(
    State(state): State<AppState>,
    negotiated: Lang,
    Path(slug): Path<String>,
    Query(param): Query<LangParam>,
    Query(carried): Query<Carried>,
    Query(window): Query<Window>,
) -> Result<Response, PageError> {
    let lang = PageLang::new(negotiated, &param);
    let t = lang.texts();
    let offer = state
        .services
        .public_offer(&slug)
        .await
        .map_err(lang.fail())?;
    let choices = Choices::parse(&carried);
    let Some(visit) = choices.visit_type.and_then(|id| offer.visit_type(id)) else {
        let back = choices.link(&format!("/book/{slug}"), &[("need", "visit_type".into())]);
        return Ok(go_to(&back));
    };
    let choices = Choices {
        practitioner: choices
            .practitioner
            .filter(|p| visit.practitioner(*p).is_some()),
        ..choices
    };
    let today = offer.today;
    let last = today
        .checked_add(i64::from(visit.horizon_days).days())
        .unwrap_or(today);
    let from = window
        .from
        .trim()
        .parse::<Date>()
        .ok()
        .filter(|d| *d > today && *d <= last)
        .unwrap_or(today);
    let to = from.checked_add((DAYS - 1).days()).unwrap_or(from);
    let slots = state
        .services
        .public_slots(
            &slug,
            &PublicSlotSearch {
                visit_type_id: visit.id.to_string(),
                practitioner_id: choices.practitioner.map(|p| p.to_string()),
                from: from.to_string(),
                to: to.to_string(),
            },
        )
        .await
        .map_err(lang.fail())?;
    let zone = zone(&offer.time_zone);
    let mut days: Vec<Day> = Vec::new();
    let mut shown_start = None;
    for slot in slots {
        // With anyone, one button per time: the first practitioner free then takes it.
        if choices.practitioner.is_none() && shown_start == Some(slot.start) {
            continue;
        }
        shown_start = Some(slot.start);
        let date = zone.to_datetime(slot.start).date();
        let time = Time {
            value: Slot {
                practitioner: slot.practitioner,
                start: slot.start,
            }
            .value(),
            label: clock(slot.start, &zone),
        };
        match days.last_mut() {
            Some(last_day) if last_day.id == date.to_string() => last_day.times.push(time),
            _ => days.push(Day {
                id: date.to_string(),
                label: day(t, lang.lang, date),
                times: vec![time],
            }),
        }
    }
    let path = format!("/book/{slug}/slots");
    let at = |date: Date| choices.link(&path, &[("from", date.to_string())]);
    let here = if from == today {
        choices.link(&path, &[])
    } else {
        at(from)
    };
    let earlier =
        (from > today).then(|| at(from.checked_sub(DAYS.days()).unwrap_or(today).max(today)));
    let next = to.checked_add(1.day()).unwrap_or(to);
    let later = (next <= last).then(|| at(next));
    let taken = !window.taken.is_empty();
    let mut practitioners = vec![Who {
        value: String::new(),
        label: t.get("booking.anyone").to_owned(),
        selected: choices.practitioner.is_none(),
    }];
    practitioners.extend(visit.practitioners.iter().map(|p| Who {
        value: p.id.to_string(),
        label: match &p.specialty {
            Some(specialty) => format!("{} ({specialty})", p.name),
            None => p.name.clone(),
        },
        selected: choices.practitioner == Some(p.id),
    }));
    let page = SlotsPage {
        t,
        frame: Frame::new(
            lang,
            &offer.practice,
            3,
            "booking.time_heading",
            Some(&here),
        )
        .alert(taken.then(|| t.get("booking.taken").to_owned())),
        slug: slug.clone(),
        summary: format!(
            "{} · {}",
            visit.name,
            fill(t, "booking.minutes", &visit.duration_minutes.to_string())
        ),
        change: choices.link(&format!("/book/{slug}"), &[]),
        patient: choices.patient(),
        insurance: choices.insurance(),
        visit_type: choices.visit_type(),
        practitioner: choices.practitioner(),
        from: if from == today {
            String::new()
        } else {
            from.to_string()
        },
        practitioners,
        range: t
            .get("booking.free_times")
            .replacen("{}", &day(t, lang.lang, from), 1)
            .replacen("{}", &day(t, lang.lang, to), 1),
        zone_note: fill(t, "booking.zone_note", &offer.time_zone),
        days,
        earlier,
        later,
    };
    lang.page(&page)
}
