//! Patients' data rights as a JSON API: the export of everything held on a patient
//! (GDPR Art. 15 and 20) and erasing or anonymising them (Art. 17). Both need "export or
//! erase patient data"; erasing also a password entered within ten minutes.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use termin_app::schedule::{EXPORT_FORMAT_VERSION, ErasureMode, PatientExport};
use termin_domain::rights::Permission;

use crate::AppState;
use crate::access::{ExportPatientData, Require};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forms::path_id;
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/patients/{id}/export",
            Access::Staff(Permission::ExportPatientData),
            get(export),
        )
        .route(
            "/api/v1/patients/{id}/erase",
            Access::Staff(Permission::ExportPatientData),
            post(erase),
        )
}

/// `GET /api/v1/patients/{id}/export` → the export document.
async fn export(
    State(state): State<AppState>,
    who: Require<ExportPatientData>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let export = state
        .services
        .export_patient(&who.staff(), path_id(&raw)?)
        .await?;
    Ok(Json(export_document(&export)).into_response())
}

#[derive(Deserialize)]
struct EraseBody {
    /// Required: an empty body must never erase anything.
    #[serde(default)]
    mode: String,
}

/// `POST /api/v1/patients/{id}/erase` `{"mode": "erase"|"anonymise"}`.
async fn erase(
    State(state): State<AppState>,
    who: Require<ExportPatientData>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<EraseBody>,
) -> Result<Response, ApiError> {
    let id = path_id(&raw)?;
    let mode = ErasureMode::parse(&body.mode)?;
    let done = state.services.erase_patient(&who.staff(), id, mode).await?;
    Ok(Json(json!({
        "status": match done.mode {
            ErasureMode::Erase => "erased",
            ErasureMode::Anonymise => "anonymised",
        },
        "patient_id": done.patient_id,
        "appointments": done.counts.appointments,
        "bookings": done.counts.bookings,
        "manage_links": done.counts.manage_links,
    }))
    .into_response())
}

/// The export as a self-describing JSON document (instants in UTC, RFC 3339).
pub(crate) fn export_document(export: &PatientExport) -> Value {
    let p = &export.patient;
    let d = &p.draft;
    let appointments: Vec<Value> = export
        .appointments
        .iter()
        .map(|e| {
            let a = &e.appointment;
            json!({
                "id": a.id,
                "start": a.start.to_string(),
                "end": a.end.to_string(),
                "status": a.status.as_str(),
                "practitioner": {"id": a.practitioner_id, "name": e.practitioner},
                "visit_type": {"id": a.visit_type_id, "name": e.visit_type},
                "visit_reason": a.visit_reason,
                "notes": a.notes,
                "cancel_reason": a.cancel_reason,
                "source": a.source,
                "overbooked": a.overbooked,
                "created_at": a.created_at.to_string(),
                "updated_at": a.updated_at.to_string(),
                "history": e.history.iter().map(|c| json!({
                    "seq": c.seq,
                    "at": c.at.to_string(),
                    "actor_id": c.actor_id,
                    "change": c.change,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let bookings: Vec<Value> = export
        .bookings
        .iter()
        .map(|b| {
            json!({
                "id": b.id,
                "status": b.status,
                "appointment_id": b.appointment_id,
                "practitioner_id": b.practitioner_id,
                "visit_type_id": b.visit_type_id,
                "start": b.start.to_string(),
                "end": b.end.to_string(),
                "expires_at": b.expires_at.to_string(),
                "given_name": b.given_name,
                "family_name": b.family_name,
                "birth_date": b.birth_date,
                "phone": b.phone,
                "email": b.email,
                "created_at": b.created_at.to_string(),
            })
        })
        .collect();
    let audit: Vec<Value> = export
        .audit
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "at": e.at.to_string(),
                "actor_id": e.actor_id,
                "action": e.action,
                "target": e.target,
                "outcome": e.outcome,
            })
        })
        .collect();
    json!({
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": export.exported_at.to_string(),
        "practice": {
            "name": export.practice,
            "time_zone": export.time_zone.iana_name(),
        },
        "patient": {
            "id": p.id,
            "given_name": d.given_name,
            "family_name": d.family_name,
            "birth_date": d.birth_date.to_string(),
            "phone": d.phone.as_ref().map(|p| p.as_str()),
            "email": d.email.as_ref().map(|e| e.as_str()),
            "street": d.street,
            "postal_code": d.postal_code,
            "city": d.city,
            "insurance": d.insurance.map(|i| i.as_str()),
            "insurance_number": d.insurance_number.as_ref().map(|k| k.as_str()),
            "notes": d.notes,
            "created_at": p.created_at.to_string(),
            "updated_at": p.updated_at.to_string(),
        },
        "appointments": appointments,
        "online_bookings": bookings,
        "audit_entries": audit,
    })
}
