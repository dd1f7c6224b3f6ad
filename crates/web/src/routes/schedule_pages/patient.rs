//! `/practices/{slug}/patients/{id}`: a patient's record (contact data and notes only for
//! members who may see them), the form that changes it, and the appointment history in
//! the calendars the member sees.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use termin_app::schedule::PatientView;
use termin_domain::FieldErrors;
use termin_domain::ids::PatientId;
use termin_domain::rights::Permission;

use super::fields::{Errors, Field, Pairs};
use super::flow::{done_notice, go_to, page_with_form, refused_input};
use super::patients::{patient_fields, raw_patient};
use super::visit_types::insurance_key;
use super::{Member, Nav, appointment_time, date, fail, submitter, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::forms::{Done, path_id};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::Routes;
use crate::session::{form_csrf_token, to_login};

const PATH: &str = "/practices/{slug}/patients/{id}";

pub fn routes() -> Routes {
    page_with_form(PATH, get(page), Permission::ManagePatients, post(update))
}

/// A labelled value of the record.
struct Item {
    label: &'static str,
    value: String,
}

struct Visit {
    weekday: &'static str,
    when: String,
    practitioner: String,
    visit_type: String,
    status: String,
    cancel_reason: String,
}

struct EditForm {
    fields: Vec<Field>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "schedule/patient.html")]
struct PatientPage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    id: String,
    name: String,
    notice: Option<&'static str>,
    record: Vec<Item>,
    notes: Option<String>,
    history: Vec<Visit>,
    form: Option<EditForm>,
    /// The member may export, erase or anonymise the patient's data.
    may_export: bool,
}

/// The record's values as the edit form shows them.
fn stored_pairs(view: &PatientView) -> Pairs {
    let d = &view.patient.draft;
    let mut pairs = vec![
        ("given_name", d.given_name.clone()),
        ("family_name", d.family_name.clone()),
        ("birth_date", d.birth_date.to_string()),
        (
            "insurance",
            d.insurance
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
        ),
    ];
    if view.contacts_visible {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        pairs.extend([
            (
                "phone",
                d.phone
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            (
                "email",
                d.email
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            ("street", text(&d.street)),
            ("postal_code", text(&d.postal_code)),
            ("city", text(&d.city)),
            (
                "insurance_number",
                d.insurance_number
                    .as_ref()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        ]);
    }
    if view.notes_visible {
        pairs.push(("notes", d.notes.clone().unwrap_or_default()));
    }
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn record_items(view: &PatientView, lang: Lang, t: Texts<'_>) -> Vec<Item> {
    let d = &view.patient.draft;
    let mut items = vec![
        Item {
            label: "schedule_pages.patient.birth_date",
            value: date(lang, d.birth_date),
        },
        Item {
            label: "schedule_pages.patient.insurance",
            value: t
                .get(
                    d.insurance
                        .map_or("schedule_pages.insurance.unknown", insurance_key),
                )
                .to_owned(),
        },
    ];
    if view.contacts_visible {
        let address = [
            d.street.clone().unwrap_or_default(),
            [d.postal_code.clone(), d.city.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        items.extend([
            Item {
                label: "schedule_pages.patient.phone",
                value: d
                    .phone
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            },
            Item {
                label: "schedule_pages.patient.email",
                value: d
                    .email
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
            },
            Item {
                label: "schedule_pages.patient.address",
                value: address,
            },
            Item {
                label: "schedule_pages.patient.insurance_number",
                value: d
                    .insurance_number
                    .as_ref()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
            },
        ]);
    }
    items
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
    let notice = done_notice(done.done.as_deref(), "schedule_pages.patient.done_created");
    render_page(&state, (lang, &headers), (&member, &slug, id), notice, None).await
}

async fn render_page(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug, id): (&Member, &str, PatientId),
    notice: Option<&'static str>,
    entered: Option<(&Pairs, &FieldErrors)>,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let staff = member.staff();
    let services = &state.services;
    let view = services.patient(&staff, id).await.map_err(fail(lang))?;
    let appointments = services
        .patient_history(&staff, id)
        .await
        .map_err(fail(lang))?;
    let practitioners = services.practitioners(&staff).await.map_err(fail(lang))?;
    let visit_types = services.visit_types(&staff).await.map_err(fail(lang))?;
    let zone = member.zone();
    let history = appointments
        .iter()
        .map(|a| {
            let (weekday, when) = appointment_time(lang, &zone, (a.start, a.end));
            Visit {
                weekday,
                when,
                practitioner: practitioners
                    .iter()
                    .find(|p| p.id == a.practitioner_id)
                    .map(|p| p.draft.name.clone())
                    .unwrap_or_default(),
                visit_type: visit_types
                    .iter()
                    .find(|v| v.id == a.visit_type_id)
                    .map(|v| v.draft.name.clone())
                    .unwrap_or_default(),
                status: t
                    .get(&format!("schedule_pages.status.{}", a.status.as_str()))
                    .to_owned(),
                cancel_reason: a.cancel_reason.clone().unwrap_or_default(),
            }
        })
        .collect();
    let stored = stored_pairs(&view);
    let refused = entered.is_some();
    let form = member.has(Permission::ManagePatients).then(|| {
        let no_errors = FieldErrors::new();
        let (pairs, refused) = entered.unwrap_or((&stored, &no_errors));
        let mut errors = Errors::new(t, refused);
        EditForm {
            fields: patient_fields(
                "edit",
                pairs,
                &mut errors,
                (view.contacts_visible, view.notes_visible),
            ),
            errors: errors.rest(),
        }
    });
    let d = &view.patient.draft;
    let page = PatientPage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        id: id.to_string(),
        name: format!("{} {}", d.given_name, d.family_name),
        notice,
        record: record_items(&view, lang, t),
        notes: view
            .notes_visible
            .then(|| d.notes.clone().unwrap_or_default()),
        history,
        form,
        may_export: member.has(Permission::ExportPatientData),
    };
    render::form_page(lang, refused, &page)
}

/// The patient form; fields the page did not show keep their stored values.
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
        Permission::ManagePatients,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    match state
        .services
        .update_patient(&member.staff(), id, &raw_patient(&pairs))
        .await
    {
        Ok(_) => go_to(&format!("/practices/{slug}/patients/{id}?done=saved")),
        Err(err) => {
            let refused = refused_input(lang, err)?;
            render_page(
                &state,
                (lang, &headers),
                (&member, &slug, id),
                None,
                Some((&pairs, &refused)),
            )
            .await
        }
    }
}
