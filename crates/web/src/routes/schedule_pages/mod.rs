//! The pages that set a practice's calendar up, server-rendered forms that work without
//! JavaScript: practitioners (record, weekly opening hours, absences and the appointments an
//! absence covers), visit types and patients. Every handler checks the right its route
//! declares (`acting_with`) before it reads the form, calls one use case of
//! `termin_app::schedule` and renders; refused input comes back with the entered values
//! and each message beside its field (status 422), never as an error page.

mod absences;
mod covered;
mod fields;
mod flow;
mod hours;
pub(crate) mod messages;
mod patient;
mod patient_export;
mod patients;
mod practitioner;
mod practitioners;
mod visit_type;
mod visit_types;

use axum::http::HeaderMap;
use jiff::Timestamp;
use jiff::civil::Date;
use termin_app::auth::CurrentSession;
use termin_app::schedule::Staff;
use termin_app::users::Acting;
use termin_domain::DomainError;
use termin_domain::rights::Permission;

use crate::AppState;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::routes::table::Routes;
use crate::session::{signed_in_form, signed_in_page};

pub fn routes() -> Routes {
    Routes::new()
        .merge(practitioners::routes())
        .merge(practitioner::routes())
        .merge(hours::routes())
        .merge(absences::routes())
        .merge(covered::routes())
        .merge(visit_types::routes())
        .merge(visit_type::routes())
        .merge(patients::routes())
        .merge(patient::routes())
        .merge(patient_export::routes())
}

/// A signed-in member acting in the practice of the path.
pub(super) struct Member {
    pub session: CurrentSession,
    pub acting: Acting,
}

impl Member {
    pub fn staff(&self) -> Staff<'_> {
        Staff::new(&self.session, &self.acting)
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.acting.rights.has(permission)
    }

    pub fn zone(&self) -> jiff::tz::TimeZone {
        self.acting.membership.time_zone.zone()
    }

    pub fn nav(&self, slug: &str) -> Nav {
        Nav {
            slug: slug.to_owned(),
            practice: self.acting.membership.org_name.clone(),
        }
    }
}

/// The member of a page request holding `permission`; `None`: not signed in (the page
/// sends the browser to the login).
pub(super) async fn viewer(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    slug: &str,
    permission: Permission,
) -> Result<Option<Member>, PageError> {
    let Some(session) = signed_in_page(state, lang, headers).await? else {
        return Ok(None);
    };
    acting(state, lang, session, slug, permission).await
}

/// The member of a form post (its `csrf` field checked) holding `permission`. The right
/// is checked before anything else of the form is read.
pub(super) async fn submitter(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    (slug, form): (&str, &[(String, String)]),
    permission: Permission,
) -> Result<Option<Member>, PageError> {
    let csrf = fields::value(form, "csrf");
    let Some(session) = signed_in_form(state, lang, headers, &csrf).await? else {
        return Ok(None);
    };
    acting(state, lang, session, slug, permission).await
}

async fn acting(
    state: &AppState,
    lang: Lang,
    session: CurrentSession,
    slug: &str,
    permission: Permission,
) -> Result<Option<Member>, PageError> {
    let acting = state
        .services
        .acting_with(&session, Some(slug), permission)
        .await
        .map_err(|err| PageError { lang, err })?;
    Ok(Some(Member { session, acting }))
}

/// Turns a use case's error into the error page of `lang`.
pub(super) fn fail(lang: Lang) -> impl Fn(DomainError) -> PageError {
    move |err| PageError { lang, err }
}

/// The practice's name and the links between the set-up pages.
pub(super) struct Nav {
    pub slug: String,
    pub practice: String,
}

/// A civil date as the member's language writes it.
pub(super) fn date(lang: Lang, date: Date) -> String {
    match lang {
        Lang::De => date.strftime("%d.%m.%Y").to_string(),
        Lang::En => date.strftime("%Y-%m-%d").to_string(),
    }
}

/// When an appointment is, in the practice's zone: the weekday's catalogue key and
/// `date HH:MM–HH:MM`.
pub(super) fn appointment_time(
    lang: Lang,
    zone: &jiff::tz::TimeZone,
    (start, end): (Timestamp, Timestamp),
) -> (&'static str, String) {
    let (start, end) = (zone.to_datetime(start), zone.to_datetime(end));
    (
        weekday_key(start.date().weekday()),
        format!(
            "{} {}–{}",
            date(lang, start.date()),
            start.strftime("%H:%M"),
            end.strftime("%H:%M")
        ),
    )
}

/// The catalogue key of a weekday's name (`mon` … `sun`).
pub(super) fn weekday_key(weekday: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    match weekday {
        Monday => "schedule_pages.weekday.mon",
        Tuesday => "schedule_pages.weekday.tue",
        Wednesday => "schedule_pages.weekday.wed",
        Thursday => "schedule_pages.weekday.thu",
        Friday => "schedule_pages.weekday.fri",
        Saturday => "schedule_pages.weekday.sat",
        Sunday => "schedule_pages.weekday.sun",
    }
}
