//! Free slots for staff.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use termin_app::schedule::SlotSearch;
use termin_domain::rights::Permission;

use crate::AppState;
use crate::access::{Require, ViewCalendar};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::routes::table::{Access, Routes};

pub fn routes() -> Routes {
    Routes::new().route(
        "/api/v1/slots",
        Access::Staff(Permission::ViewCalendar),
        get(list),
    )
}

/// `GET /api/v1/slots?visit_type_id=&practitioner_id=&from=DATE&to=DATE` →
/// `{"slots":[{"start","end","practitioner_id"}]}` (the public endpoint's shape).
async fn list(
    State(state): State<AppState>,
    who: Require<ViewCalendar>,
    ApiQuery(search): ApiQuery<SlotSearch>,
) -> Result<Response, ApiError> {
    let slots = state.services.staff_slots(&who.staff(), &search).await?;
    let list: Vec<_> = slots
        .iter()
        .map(|s| {
            json!({
                "start": s.start.to_string(),
                "end": s.end.to_string(),
                "practitioner_id": s.practitioner,
            })
        })
        .collect();
    Ok(Json(json!({ "slots": list })).into_response())
}
