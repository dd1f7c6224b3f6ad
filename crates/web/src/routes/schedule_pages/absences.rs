//! A practitioner's absences on their page: the list (from today on), the form that enters
//! one (dates, optional times, optional weekly repetition, reason) and deleting one. An
//! absence that covers booked appointments leads on to `covered.rs`, where staff decide
//! for each.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use termin_app::schedule::AbsenceInput;
use termin_domain::DomainError;
use termin_domain::ids::{AbsenceId, PractitionerId};
use termin_domain::rights::Permission;
use termin_domain::schedule::absence::RawAbsencePlan;

use super::covered::{self, Decided};
use super::fields::{Errors, Field, Pairs, filled, value};
use super::flow::{go_to, refused_input};
use super::practitioner::{Overrides, render_page};
use super::{Member, date, fail, submitter, weekday_key};
use crate::AppState;
use crate::error::PageError;
use crate::forms::path_id;
use crate::i18n::Lang;
use crate::routes::table::{Access, Routes};
use crate::session::to_login;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/practices/{slug}/practitioners/{id}/absences",
            Access::Staff(Permission::ManageAvailability),
            post(create),
        )
        .route(
            "/practices/{slug}/practitioners/{id}/absences/delete",
            Access::Staff(Permission::ManageAvailability),
            post(delete),
        )
}

/// How far ahead the page lists absences.
const LISTED_YEARS: i16 = 2;

/// One absence in the list.
pub(super) struct AbsenceRow {
    pub id: String,
    /// Dates, and times for a part-day absence.
    pub span: String,
    pub whole_days: bool,
    /// The weekday and last date of a weekly repetition.
    pub weekly: Option<(&'static str, String)>,
    pub reason: String,
}

/// The practitioner's absences that touch today or later (none without the calendar
/// right).
pub(super) async fn absence_rows(
    state: &AppState,
    member: &Member,
    lang: Lang,
    practitioner: PractitionerId,
) -> Result<Vec<AbsenceRow>, DomainError> {
    let today = member.zone().to_datetime(state.services.clock.now()).date();
    let until = today
        .checked_add(jiff::Span::new().years(LISTED_YEARS))
        .unwrap_or(today);
    let all = match state.services.absences(&member.staff(), today, until).await {
        Ok(all) => all,
        Err(DomainError::Forbidden) => Vec::new(),
        Err(err) => return Err(err),
    };
    Ok(all
        .into_iter()
        .filter(|a| a.practitioner_ids.contains(&practitioner))
        .map(|a| {
            let plan = a.plan;
            let (start, end) = (date(lang, plan.start_date), date(lang, plan.end_date));
            let times = plan.start_time.zip(plan.end_time).map(|(from, to)| {
                (
                    from.strftime("%H:%M").to_string(),
                    to.strftime("%H:%M").to_string(),
                )
            });
            let span = match (plan.start_date == plan.end_date, times) {
                (true, None) => start,
                (false, None) => format!("{start} – {end}"),
                (true, Some((from, to))) => format!("{start} {from}–{to}"),
                (false, Some((from, to))) => format!("{start} {from} – {end} {to}"),
            };
            AbsenceRow {
                id: a.id.to_string(),
                span,
                whole_days: plan.is_whole_days(),
                weekly: plan
                    .repeat_weekly_until
                    .map(|until| (weekday_key(plan.start_date.weekday()), date(lang, until))),
                reason: a.reason.unwrap_or_default(),
            }
        })
        .collect())
}

/// The fields of the form that enters an absence.
pub(super) fn absence_fields(pairs: &[(String, String)], errors: &mut Errors) -> Vec<Field> {
    let field = |spec, errors: &mut Errors| Field::new("absence", spec, pairs, errors);
    vec![
        field(
            ("start_date", "schedule_pages.absences.start_date", "date"),
            errors,
        )
        .required(),
        field(
            ("end_date", "schedule_pages.absences.end_date", "date"),
            errors,
        )
        .hint("schedule_pages.absences.end_date_hint"),
        field(
            ("start_time", "schedule_pages.absences.start_time", "time"),
            errors,
        ),
        field(
            ("end_time", "schedule_pages.absences.end_time", "time"),
            errors,
        )
        .hint("schedule_pages.absences.times_hint"),
        field(
            (
                "repeat_weekly_until",
                "schedule_pages.absences.repeat_weekly_until",
                "date",
            ),
            errors,
        )
        .hint("schedule_pages.absences.repeat_hint"),
        field(("reason", "schedule_pages.absences.reason", "text"), errors),
    ]
}

/// The absence as the form sent it; an empty end date is the start date (one day).
fn input(pairs: &[(String, String)], practitioner: PractitionerId) -> AbsenceInput {
    let start_date = value(pairs, "start_date");
    AbsenceInput {
        plan: RawAbsencePlan {
            end_date: filled(pairs, "end_date").unwrap_or_else(|| start_date.clone()),
            start_date,
            start_time: filled(pairs, "start_time"),
            end_time: filled(pairs, "end_time"),
            repeat_weekly_until: filled(pairs, "repeat_weekly_until"),
        },
        practitioner_ids: vec![practitioner.to_string()],
        reason: filled(pairs, "reason"),
    }
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let Some(member) = submitter(
        &state,
        lang,
        &headers,
        (&slug, &pairs),
        Permission::ManageAvailability,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let id: PractitionerId = path_id(&raw_id).map_err(fail(lang))?;
    match state
        .services
        .create_absence(&member.staff(), &input(&pairs, id))
        .await
    {
        Ok(created) if created.covered.is_empty() => go_to(&format!(
            "/practices/{slug}/practitioners/{id}?done=absence#absences"
        )),
        Ok(created) => {
            let pending: Vec<_> = created.covered.iter().map(|a| a.id).collect();
            covered::render_page(
                &state,
                (lang, &headers),
                (&member, &slug, id),
                covered::Progress {
                    pending,
                    decided: Decided::AbsenceSaved,
                    default_reason: created.absence.reason.unwrap_or_default(),
                    refused: None,
                },
            )
            .await
        }
        Err(err) => {
            let refused = refused_input(lang, err)?;
            render_page(
                &state,
                (lang, &headers),
                (&member, &slug, id),
                Overrides::absence(pairs, refused),
            )
            .await
        }
    }
}

/// The form: `absence` (its id).
async fn delete(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_id)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let Some(member) = submitter(
        &state,
        lang,
        &headers,
        (&slug, &pairs),
        Permission::ManageAvailability,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let id: PractitionerId = path_id(&raw_id).map_err(fail(lang))?;
    let absence: AbsenceId = path_id(&value(&pairs, "absence")).map_err(fail(lang))?;
    state
        .services
        .delete_absence(&member.staff(), absence)
        .await
        .map_err(fail(lang))?;
    go_to(&format!(
        "/practices/{slug}/practitioners/{id}?done=absence_deleted#absences"
    ))
}
