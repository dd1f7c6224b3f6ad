//! `/practices/{slug}/visit-types/{id}`: changing a visit type (members who manage the
//! practice's settings).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use termin_domain::ids::VisitTypeId;
use termin_domain::rights::Permission;
use termin_domain::{DomainError, FieldErrors};

use super::fields::{Pairs, ticked};
use super::flow::{done_notice, go_to, refused_input};
use super::visit_types::{VisitTypeForm, raw_visit_type, stored_pairs, visit_type_form};
use super::{Member, Nav, fail, submitter, viewer};
use crate::AppState;
use crate::error::PageError;
use crate::forms::{Done, path_id};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, to_login};

pub fn routes() -> Routes {
    Routes::new().route(
        "/practices/{slug}/visit-types/{id}",
        Access::Staff(Permission::ManageSettings),
        get(page).post(update),
    )
}

#[derive(Template)]
#[template(path = "schedule/visit_type.html")]
struct VisitTypePage<'a> {
    t: Texts<'a>,
    csrf: String,
    nav: Nav,
    name: String,
    notice: Option<&'static str>,
    form: VisitTypeForm,
    action: String,
    active_box: Option<bool>,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_id)): Path<(String, String)>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let Some(member) = viewer(&state, lang, &headers, &slug, Permission::ManageSettings).await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    let notice = done_notice(
        done.done.as_deref(),
        "schedule_pages.visit_type.done_created",
    );
    render_page(&state, (lang, &headers), (&member, &slug, id), notice, None).await
}

async fn render_page(
    state: &AppState,
    (lang, headers): (Lang, &HeaderMap),
    (member, slug, id): (&Member, &str, VisitTypeId),
    notice: Option<&'static str>,
    entered: Option<(&Pairs, &FieldErrors)>,
) -> Result<Response, PageError> {
    let t = I18n::global().texts(lang);
    let staff = member.staff();
    let visit_type = state
        .services
        .visit_types(&staff)
        .await
        .map_err(fail(lang))?
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| fail(lang)(DomainError::NotFound))?;
    let practitioners = state
        .services
        .practitioners(&staff)
        .await
        .map_err(fail(lang))?;
    let stored = stored_pairs(&visit_type);
    let (pairs, refused) = match entered {
        Some((pairs, refused)) => (pairs, Some(refused)),
        None => (&stored, None),
    };
    let page = VisitTypePage {
        t,
        csrf: form_csrf_token(headers),
        nav: member.nav(slug),
        name: visit_type.draft.name.clone(),
        notice,
        form: visit_type_form(t, "edit", pairs, refused, &practitioners),
        action: format!("/practices/{slug}/visit-types/{id}"),
        active_box: Some(ticked(pairs, "active")),
    };
    render::form_page(lang, refused.is_some(), &page)
}

/// The visit type form and `active`.
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
        Permission::ManageSettings,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    let active = ticked(&pairs, "active");
    let result = match raw_visit_type(&pairs) {
        Ok(raw) => {
            state
                .services
                .update_visit_type(&member.staff(), id, &raw, active)
                .await
        }
        Err(refused) => Err(DomainError::Invalid(refused)),
    };
    match result {
        Ok(_) => go_to(&format!("/practices/{slug}/visit-types/{id}?done=saved")),
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
