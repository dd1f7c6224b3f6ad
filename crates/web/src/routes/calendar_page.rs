//! The practice calendar page: a week or a day of appointments per practitioner. The server
//! renders them as a table of lists with links to the previous and next week or day and a
//! form to choose the practitioners, so the page is usable without JavaScript;
//! `assets/calendar.js` turns it into a time grid that books, moves and cancels through the
//! JSON API. The page itself only reads; the practice comes from the path.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use termin_app::Services;
use termin_app::schedule::{Absence, AppointmentView, Practitioner, Range, Staff, VisitType};
use termin_domain::DomainError;
use termin_domain::rights::Permission;

use crate::AppState;
use crate::error::PageError;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, signed_in_page, to_login};

pub fn routes() -> Routes {
    Routes::new().route(
        "/practices/{slug}/calendar",
        Access::Staff(Permission::ViewCalendar),
        get(page),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Week,
    Day,
}

impl View {
    fn as_str(self) -> &'static str {
        match self {
            View::Week => "week",
            View::Day => "day",
        }
    }
}

/// What the address asks for: `date=YYYY-MM-DD` (today when missing or malformed),
/// `view=week|day` (week unless `day`), `p=<practitioner id>` repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Choice {
    date: Date,
    view: View,
    practitioners: Vec<String>,
}

impl Choice {
    fn parse(pairs: &[(String, String)], today: Date) -> Self {
        let date = forms::field(pairs, "date").trim().parse().unwrap_or(today);
        let view = match forms::field(pairs, "view") {
            "day" => View::Day,
            _ => View::Week,
        };
        Self {
            date,
            view,
            practitioners: forms::values(pairs, "p"),
        }
    }

    /// The days shown: the date's week from Monday to Sunday, or the date alone.
    fn days(&self) -> Vec<Date> {
        match self.view {
            View::Day => vec![self.date],
            View::Week => {
                let back = i64::from(self.date.weekday().to_monday_zero_offset());
                let monday = self.date.checked_sub(back.days()).unwrap_or(self.date);
                (0..7)
                    .filter_map(|i: i64| monday.checked_add(i.days()).ok())
                    .collect()
            }
        }
    }

    /// The date one step (a week or a day) before or after.
    fn step(&self, forward: bool) -> Date {
        let days: i64 = match self.view {
            View::Week => 7,
            View::Day => 1,
        };
        let days = if forward { days } else { -days };
        self.date.checked_add(days.days()).unwrap_or(self.date)
    }

    /// This page's address for `date` and `view`, keeping the chosen practitioners.
    fn href(&self, slug: &str, date: Date, view: View) -> String {
        let mut href = format!(
            "/practices/{slug}/calendar?date={date}&view={}",
            view.as_str()
        );
        for p in &self.practitioners {
            href.push_str("&p=");
            href.push_str(p);
        }
        href
    }
}

/// A practitioner the member may see, and whether their column is shown (ticked).
struct Column {
    id: String,
    name: String,
    chosen: bool,
}

struct Item {
    id: String,
    time: String,
    patient: String,
    visit_type: String,
    status: &'static str,
    status_key: String,
}

struct Cell {
    absences: Vec<String>,
    items: Vec<Item>,
}

struct Day {
    label: String,
    today: bool,
    cells: Vec<Cell>,
}

struct Links {
    prev: String,
    next: String,
    today: String,
    week: String,
    day: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage<'a> {
    t: Texts<'a>,
    csrf: String,
    slug: String,
    practice: String,
    zone: String,
    view: &'static str,
    date: String,
    days_iso: String,
    heading: String,
    links: Links,
    columns: Vec<Column>,
    shown: Vec<String>,
    chosen_ids: String,
    days: Vec<Day>,
    may_manage: bool,
}

const WEEKDAY_KEYS: [&str; 7] = [
    "calendar.mon",
    "calendar.tue",
    "calendar.wed",
    "calendar.thu",
    "calendar.fri",
    "calendar.sat",
    "calendar.sun",
];

fn date_text(lang: Lang, date: Date) -> String {
    match lang {
        Lang::De => date.strftime("%d.%m.%Y").to_string(),
        Lang::En => date.to_string(),
    }
}

fn day_label(t: &Texts<'_>, lang: Lang, date: Date) -> String {
    let index = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or_default();
    let weekday = t.get(WEEKDAY_KEYS.get(index).copied().unwrap_or("calendar.mon"));
    format!("{weekday}, {}", date_text(lang, date))
}

fn clock(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned_datetime(zone.clone())
        .strftime("%H:%M")
        .to_string()
}

/// The instants a day of the practice's zone runs between (23 or 25 hours on DST days).
fn day_bounds(date: Date, zone: &TimeZone) -> Option<(Timestamp, Timestamp)> {
    let start = date.to_zoned_datetime(zone.clone()).ok()?;
    let end = date.tomorrow().ok()?.to_zoned_datetime(zone.clone()).ok()?;
    Some((start.timestamp(), end.timestamp()))
}

/// How an absence shows on one day of one practitioner: "all day" or its hours that day.
fn absence_notes(
    absences: &[Absence],
    practitioner: &Practitioner,
    date: Date,
    zone: &TimeZone,
    all_day: &str,
) -> Vec<String> {
    let Some((day_start, day_end)) = day_bounds(date, zone) else {
        return Vec::new();
    };
    absences
        .iter()
        .filter(|a| a.practitioner_ids.contains(&practitioner.id))
        .flat_map(|a| a.plan.spans(zone, date, date))
        .filter(|s| s.start < day_end && s.end > day_start)
        .map(|s| {
            let (from, to) = (s.start.max(day_start), s.end.min(day_end));
            if from == day_start && to == day_end {
                all_day.to_owned()
            } else {
                let until = if to == day_end {
                    "24:00".to_owned()
                } else {
                    clock(to, zone)
                };
                format!("{}–{until}", clock(from, zone))
            }
        })
        .collect()
}

/// The appointments, visit types and absences of the days shown.
#[derive(Default)]
struct Week {
    appointments: Vec<AppointmentView>,
    visit_types: Vec<VisitType>,
    absences: Vec<Absence>,
}

impl Week {
    async fn load(
        services: &Services,
        staff: &Staff<'_>,
        first: Date,
        last: Date,
    ) -> Result<Self, DomainError> {
        let range = Range {
            from: Some(first.to_string()),
            to: Some(last.to_string()),
            ..Range::default()
        };
        Ok(Self {
            appointments: services.appointments(staff, &range).await?,
            visit_types: services.visit_types(staff).await?,
            absences: services.absences(staff, first, last).await?,
        })
    }

    fn item(&self, view: &AppointmentView, zone: &TimeZone) -> Item {
        let a = &view.appointment;
        Item {
            id: a.id.to_string(),
            time: format!("{}–{}", clock(a.start, zone), clock(a.end, zone)),
            patient: format!("{} {}", view.patient_given_name, view.patient_family_name),
            visit_type: self
                .visit_types
                .iter()
                .find(|v| v.id == a.visit_type_id)
                .map(|v| v.draft.name.clone())
                .unwrap_or_default(),
            status: a.status.as_str(),
            status_key: format!("calendar.status_{}", a.status.as_str()),
        }
    }

    /// The table's rows: per day, per shown practitioner, absences and appointments.
    fn rows(
        &self,
        (t, lang): (&Texts<'_>, Lang),
        zone: &TimeZone,
        today: Date,
        days: &[Date],
        shown: &[&Practitioner],
    ) -> Vec<Day> {
        days.iter()
            .map(|&date| Day {
                label: day_label(t, lang, date),
                today: date == today,
                cells: shown
                    .iter()
                    .map(|p| Cell {
                        absences: absence_notes(
                            &self.absences,
                            p,
                            date,
                            zone,
                            t.get("calendar.all_day"),
                        ),
                        items: self
                            .appointments
                            .iter()
                            .filter(|v| {
                                v.appointment.practitioner_id == p.id
                                    && zone.to_datetime(v.appointment.start).date() == date
                            })
                            .map(|v| self.item(v, zone))
                            .collect(),
                    })
                    .collect(),
            })
            .collect()
    }
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_page(&state, lang, &headers).await? else {
        return Ok(to_login());
    };
    let err = |err| PageError { lang, err };
    let acting = state
        .services
        .acting_with(&session, Some(&slug), Permission::ViewCalendar)
        .await
        .map_err(err)?;
    let staff = Staff::new(&session, &acting);
    let zone = staff.zone();
    let today = zone.to_datetime(state.services.clock.now()).date();
    let mut choice = Choice::parse(&query, today);
    let days = choice.days();
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return Err(err(DomainError::NotFound));
    };
    let practitioners: Vec<Practitioner> = state
        .services
        .practitioners(&staff)
        .await
        .map_err(err)?
        .into_iter()
        .filter(|p| p.active && staff.may_view(p.id))
        .collect();
    // Only the practitioners the member may see count; none chosen means all of them.
    choice
        .practitioners
        .retain(|id| practitioners.iter().any(|p| p.id.to_string() == *id));
    let shown: Vec<&Practitioner> = practitioners
        .iter()
        .filter(|p| {
            choice.practitioners.is_empty() || choice.practitioners.contains(&p.id.to_string())
        })
        .collect();
    let week = if shown.is_empty() {
        Week::default()
    } else {
        Week::load(&state.services, &staff, first, last)
            .await
            .map_err(err)?
    };
    let t = I18n::global().texts(lang);
    let rows = week.rows((&t, lang), &zone, today, &days, &shown);
    let heading = if first == last {
        day_label(&t, lang, first)
    } else {
        format!("{} – {}", date_text(lang, first), date_text(lang, last))
    };
    let page = CalendarPage {
        t,
        csrf: form_csrf_token(&headers),
        practice: acting.membership.org_name.clone(),
        zone: acting.membership.time_zone.as_str().to_owned(),
        view: choice.view.as_str(),
        date: choice.date.to_string(),
        days_iso: days
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        heading,
        links: Links {
            prev: choice.href(&slug, choice.step(false), choice.view),
            next: choice.href(&slug, choice.step(true), choice.view),
            today: choice.href(&slug, today, choice.view),
            week: choice.href(&slug, choice.date, View::Week),
            day: choice.href(&slug, choice.date, View::Day),
        },
        columns: practitioners
            .iter()
            .map(|p| Column {
                id: p.id.to_string(),
                name: p.draft.name.clone(),
                chosen: shown.iter().any(|s| s.id == p.id),
            })
            .collect(),
        shown: shown.iter().map(|p| p.draft.name.clone()).collect(),
        chosen_ids: shown
            .iter()
            .map(|p| p.id.to_string())
            .collect::<Vec<_>>()
            .join(","),
        days: rows,
        may_manage: staff.has(Permission::ManageAppointments),
        slug,
    };
    render::html(lang, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn date(raw: &str) -> Date {
        raw.parse().unwrap_or_default()
    }

    #[test]
    fn a_week_runs_from_monday_to_sunday_of_the_chosen_date() {
        let choice = Choice::parse(&pairs(&[("date", "2026-04-01")]), date("2026-01-01"));
        let days = choice.days();
        assert_eq!(days.len(), 7);
        assert_eq!(days[0], date("2026-03-30"));
        assert_eq!(days[6], date("2026-04-05"));
        assert_eq!(choice.step(true), date("2026-04-08"));
    }

    #[test]
    fn a_missing_or_malformed_date_means_today_and_the_view_defaults_to_the_week() {
        let today = date("2026-03-25");
        let choice = Choice::parse(&pairs(&[("date", "soon"), ("view", "year")]), today);
        assert_eq!(choice.date, today);
        assert_eq!(choice.view, View::Week);
    }

    #[test]
    fn links_keep_the_chosen_practitioners() {
        let choice = Choice::parse(
            &pairs(&[
                ("view", "day"),
                ("p", "a"),
                ("p", "b"),
                ("date", "2026-03-30"),
            ]),
            date("2026-01-01"),
        );
        assert_eq!(choice.days(), vec![date("2026-03-30")]);
        assert_eq!(
            choice.href("praxis", choice.step(false), choice.view),
            "/practices/praxis/calendar?date=2026-03-29&view=day&p=a&p=b"
        );
    }
}
