//! `/practices/{slug}/practitioners`: the practice's calendars (those the member may see)
//! and, for members who manage the practice's settings, the form that adds one.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use termin_domain::rights::Permission;
use termin_domain::schedule::practitioner::RawPractitioner;

use super::fields::{Errors, Field, Pairs, filled, value};
use super::flow::{go_to, page_with_form, refused_input};
use super::{Member, Nav, fail, submitter, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::Routes;
use crate::session::{form_csrf_token, to_login};

/// The colour a new calendar starts with (the domain's default).
const DEFAULT_COLOUR: &str = "#2f6fb0";

const PATH: &str = "/practices/{slug}/practitioners";

pub fn routes() -> Routes {
    page_with_form(PATH, get(page), Permission::ManageSettings, post(create))
}

/// The record fields of a practitioner form (new or edit), values from `pairs`.
pub(super) fn record_fields(
    form: &str,
    pairs: &[(String, String)],
    errors: &mut Errors,
) -> Vec<Field> {
    let field = |spec, errors: &mut Errors| Field::new(form, spec, pairs, errors);
    vec![
        field(("name", "schedule_pages.practitioner.name", "text"), errors).required(),
        field(
            ("title", "schedule_pages.practitioner.title_field", "text"),
            errors,
        )
        .hint("schedule_pages.practitioner.title_hint"),
        field(
            ("specialty", "schedule_pages.practitioner.specialty", "text"),
            errors,
        ),
        field(
            ("colour", "schedule_pages.practitioner.colour", "color"),
            errors,
        ),
        field(("room", "schedule_pages.practitioner.room", "text"), errors),
    ]
}

/// The record as the form sent it.
pub(super) fn raw_record(pairs: &[(String, String)]) -> RawPractitioner {
    RawPractitioner {
        name: value(pairs, "name"),
        title: filled(pairs, "title"),
        specialty: filled(pairs, "specialty"),
        colour: filled(pairs, "colour"),
        room: filled(pairs, "room"),
    }
}

struct Row {
    id: String,
    name: String,
    title: String,
    specialty: String,
    colour: String,
    room: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "schedule/practitioners.html")]
struct PractitionersPage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    rows: Vec<Row>,
    /// The form to add one, for members who manage the settings.
    form: Option<Vec<Field>>,
    form_errors: Vec<String>,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let Some(member) = viewer(&state, lang, &headers, &slug, Permission::ViewCalendar).await?
    else {
        return Ok(to_login());
    };
    let blank = vec![("colour".to_owned(), DEFAULT_COLOUR.to_owned())];
    render_page(&state, (lang, &headers), (&member, &slug), (&blank, None)).await
}

async fn render_page(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug): (&Member, &str),
    (pairs, refused): (&Pairs, Option<&termin_domain::FieldErrors>),
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let all = state
        .services
        .practitioners(&member.staff())
        .await
        .map_err(fail(lang))?;
    let rows = all
        .iter()
        .map(|p| Row {
            id: p.id.to_string(),
            name: p.draft.name.clone(),
            title: p.draft.title.clone().unwrap_or_default(),
            specialty: p.draft.specialty.clone().unwrap_or_default(),
            colour: p.draft.colour.as_str().to_owned(),
            room: p.draft.room.clone().unwrap_or_default(),
            active: p.active,
        })
        .collect();
    let mut errors = refused.map(|r| Errors::new(t, r)).unwrap_or_default();
    let form = member
        .has(Permission::ManageSettings)
        .then(|| record_fields("new", pairs, &mut errors));
    let page = PractitionersPage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        rows,
        form,
        form_errors: errors.rest(),
    };
    render::form_page(lang, refused.is_some(), &page)
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
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
    match state
        .services
        .create_practitioner(&member.staff(), &raw_record(&pairs))
        .await
    {
        Ok(created) => go_to(&format!(
            "/practices/{slug}/practitioners/{}?done=created",
            created.id
        )),
        Err(err) => {
            let refused = refused_input(lang, err)?;
            render_page(
                &state,
                (lang, &headers),
                (&member, &slug),
                (&pairs, Some(&refused)),
            )
            .await
        }
    }
}
