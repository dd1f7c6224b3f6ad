//! `/practices/{slug}/visit-types`: the practice's visit types and, for members who manage
//! the settings, the form that adds one. The form (every field of a visit type) is shared
//! with the edit page (`visit_type.rs`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use termin_app::schedule::{Practitioner, VisitType};
use termin_domain::rights::Permission;
use termin_domain::schedule::visit_type::{Insurance, RawVisitType, VisitTypeDraft};
use termin_domain::{DomainError, FieldErrors};

use super::fields::{Errors, Field, Pairs, filled, number, ticked, value};
use super::flow::{go_to, page_with_form, refused_input};
use super::{Member, Nav, fail, submitter, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::forms::values;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::Routes;
use crate::session::{form_csrf_token, to_login};

const PATH: &str = "/practices/{slug}/visit-types";

pub fn routes() -> Routes {
    page_with_form(PATH, get(page), Permission::ManageSettings, post(create))
}

/// A checkbox of a list.
pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// The visit type form, filled.
pub(super) struct VisitTypeForm {
    pub main: Vec<Field>,
    pub online_bookable: bool,
    pub new_patients: bool,
    pub returning_patients: bool,
    pub patients_errors: Vec<String>,
    pub insurances: Vec<Choice>,
    pub insurances_errors: Vec<String>,
    pub practitioners: Vec<Choice>,
    pub practitioners_errors: Vec<String>,
    pub rules: Vec<Field>,
    /// What no field took.
    pub errors: Vec<String>,
}

pub(super) fn insurance_key(insurance: Insurance) -> &'static str {
    match insurance {
        Insurance::Statutory => "schedule_pages.insurance.statutory",
        Insurance::Private => "schedule_pages.insurance.private",
        Insurance::SelfPay => "schedule_pages.insurance.self_pay",
    }
}

/// The form with the values of `pairs` and the messages of `refused`.
pub(super) fn visit_type_form(
    t: Texts<'_>,
    form: &str,
    pairs: &[(String, String)],
    refused: Option<&FieldErrors>,
    practitioners: &[Practitioner],
) -> VisitTypeForm {
    let mut errors = refused.map(|r| Errors::new(t, r)).unwrap_or_default();
    let mut field = |spec| Field::new(form, spec, pairs, &mut errors);
    let main = vec![
        field(("name", "schedule_pages.visit_type.name", "text")).required(),
        field((
            "duration_minutes",
            "schedule_pages.visit_type.duration_minutes",
            "number",
        ))
        .required(),
        field((
            "buffer_before_minutes",
            "schedule_pages.visit_type.buffer_before_minutes",
            "number",
        )),
        field((
            "buffer_after_minutes",
            "schedule_pages.visit_type.buffer_after_minutes",
            "number",
        ))
        .hint("schedule_pages.visit_type.buffer_hint"),
    ];
    let rules = vec![
        field((
            "instructions",
            "schedule_pages.visit_type.instructions",
            "textarea",
        ))
        .hint("schedule_pages.visit_type.instructions_hint"),
        field((
            "min_lead_minutes",
            "schedule_pages.visit_type.min_lead_minutes",
            "number",
        )),
        field((
            "max_horizon_days",
            "schedule_pages.visit_type.max_horizon_days",
            "number",
        )),
        field((
            "cancel_deadline_hours",
            "schedule_pages.visit_type.cancel_deadline_hours",
            "number",
        )),
    ];
    let insurances_ticked = values(pairs, "insurances");
    let practitioners_ticked = values(pairs, "practitioner_ids");
    let mut patients_errors = errors.take("new_patients");
    patients_errors.extend(errors.take("returning_patients"));
    VisitTypeForm {
        main,
        online_bookable: ticked(pairs, "online_bookable"),
        new_patients: ticked(pairs, "new_patients"),
        returning_patients: ticked(pairs, "returning_patients"),
        patients_errors,
        insurances: Insurance::ALL
            .into_iter()
            .map(|i| Choice {
                value: i.as_str().to_owned(),
                label: t.get(insurance_key(i)).to_owned(),
                checked: insurances_ticked.iter().any(|v| v == i.as_str()),
            })
            .collect(),
        insurances_errors: errors.take("insurances"),
        practitioners: practitioners
            .iter()
            .map(|p| {
                let id = p.id.to_string();
                Choice {
                    checked: practitioners_ticked.contains(&id),
                    value: id,
                    label: p.draft.name.clone(),
                }
            })
            .collect(),
        practitioners_errors: errors.take("practitioner_ids"),
        rules,
        errors: errors.rest(),
    }
}

/// A stored visit type as form values.
pub(super) fn stored_pairs(v: &VisitType) -> Pairs {
    let d = &v.draft;
    let mut pairs = vec![
        ("name".to_owned(), d.name.clone()),
        (
            "duration_minutes".to_owned(),
            d.duration_minutes.to_string(),
        ),
        (
            "buffer_before_minutes".to_owned(),
            d.buffer_before_minutes.to_string(),
        ),
        (
            "buffer_after_minutes".to_owned(),
            d.buffer_after_minutes.to_string(),
        ),
        (
            "instructions".to_owned(),
            d.instructions.clone().unwrap_or_default(),
        ),
        (
            "min_lead_minutes".to_owned(),
            d.rules.min_lead_minutes.to_string(),
        ),
        (
            "max_horizon_days".to_owned(),
            d.rules.max_horizon_days.to_string(),
        ),
        (
            "cancel_deadline_hours".to_owned(),
            d.rules.cancel_deadline_hours.to_string(),
        ),
    ];
    for (flag, on) in [
        ("online_bookable", d.online_bookable),
        ("new_patients", d.new_patients),
        ("returning_patients", d.returning_patients),
        ("active", v.active),
    ] {
        if on {
            pairs.push((flag.to_owned(), "on".to_owned()));
        }
    }
    pairs.extend(
        d.insurances
            .iter()
            .map(|i| ("insurances".to_owned(), i.as_str().to_owned())),
    );
    pairs.extend(
        d.practitioner_ids
            .iter()
            .map(|p| ("practitioner_ids".to_owned(), p.to_string())),
    );
    pairs
}

/// The values a new visit type starts with (the domain's defaults).
fn new_pairs() -> Pairs {
    let rules = termin_domain::schedule::visit_type::BookingRules::default();
    [
        ("buffer_before_minutes", "0".to_owned()),
        ("buffer_after_minutes", "0".to_owned()),
        ("new_patients", "on".to_owned()),
        ("returning_patients", "on".to_owned()),
        ("min_lead_minutes", rules.min_lead_minutes.to_string()),
        ("max_horizon_days", rules.max_horizon_days.to_string()),
        (
            "cancel_deadline_hours",
            rules.cancel_deadline_hours.to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The visit type as the form sent it. Numbers that are not numbers are refused here; the
/// caller adds the domain's messages for the other fields before showing the form again.
pub(super) fn raw_visit_type(pairs: &[(String, String)]) -> Result<RawVisitType, FieldErrors> {
    let mut refused = FieldErrors::new();
    let mut num = |name| number(pairs, name, &mut refused);
    let raw = RawVisitType {
        name: value(pairs, "name"),
        duration_minutes: num("duration_minutes"),
        buffer_before_minutes: num("buffer_before_minutes"),
        buffer_after_minutes: num("buffer_after_minutes"),
        min_lead_minutes: num("min_lead_minutes"),
        max_horizon_days: num("max_horizon_days"),
        cancel_deadline_hours: num("cancel_deadline_hours"),
        online_bookable: ticked(pairs, "online_bookable"),
        new_patients: ticked(pairs, "new_patients"),
        returning_patients: ticked(pairs, "returning_patients"),
        insurances: values(pairs, "insurances"),
        practitioner_ids: values(pairs, "practitioner_ids"),
        instructions: filled(pairs, "instructions"),
    };
    if refused.is_empty() {
        return Ok(raw);
    }
    if let Err(DomainError::Invalid(more)) = VisitTypeDraft::parse(&raw) {
        for (field, messages) in more.iter() {
            if refused.get(field).is_none() {
                for message in messages {
                    refused.add(field, message.clone());
                }
            }
        }
    }
    Err(refused)
}

struct Row {
    id: String,
    name: String,
    duration: u32,
    online: bool,
    practitioners: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "schedule/visit_types.html")]
struct VisitTypesPage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    rows: Vec<Row>,
    may_edit: bool,
    form: Option<VisitTypeForm>,
    action: String,
    /// New visit types are active; the box is on the edit page only.
    active_box: Option<bool>,
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
    render_page(
        &state,
        (lang, &headers),
        (&member, &slug),
        (&new_pairs(), None),
    )
    .await
}

async fn render_page(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug): (&Member, &str),
    (pairs, refused): (&Pairs, Option<&FieldErrors>),
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let staff = member.staff();
    let all = state
        .services
        .visit_types(&staff)
        .await
        .map_err(fail(lang))?;
    let practitioners = state
        .services
        .practitioners(&staff)
        .await
        .map_err(fail(lang))?;
    let name_of = |id: &termin_domain::ids::PractitionerId| {
        practitioners
            .iter()
            .find(|p| p.id == *id)
            .map(|p| p.draft.name.clone())
    };
    let rows = all
        .iter()
        .map(|v| Row {
            id: v.id.to_string(),
            name: v.draft.name.clone(),
            duration: v.draft.duration_minutes,
            online: v.draft.online_bookable,
            practitioners: v
                .draft
                .practitioner_ids
                .iter()
                .filter_map(name_of)
                .collect::<Vec<_>>()
                .join(", "),
            active: v.active,
        })
        .collect();
    let may_edit = member.has(Permission::ManageSettings);
    let form = may_edit.then(|| visit_type_form(t, "new", pairs, refused, &practitioners));
    let page = VisitTypesPage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        rows,
        may_edit,
        form,
        action: format!("/practices/{slug}/visit-types"),
        active_box: None,
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
    let result = match raw_visit_type(&pairs) {
        Ok(raw) => {
            state
                .services
                .create_visit_type(&member.staff(), &raw)
                .await
        }
        Err(refused) => Err(DomainError::Invalid(refused)),
    };
    match result {
        Ok(created) => go_to(&format!(
            "/practices/{slug}/visit-types/{}?done=created",
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
