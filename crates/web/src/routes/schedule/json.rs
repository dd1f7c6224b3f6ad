//! How calendar records look in the API.

use serde_json::{Value, json};
use termin_app::schedule::{
    Absence, AppointmentChange, AppointmentView, PatientView, Practitioner, VisitType,
};

pub fn practitioner(p: &Practitioner) -> Value {
    json!({
        "id": p.id,
        "name": p.draft.name,
        "title": p.draft.title,
        "specialty": p.draft.specialty,
        "colour": p.draft.colour.as_str(),
        "room": p.draft.room,
        "active": p.active,
        "opening_hours": {"weekly": p.hours.to_raw()},
    })
}

pub fn visit_type(v: &VisitType) -> Value {
    let d = &v.draft;
    json!({
        "id": v.id,
        "name": d.name,
        "duration_minutes": d.duration_minutes,
        "buffer_before_minutes": d.buffer_before_minutes,
        "buffer_after_minutes": d.buffer_after_minutes,
        "online_bookable": d.online_bookable,
        "new_patients": d.new_patients,
        "returning_patients": d.returning_patients,
        "insurances": d.insurances.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
        "practitioner_ids": d.practitioner_ids,
        "instructions": d.instructions,
        "min_lead_minutes": d.rules.min_lead_minutes,
        "max_horizon_days": d.rules.max_horizon_days,
        "cancel_deadline_hours": d.rules.cancel_deadline_hours,
        "active": v.active,
    })
}

pub fn absence(a: &Absence) -> Value {
    let raw = a.plan.to_raw();
    json!({
        "id": a.id,
        "start_date": raw.start_date,
        "end_date": raw.end_date,
        "start_time": raw.start_time,
        "end_time": raw.end_time,
        "repeat_weekly_until": raw.repeat_weekly_until,
        "practitioner_ids": a.practitioner_ids,
        "reason": a.reason,
    })
}

/// A patient; contact data and notes only when the member may see them (otherwise the
/// keys are left out, not set to null, so that "unknown" and "hidden" stay apart).
pub fn patient(view: &PatientView) -> Value {
    let d = &view.patient.draft;
    let mut value = json!({
        "id": view.patient.id,
        "given_name": d.given_name,
        "family_name": d.family_name,
        "birth_date": d.birth_date.to_string(),
        "insurance": d.insurance.map(|i| i.as_str()),
    });
    if view.contacts_visible {
        value["phone"] = json!(d.phone.as_ref().map(|p| p.as_str()));
        value["email"] = json!(d.email.as_ref().map(|e| e.as_str()));
        value["street"] = json!(d.street);
        value["postal_code"] = json!(d.postal_code);
        value["city"] = json!(d.city);
        value["insurance_number"] = json!(d.insurance_number.as_ref().map(|k| k.as_str()));
    }
    if view.notes_visible {
        value["notes"] = json!(d.notes);
    }
    value
}

pub fn appointment(view: &AppointmentView) -> Value {
    let a = &view.appointment;
    let mut value = json!({
        "id": a.id,
        "practitioner_id": a.practitioner_id,
        "visit_type_id": a.visit_type_id,
        "patient_id": a.patient_id,
        "patient": {"given_name": view.patient_given_name, "family_name": view.patient_family_name},
        "start": a.start.to_string(),
        "end": a.end.to_string(),
        "status": a.status.as_str(),
        "overbooked": a.overbooked,
        "cancel_reason": a.cancel_reason,
        "source": a.source,
        "created_at": a.created_at.to_string(),
        "updated_at": a.updated_at.to_string(),
    });
    if view.clinical_visible {
        value["visit_reason"] = json!(a.visit_reason);
        value["notes"] = json!(a.notes);
    }
    value
}

pub fn change(c: &AppointmentChange) -> Value {
    json!({
        "seq": c.seq,
        "at": c.at.to_string(),
        "actor_id": c.actor_id,
        "change": c.change,
    })
}
