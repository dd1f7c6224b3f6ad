//! The booked appointments a new absence covers, one by one: cancel it (the patient is
//! told, with a reason) or keep it. The ids still to decide travel with each form, so the
//! page needs no state on the server and works without JavaScript; when none is left the
//! browser goes back to the practitioner's page.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use termin_app::schedule::Cancellation;
use termin_domain::ids::{AppointmentId, PractitionerId};
use termin_domain::rights::Permission;
use termin_domain::schedule::appointment::AppointmentStatus;
use termin_domain::{DomainError, FieldErrors};

use super::fields::{Errors, Pairs, filled, value};
use super::flow::go_to;
use super::{Member, Nav, appointment_time, fail, submitter};
use crate::AppState;
use crate::error::PageError;
use crate::forms::{path_id, values};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, to_login};

pub fn routes() -> Routes {
    Routes::new().route(
        "/practices/{slug}/practitioners/{id}/covered",
        Access::Staff(Permission::ManageAppointments),
        post(decide),
    )
}

/// What just happened, for the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decided {
    AbsenceSaved,
    Cancelled,
    AlreadyCancelled,
    Kept,
    /// The cancellation was refused (see the row's messages).
    Nothing,
}

impl Decided {
    fn notice(self) -> Option<&'static str> {
        match self {
            Decided::AbsenceSaved => Some("schedule_pages.covered.absence_saved"),
            Decided::Cancelled => Some("schedule_pages.covered.cancelled"),
            Decided::AlreadyCancelled => Some("schedule_pages.covered.already_cancelled"),
            Decided::Kept => Some("schedule_pages.covered.kept"),
            Decided::Nothing => None,
        }
    }
}

/// Where the decisions stand.
pub(super) struct Progress {
    pub pending: Vec<AppointmentId>,
    pub decided: Decided,
    /// The absence's reason, offered as the cancellation reason.
    pub default_reason: String,
    /// A refused cancellation: the appointment, the reason entered, the messages.
    pub refused: Option<(AppointmentId, String, FieldErrors)>,
}

struct Row {
    id: String,
    weekday: &'static str,
    when: String,
    patient: String,
    reason: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "schedule/covered.html")]
struct CoveredPage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    practitioner: String,
    notice: Option<&'static str>,
    rows: Vec<Row>,
    /// Every id still to decide, sent again with each form.
    pending: Vec<String>,
    default_reason: String,
    may_cancel: bool,
}

pub(super) async fn render_page(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug, practitioner): (&Member, &str, PractitionerId),
    progress: Progress,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let zone = member.zone();
    let staff = member.staff();
    let mut rows = Vec::new();
    let mut pending = Vec::new();
    for id in progress.pending {
        let view = match state.services.appointment(&staff, id).await {
            Ok(view) => view,
            // Gone from sight (moved to a calendar the member does not see): nothing to
            // decide here any more.
            Err(DomainError::NotFound | DomainError::Forbidden) => continue,
            Err(err) => return Err(fail(lang)(err)),
        };
        let a = &view.appointment;
        if a.status == AppointmentStatus::Cancelled {
            continue;
        }
        let (reason, errors) = match &progress.refused {
            Some((refused_id, reason, refused)) if *refused_id == id => {
                (reason.clone(), Errors::new(t, refused).rest())
            }
            _ => (progress.default_reason.clone(), Vec::new()),
        };
        let (weekday, when) = appointment_time(lang, &zone, (a.start, a.end));
        rows.push(Row {
            id: id.to_string(),
            weekday,
            when,
            patient: format!("{} {}", view.patient_given_name, view.patient_family_name),
            reason,
            errors,
        });
        pending.push(id.to_string());
    }
    if rows.is_empty() {
        return go_to(&format!(
            "/practices/{slug}/practitioners/{practitioner}?done=covered#absences"
        ));
    }
    let page = CoveredPage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        practitioner: practitioner.to_string(),
        notice: progress.decided.notice(),
        rows,
        pending,
        default_reason: progress.default_reason,
        may_cancel: member
            .acting
            .rights
            .allows(Permission::ManageAppointments, practitioner),
    };
    render::form_page(lang, progress.refused.is_some(), &page)
}

/// The form: `appointment`, `decision` (`cancel` or `keep`), `reason`, `default_reason`
/// and one `pending` field per appointment still to decide.
async fn decide(
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
        Permission::ManageAppointments,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let practitioner: PractitionerId = path_id(&raw_id).map_err(fail(lang))?;
    let appointment: AppointmentId = path_id(&value(&pairs, "appointment")).map_err(fail(lang))?;
    let mut pending: Vec<AppointmentId> = values(&pairs, "pending")
        .iter()
        .filter_map(|raw| raw.parse().ok())
        .collect();
    let reason = value(&pairs, "reason");
    let mut refused = None;
    let decided = match value(&pairs, "decision").as_str() {
        "keep" => Decided::Kept,
        "cancel" => {
            let cancellation = Cancellation {
                reason: filled(&pairs, "reason"),
                notify: Some(true),
            };
            match state
                .services
                .cancel_appointment(&member.staff(), appointment, &cancellation)
                .await
            {
                Ok(()) => Decided::Cancelled,
                Err(DomainError::Conflict { .. }) => Decided::AlreadyCancelled,
                Err(DomainError::Invalid(fields)) => {
                    refused = Some((appointment, reason, fields));
                    Decided::Nothing
                }
                Err(err) => return Err(fail(lang)(err)),
            }
        }
        _ => return Err(fail(lang)(DomainError::NotFound)),
    };
    if refused.is_none() {
        pending.retain(|id| *id != appointment);
    }
    render_page(
        &state,
        (lang, &headers),
        (&member, &slug, practitioner),
        Progress {
            pending,
            decided,
            default_reason: value(&pairs, "default_reason"),
            refused,
        },
    )
    .await
}
