//! `/practices/{slug}/patients`: finding a patient (name, birth date, phone) and, for
//! members who manage patients, the form that adds one. A record with the same name and
//! birth date comes back as a warning with "create anyway". Contact fields and notes are
//! offered only to members who may see them. The form is shared with `patient.rs`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use termin_app::schedule::{NewPatient, PatientSearch, PatientView};
use termin_domain::rights::Permission;
use termin_domain::schedule::patient::RawPatient;
use termin_domain::schedule::visit_type::Insurance;
use termin_domain::{DomainError, FieldErrors};

use super::fields::{Errors, Field, Pairs, present, ticked, value};
use super::flow::{go_to, page_with_form, refused_input};
use super::visit_types::insurance_key;
use super::{Member, Nav, date, fail, submitter, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::Routes;
use crate::session::{form_csrf_token, to_login};

const PATH: &str = "/practices/{slug}/patients";

pub fn routes() -> Routes {
    page_with_form(PATH, get(page), Permission::ManagePatients, post(create))
}

/// The fields of a patient form; contact fields and notes only where the member sees them.
pub(super) fn patient_fields(
    form: &str,
    pairs: &[(String, String)],
    errors: &mut Errors,
    (contacts, notes): (bool, bool),
) -> Vec<Field> {
    let mut field = |spec| Field::new(form, spec, pairs, errors);
    let mut fields = vec![
        field(("given_name", "schedule_pages.patient.given_name", "text")).required(),
        field(("family_name", "schedule_pages.patient.family_name", "text")).required(),
        field(("birth_date", "schedule_pages.patient.birth_date", "date")).required(),
        field(("insurance", "schedule_pages.patient.insurance", "select")).options(
            std::iter::once(("", "schedule_pages.insurance.unknown"))
                .chain(
                    Insurance::ALL
                        .into_iter()
                        .map(|i| (i.as_str(), insurance_key(i))),
                )
                .collect(),
        ),
    ];
    if contacts {
        fields.extend([
            field(("phone", "schedule_pages.patient.phone", "tel"))
                .hint("schedule_pages.patient.phone_hint"),
            field(("email", "schedule_pages.patient.email", "email")),
            field(("street", "schedule_pages.patient.street", "text")),
            field(("postal_code", "schedule_pages.patient.postal_code", "text")),
            field(("city", "schedule_pages.patient.city", "text")),
            field((
                "insurance_number",
                "schedule_pages.patient.insurance_number",
                "text",
            ))
            .hint("schedule_pages.patient.insurance_number_hint"),
        ]);
    }
    if notes {
        fields.push(field(("notes", "schedule_pages.patient.notes", "textarea")));
    }
    fields
}

/// The record as the form sent it: a field the page did not show stays `None` (an update
/// keeps its stored value).
pub(super) fn raw_patient(pairs: &[(String, String)]) -> RawPatient {
    RawPatient {
        given_name: value(pairs, "given_name"),
        family_name: value(pairs, "family_name"),
        birth_date: value(pairs, "birth_date"),
        phone: present(pairs, "phone"),
        email: present(pairs, "email"),
        street: present(pairs, "street"),
        postal_code: present(pairs, "postal_code"),
        city: present(pairs, "city"),
        insurance: present(pairs, "insurance"),
        insurance_number: present(pairs, "insurance_number"),
        notes: present(pairs, "notes"),
    }
}

/// One patient in a list.
pub(super) struct PatientRow {
    pub id: String,
    pub name: String,
    pub birth_date: String,
    pub insurance: Option<&'static str>,
    pub phone: String,
}

impl PatientRow {
    fn of(view: &PatientView, lang: Lang) -> Self {
        let d = &view.patient.draft;
        Self {
            id: view.patient.id.to_string(),
            name: format!("{}, {}", d.family_name, d.given_name),
            birth_date: date(lang, d.birth_date),
            insurance: d.insurance.map(insurance_key),
            phone: d
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

struct NewForm {
    fields: Vec<Field>,
    errors: Vec<String>,
    /// Records with the same name and birth date: id and label.
    duplicates: Option<Vec<(String, String)>>,
}

#[derive(Template)]
#[template(path = "schedule/patients.html")]
struct PatientsPage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    search: Vec<Field>,
    search_errors: Vec<String>,
    searched: bool,
    results: Vec<PatientRow>,
    contacts_visible: bool,
    form: Option<NewForm>,
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    name: Option<String>,
    birth_date: Option<String>,
    phone: Option<String>,
}

/// What the create form brings back.
enum Entered<'a> {
    Nothing,
    Refused(&'a Pairs, &'a FieldErrors),
    Duplicates(&'a Pairs, Vec<termin_domain::ids::PatientId>),
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let Some(member) = viewer(&state, lang, &headers, &slug, Permission::ViewCalendar).await?
    else {
        return Ok(to_login());
    };
    render_page(
        &state,
        (lang, &headers),
        (&member, &slug),
        query,
        Entered::Nothing,
    )
    .await
}

async fn render_page(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug): (&Member, &str),
    query: SearchQuery,
    entered: Entered<'_>,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let contacts = member.has(Permission::SeePatientContacts);
    let notes = member.has(Permission::SeeMedicalNotes);
    let search = PatientSearch {
        name: query.name.filter(|v| !v.trim().is_empty()),
        birth_date: query.birth_date.filter(|v| !v.trim().is_empty()),
        phone: query.phone.filter(|v| !v.trim().is_empty()),
    };
    let searched = search.name.is_some() || search.birth_date.is_some() || search.phone.is_some();
    let (results, search_refused) = if searched {
        match state
            .services
            .search_patients(&member.staff(), &search)
            .await
        {
            Ok(found) => (
                found.iter().map(|v| PatientRow::of(v, lang)).collect(),
                None,
            ),
            Err(DomainError::Invalid(refused)) => (Vec::new(), Some(refused)),
            Err(err) => return Err(fail(lang)(err)),
        }
    } else {
        (Vec::new(), None)
    };
    let search_pairs: Pairs = [
        ("name", search.name),
        ("birth_date", search.birth_date),
        ("phone", search.phone),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
    .collect();
    let mut errors = search_refused
        .as_ref()
        .map(|r| Errors::new(t, r))
        .unwrap_or_default();
    let mut search_fields = vec![
        Field::new(
            "search",
            ("name", "schedule_pages.patients.search_name", "search"),
            &search_pairs,
            &mut errors,
        ),
        Field::new(
            "search",
            ("birth_date", "schedule_pages.patient.birth_date", "date"),
            &search_pairs,
            &mut errors,
        ),
    ];
    if contacts {
        search_fields.push(Field::new(
            "search",
            ("phone", "schedule_pages.patient.phone", "tel"),
            &search_pairs,
            &mut errors,
        ));
    }
    let search_errors = errors.rest();

    let form = member.has(Permission::ManagePatients).then(|| {
        let empty = Pairs::new();
        let no_errors = FieldErrors::new();
        let (pairs, refused, duplicates) = match &entered {
            Entered::Nothing => (&empty, &no_errors, None),
            Entered::Refused(pairs, refused) => (*pairs, *refused, None),
            Entered::Duplicates(pairs, ids) => (*pairs, &no_errors, Some(ids)),
        };
        let mut errors = Errors::new(t, refused);
        let label = format!(
            "{}, {} ({})",
            value(pairs, "family_name").trim(),
            value(pairs, "given_name").trim(),
            value(pairs, "birth_date").trim()
        );
        NewForm {
            fields: patient_fields("new", pairs, &mut errors, (contacts, notes)),
            errors: errors.rest(),
            duplicates: duplicates.map(|ids| {
                ids.iter()
                    .map(|id| (id.to_string(), label.clone()))
                    .collect()
            }),
        }
    });
    let refused = search_refused.is_some() || !matches!(entered, Entered::Nothing);
    let page = PatientsPage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        search: search_fields,
        search_errors,
        searched,
        results,
        contacts_visible: contacts,
        form,
    };
    render::form_page(lang, refused, &page)
}

/// The patient form and `confirm_duplicate` ("create anyway").
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
        Permission::ManagePatients,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let raw = raw_patient(&pairs);
    let confirm = ticked(&pairs, "confirm_duplicate");
    let at = (&member, slug.as_str());
    match state
        .services
        .create_patient(&member.staff(), &raw, confirm)
        .await
    {
        Ok(NewPatient::Created(view)) => go_to(&format!(
            "/practices/{slug}/patients/{}?done=created",
            view.patient.id
        )),
        Ok(NewPatient::PossibleDuplicate(ids)) => {
            render_page(
                &state,
                (lang, &headers),
                at,
                SearchQuery::default(),
                Entered::Duplicates(&pairs, ids),
            )
            .await
        }
        Err(err) => {
            let refused = refused_input(lang, err)?;
            render_page(
                &state,
                (lang, &headers),
                at,
                SearchQuery::default(),
                Entered::Refused(&pairs, &refused),
            )
            .await
        }
    }
}
