//! `/practices/{slug}/patients/{id}/export`: everything the practice holds on a patient as
//! a printable page (the answer to a request under GDPR Art. 15), and the same as a JSON
//! file to take along (`…/export.json`, Art. 20). For members who may export patient data;
//! each export is audit-logged by the use case.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use termin_app::schedule::PatientExport;
use termin_domain::rights::Permission;

use super::visit_types::insurance_key;
use super::{Nav, appointment_time, date, fail, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::forms::path_id;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::schedule::patient_rights::export_document;
use crate::routes::table::{Access, Routes};
use crate::session::to_login;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/practices/{slug}/patients/{id}/export",
            Access::Staff(Permission::ExportPatientData),
            get(page),
        )
        .route(
            "/practices/{slug}/patients/{id}/export.json",
            Access::Staff(Permission::ExportPatientData),
            get(download),
        )
}

/// A labelled value.
struct Item {
    label: &'static str,
    value: String,
}

struct Change {
    at: String,
    change: String,
}

struct Visit {
    weekday: &'static str,
    when: String,
    practitioner: String,
    visit_type: String,
    status: &'static str,
    source: &'static str,
    visit_reason: String,
    notes: String,
    cancel_reason: String,
    history: Vec<Change>,
}

struct OnlineBooking {
    when: String,
    status: &'static str,
    person: String,
    contact: String,
    created: String,
}

struct Logged {
    seq: i64,
    at: String,
    action: String,
    actor: String,
    target: String,
}

#[derive(Template)]
#[template(path = "schedule/patient_export.html")]
struct ExportPage<'a> {
    t: Texts<'a>,
    nav: Nav,
    id: String,
    name: String,
    exported_at: String,
    record: Vec<Item>,
    visits: Vec<Visit>,
    bookings: Vec<OnlineBooking>,
    audit: Vec<Logged>,
}

/// An instant in the practice's zone, as the member's language writes it.
fn instant(lang: Lang, zone: &jiff::tz::TimeZone, at: Timestamp) -> String {
    let local = zone.to_datetime(at);
    format!("{} {}", date(lang, local.date()), local.strftime("%H:%M"))
}

fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

fn record_items(export: &PatientExport, lang: Lang, t: Texts<'_>) -> Vec<Item> {
    let d = &export.patient.draft;
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
    let item = |label, value| Item { label, value };
    vec![
        item("schedule_pages.patient.given_name", d.given_name.clone()),
        item("schedule_pages.patient.family_name", d.family_name.clone()),
        item(
            "schedule_pages.patient.birth_date",
            date(lang, d.birth_date),
        ),
        item(
            "schedule_pages.patient.insurance",
            t.get(
                d.insurance
                    .map_or("schedule_pages.insurance.unknown", insurance_key),
            )
            .to_owned(),
        ),
        item(
            "schedule_pages.patient.insurance_number",
            or_dash(d.insurance_number.as_ref().map(|k| k.as_str())),
        ),
        item(
            "schedule_pages.patient.phone",
            or_dash(d.phone.as_ref().map(|p| p.as_str())),
        ),
        item(
            "schedule_pages.patient.email",
            or_dash(d.email.as_ref().map(|e| e.as_str())),
        ),
        item("schedule_pages.patient.address", address),
        item("schedule_pages.patient.notes", or_dash(d.notes.as_deref())),
        item(
            "patient_rights.record_created",
            instant(lang, &export.time_zone, export.patient.created_at),
        ),
        item(
            "patient_rights.record_updated",
            instant(lang, &export.time_zone, export.patient.updated_at),
        ),
    ]
}

fn visits(export: &PatientExport, lang: Lang) -> Vec<Visit> {
    let zone = &export.time_zone;
    export
        .appointments
        .iter()
        .map(|e| {
            let a = &e.appointment;
            let (weekday, when) = appointment_time(lang, zone, (a.start, a.end));
            Visit {
                weekday,
                when,
                practitioner: e.practitioner.clone(),
                visit_type: e.visit_type.clone(),
                status: status_key(a.status.as_str()),
                source: if a.source == "online" {
                    "patient_rights.source_online"
                } else {
                    "patient_rights.source_staff"
                },
                visit_reason: or_dash(a.visit_reason.as_deref()),
                notes: or_dash(a.notes.as_deref()),
                cancel_reason: or_dash(a.cancel_reason.as_deref()),
                history: e
                    .history
                    .iter()
                    .map(|c| Change {
                        at: instant(lang, zone, c.at),
                        change: c.change.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

fn status_key(status: &str) -> &'static str {
    match status {
        "booked" => "schedule_pages.status.booked",
        "arrived" => "schedule_pages.status.arrived",
        "completed" => "schedule_pages.status.completed",
        "no_show" => "schedule_pages.status.no_show",
        _ => "schedule_pages.status.cancelled",
    }
}

fn bookings(export: &PatientExport, lang: Lang) -> Vec<OnlineBooking> {
    let zone = &export.time_zone;
    export
        .bookings
        .iter()
        .map(|b| {
            let (_, when) = appointment_time(lang, zone, (b.start, b.end));
            OnlineBooking {
                when,
                status: if b.status == "pending" {
                    "patient_rights.booking_pending"
                } else {
                    "patient_rights.booking_confirmed"
                },
                person: format!("{} {} {}", b.given_name, b.family_name, b.birth_date)
                    .trim()
                    .to_owned(),
                contact: [Some(b.phone.clone()), b.email.clone()]
                    .into_iter()
                    .flatten()
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                created: instant(lang, zone, b.created_at),
            }
        })
        .collect()
}

fn audit(export: &PatientExport, lang: Lang) -> Vec<Logged> {
    export
        .audit
        .iter()
        .map(|e| Logged {
            seq: e.seq,
            at: instant(lang, &export.time_zone, e.at),
            action: e.action.clone(),
            actor: e.actor_id.clone(),
            target: e.target.clone(),
        })
        .collect()
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(member) = viewer(&state, lang, &headers, &slug, Permission::ExportPatientData).await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    let export = state
        .services
        .export_patient(&member.staff(), id)
        .await
        .map_err(fail(lang))?;
    let t = I18n::global().texts(lang);
    let d = &export.patient.draft;
    let page = ExportPage {
        t,
        nav: member.nav(&slug),
        id: id.to_string(),
        name: format!("{} {}", d.given_name, d.family_name),
        exported_at: instant(lang, &export.time_zone, export.exported_at),
        record: record_items(&export, lang, t),
        visits: visits(&export, lang),
        bookings: bookings(&export, lang),
        audit: audit(&export, lang),
    };
    render::html(lang, &page)
}

/// The export as a JSON file (the same document as the API's).
async fn download(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let Some(member) = viewer(&state, lang, &headers, &slug, Permission::ExportPatientData).await?
    else {
        return Ok(to_login());
    };
    let id: termin_domain::ids::PatientId = path_id(&raw_id).map_err(fail(lang))?;
    let export = state
        .services
        .export_patient(&member.staff(), id)
        .await
        .map_err(fail(lang))?;
    let disposition = format!("attachment; filename=\"patient-{id}.json\"");
    Ok((
        [(header::CONTENT_DISPOSITION, disposition)],
        axum::Json(export_document(&export)),
    )
        .into_response())
}
