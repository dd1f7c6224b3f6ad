//! Reminders: the practice's rule, and an appointment's reminders with their delivery state;
//! and how many waiting patients a freed time is offered to at once.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use termin_domain::rights::Permission;
use termin_domain::schedule::reminders::ReminderPolicy;

use crate::AppState;
use crate::access::{ManageSettings, Require, ViewCalendar};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::forms::path_id;
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/settings/reminders",
            Access::Staff(Permission::ManageSettings),
            get(policy).put(set_policy),
        )
        .route(
            "/api/v1/settings/waiting-list",
            Access::Staff(Permission::ManageSettings),
            get(waiting_list).put(set_waiting_list),
        )
        .route(
            "/api/v1/appointments/{id}/reminders",
            Access::Staff(Permission::ViewCalendar),
            get(of_appointment),
        )
}

fn policy_json(policy: &ReminderPolicy) -> Value {
    json!({
        "email_days": policy.email_days,
        "sms_days": policy.sms_days,
        "sms_short_notice_days": policy.sms_short_notice_days,
    })
}

async fn policy(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
) -> Result<Response, ApiError> {
    let policy = state.services.reminder_policy(&who.staff()).await?;
    Ok(Json(policy_json(&policy)).into_response())
}

/// `PUT /api/v1/settings/reminders` `{"email_days":[7,1],"sms_days":2,"sms_short_notice_days":1}`.
async fn set_policy(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
    ApiJson(body): ApiJson<ReminderPolicy>,
) -> Result<Response, ApiError> {
    let policy = state
        .services
        .set_reminder_policy(&who.staff(), body)
        .await?;
    Ok(Json(policy_json(&policy)).into_response())
}

/// `GET /api/v1/appointments/{id}/reminders` →
/// `{"reminders":[{"channel","due_at","status","delivery"}]}`.
async fn of_appointment(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let reminders = state
        .services
        .appointment_reminders(&who.staff(), path_id(&raw)?)
        .await?;
    let list: Vec<Value> = reminders
        .iter()
        .map(|r| {
            json!({
                "channel": r.channel.as_str(),
                "due_at": r.due_at.to_string(),
                "status": r.status,
                "delivery": r.delivery.map(|d| d.as_str()),
            })
        })
        .collect();
    Ok(Json(json!({ "reminders": list })).into_response())
}

#[derive(serde::Deserialize)]
struct WaitingListBody {
    #[serde(default)]
    offers_at_once: i64,
}

/// `GET /api/v1/settings/waiting-list` → `{"offers_at_once"}`.
async fn waiting_list(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
) -> Result<Response, ApiError> {
    let offers = state.services.waiting_list_offers(&who.staff()).await?;
    Ok(Json(json!({ "offers_at_once": offers })).into_response())
}

/// `PUT /api/v1/settings/waiting-list` `{"offers_at_once": 1..20}`.
async fn set_waiting_list(
    State(state): State<AppState>,
    who: Require<ManageSettings>,
    ApiJson(body): ApiJson<WaitingListBody>,
) -> Result<Response, ApiError> {
    let offers = state
        .services
        .set_waiting_list_offers(&who.staff(), body.offers_at_once)
        .await?;
    Ok(Json(json!({ "offers_at_once": offers })).into_response())
}
