//! `/practices/{slug}/practitioners/{id}`: one calendar — its record (editable by members
//! who manage the settings), its weekly opening hours (`hours.rs`) and its absences
//! (`absences.rs`). A refused form of any of the three comes back inside this page.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use termin_app::schedule::Practitioner;
use termin_domain::ids::PractitionerId;
use termin_domain::rights::Permission;
use termin_domain::{DomainError, FieldErrors};

use super::absences::{AbsenceRow, absence_fields, absence_rows};
use super::fields::{Errors, Field, Pairs, ticked};
use super::flow::{go_to, page_with_form, refused_input};
use super::hours::{HourRow, RowInput, WEEKDAYS, editor_rows, stored_rows};
use super::practitioners::{raw_record, record_fields};
use super::{Member, Nav, fail, submitter, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::forms::{Done, path_id};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::Routes;
use crate::session::{form_csrf_token, to_login};

const PATH: &str = "/practices/{slug}/practitioners/{id}";

pub fn routes() -> Routes {
    page_with_form(PATH, get(page), Permission::ManageSettings, post(update))
}

/// What a refused form brings back into the page: the entered values and the messages.
#[derive(Default)]
pub(super) struct Overrides {
    record: Option<(Pairs, FieldErrors)>,
    hours: Option<(Vec<RowInput>, FieldErrors)>,
    absence: Option<(Pairs, FieldErrors)>,
}

impl Overrides {
    pub fn hours(rows: Vec<RowInput>, refused: FieldErrors) -> Self {
        Self {
            hours: Some((rows, refused)),
            ..Self::default()
        }
    }

    pub fn absence(pairs: Pairs, refused: FieldErrors) -> Self {
        Self {
            absence: Some((pairs, refused)),
            ..Self::default()
        }
    }

    fn record(pairs: Pairs, refused: FieldErrors) -> Self {
        Self {
            record: Some((pairs, refused)),
            ..Self::default()
        }
    }

    fn refused(&self) -> bool {
        self.record.is_some() || self.hours.is_some() || self.absence.is_some()
    }
}

struct RecordForm {
    fields: Vec<Field>,
    active: bool,
    errors: Vec<String>,
}

struct HoursEditor {
    rows: Vec<HourRow>,
    errors: Vec<String>,
    weekdays: [(&'static str, &'static str); 7],
}

struct AbsenceForm {
    fields: Vec<Field>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "schedule/practitioner.html")]
struct PractitionerPage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    id: String,
    name: String,
    title: String,
    specialty: String,
    room: String,
    colour: String,
    active: bool,
    notice: Option<&'static str>,
    /// For members who manage the settings.
    record: Option<RecordForm>,
    hours: HoursEditor,
    /// Whether the member may change this calendar's hours and absences.
    availability: bool,
    absences: Vec<AbsenceRow>,
    absence_form: Option<AbsenceForm>,
}

fn notice_key(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "schedule_pages.practitioner.done_created",
        "record" => "schedule_pages.saved",
        "hours" => "schedule_pages.hours.saved",
        "absence" => "schedule_pages.absences.saved",
        "absence_deleted" => "schedule_pages.absences.deleted",
        "covered" => "schedule_pages.covered.all_decided",
        _ => return None,
    })
}

fn record_pairs(p: &Practitioner) -> Pairs {
    let d = &p.draft;
    let mut pairs = vec![
        ("name".to_owned(), d.name.clone()),
        ("title".to_owned(), d.title.clone().unwrap_or_default()),
        (
            "specialty".to_owned(),
            d.specialty.clone().unwrap_or_default(),
        ),
        ("colour".to_owned(), d.colour.as_str().to_owned()),
        ("room".to_owned(), d.room.clone().unwrap_or_default()),
    ];
    if p.active {
        pairs.push(("active".to_owned(), "on".to_owned()));
    }
    pairs
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_id)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let Some(member) = viewer(&state, lang, &headers, &slug, Permission::ViewCalendar).await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    let notice = notice_key(done.done.as_deref());
    build(
        &state,
        (lang, &headers),
        (&member, &slug, id),
        notice,
        Overrides::default(),
    )
    .await
}

/// The page with `overrides` in place of the stored values.
pub(super) async fn render_page(
    state: &AppState,
    at: (Lang, &HeaderMap),
    who: (&Member, &str, PractitionerId),
    overrides: Overrides,
) -> Result<Response, PageError> {
    build(state, at, who, None, overrides).await
}

async fn build(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug, id): (&Member, &str, PractitionerId),
    notice: Option<&'static str>,
    overrides: Overrides,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let staff = member.staff();
    let practitioner = state
        .services
        .practitioner(&staff, id)
        .await
        .map_err(fail(lang))?;
    let visit_types: BTreeMap<String, String> = match state.services.visit_types(&staff).await {
        Ok(all) => all
            .into_iter()
            .map(|v| (v.id.to_string(), v.draft.name))
            .collect(),
        // Without the calendar right the restriction's names stay unknown.
        Err(DomainError::Forbidden) => BTreeMap::new(),
        Err(err) => return Err(fail(lang)(err)),
    };
    let refused = overrides.refused();
    let availability = member
        .acting
        .rights
        .allows(Permission::ManageAvailability, id);

    let record = member.has(Permission::ManageSettings).then(|| {
        let (pairs, refused) = overrides
            .record
            .unwrap_or_else(|| (record_pairs(&practitioner), FieldErrors::new()));
        let mut errors = Errors::new(t, &refused);
        RecordForm {
            fields: record_fields("record", &pairs, &mut errors),
            active: ticked(&pairs, "active"),
            errors: errors.rest(),
        }
    });

    let (inputs, hours_refused) = match overrides.hours {
        Some((rows, refused)) => (rows, Some(refused)),
        None => (stored_rows(&practitioner.hours), None),
    };
    let (rows, hours_errors) = editor_rows(
        t,
        inputs,
        hours_refused.as_ref(),
        &visit_types,
        availability,
    );

    let absences = absence_rows(state, member, lang, id)
        .await
        .map_err(fail(lang))?;
    let absence_form = availability.then(|| {
        let (pairs, refused) = overrides.absence.unwrap_or_default();
        let mut errors = Errors::new(t, &refused);
        AbsenceForm {
            fields: absence_fields(&pairs, &mut errors),
            errors: errors.rest(),
        }
    });

    let d = &practitioner.draft;
    let page = PractitionerPage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        id: id.to_string(),
        name: d.name.clone(),
        title: d.title.clone().unwrap_or_default(),
        specialty: d.specialty.clone().unwrap_or_default(),
        room: d.room.clone().unwrap_or_default(),
        colour: d.colour.as_str().to_owned(),
        active: practitioner.active,
        notice,
        record,
        hours: HoursEditor {
            rows,
            errors: hours_errors,
            weekdays: WEEKDAYS,
        },
        availability,
        absences,
        absence_form,
    };
    render::form_page(lang, refused, &page)
}

/// The record form: `name`, `title`, `specialty`, `colour`, `room`, `active`.
async fn update(
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
        Permission::ManageSettings,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    let active = ticked(&pairs, "active");
    match state
        .services
        .update_practitioner(&member.staff(), id, &raw_record(&pairs), active)
        .await
    {
        Ok(_) => go_to(&format!("/practices/{slug}/practitioners/{id}?done=record")),
        Err(err) => {
            let refused = refused_input(lang, err)?;
            render_page(
                &state,
                (lang, &headers),
                (&member, &slug, id),
                Overrides::record(pairs, refused),
            )
            .await
        }
    }
}
