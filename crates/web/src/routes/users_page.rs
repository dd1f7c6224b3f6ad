//! The users page: every member with role, rights and status; change a role, tick the
//! permissions a member holds (the difference to the role's preset is stored as grants and
//! removals) and, for calendar permissions, the practitioners they are narrowed to (none
//! ticked: every calendar); remove a member. The practice comes from the path.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::{BTreeMap, BTreeSet};
use termin_domain::DomainError;

use termin_domain::ids::{PractitionerId, UserId};
use termin_domain::rights::{Adjustment, Adjustments, Permission, Scope, preset};

use termin_domain::user::{Role, UserStatus};

use crate::AppState;
use crate::error::PageError;
use crate::forms;
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::practice_security::role_label;
use crate::routes::table::{Access, Routes};
use crate::session::{form_csrf_token, signed_in_form, signed_in_page, to_login};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/practices/{slug}/users",
            Access::Staff(Permission::ManageUsers),
            get(page),
        )
        .route(
            "/practices/{slug}/users/{user_id}/{action}",
            Access::Staff(Permission::ManageUsers),
            post(submit),
        )
}

/// The catalogue key of a permission's display name.
fn permission_label(p: Permission) -> String {
    format!("permission.{}", p.as_str())
}

struct PermissionBox {
    name: &'static str,
    label_key: String,
    held: bool,
    /// For calendar permissions: each practitioner, and whether the permission is narrowed
    /// to them.
    calendars: Vec<CalendarBox>,
}

struct CalendarBox {
    id: String,
    name: String,
    ticked: bool,
}

struct UserRow {
    id: String,
    email: String,
    role: &'static str,
    role_key: &'static str,
    pending: bool,
    permissions: Vec<PermissionBox>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage<'a> {
    t: Texts<'a>,
    csrf: String,
    slug: String,
    practice: String,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(done): Query<forms::Done>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_page(&state, lang, &headers).await? else {
        return Ok(to_login());
    };
    let notice = done.done.as_deref().map(|_| "users.saved");
    render_page(&state, lang, &headers, (&session, &slug), notice, None).await
}

async fn render_page(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    (session, slug): (&termin_app::auth::CurrentSession, &str),
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let err = |err| PageError { lang, err };
    let acting = state
        .services
        .acting_with(session, Some(slug), Permission::ManageUsers)
        .await
        .map_err(err)?;
    let members = state
        .services
        .users(session, Some(slug))
        .await
        .map_err(err)?;
    let practitioners = state
        .services
        .practitioners(&termin_app::schedule::Staff::new(session, &acting))
        .await
        .map_err(err)?;
    let users = members
        .iter()
        .map(|m| {
            let rights = m.rights();
            UserRow {
                id: m.user_id.to_string(),
                email: m.email.as_str().to_owned(),
                role: m.role.as_str(),
                role_key: role_label(m.role),
                pending: m.status == UserStatus::VerificationPending,
                permissions: Permission::ALL
                    .into_iter()
                    .map(|p| PermissionBox {
                        name: p.as_str(),
                        label_key: permission_label(p),
                        held: rights.has(p),
                        calendars: if p.is_calendar() {
                            practitioners
                                .iter()
                                .map(|dr| CalendarBox {
                                    id: dr.id.to_string(),
                                    name: dr.draft.name.clone(),
                                    ticked: matches!(
                                        rights.scope(p),
                                        Some(Scope::Practitioners(set)) if set.contains(&dr.id)
                                    ),
                                })
                                .collect()
                        } else {
                            Vec::new()
                        },
                    })
                    .collect(),
            }
        })
        .collect();
    let page = UsersPage {
        t: I18n::global().texts(lang),
        csrf: form_csrf_token(headers),
        slug: slug.to_owned(),
        practice: acting.membership.org_name,
        users,
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.as_str(), role_label(r)))
            .collect(),
        notice,
        error,
    };
    render::form_page(lang, page.error.is_some(), &page)
}

/// The adjustments that make `role` hold exactly `ticked`, each calendar permission
/// narrowed to the practitioners ticked for it (none: every calendar).
fn adjustments_for(
    role: Role,
    ticked: &[Permission],
    calendars: &BTreeMap<Permission, BTreeSet<PractitionerId>>,
) -> Adjustments {
    let base = preset(role);
    let mut adjustments = Adjustments::new();
    for p in Permission::ALL {
        let wanted = ticked.contains(&p);
        let narrowed = calendars
            .get(&p)
            .filter(|set| p.is_calendar() && !set.is_empty());
        match (wanted, base.has(p), narrowed) {
            (true, _, Some(set)) => {
                adjustments.insert(p, Adjustment::Grant(Scope::Practitioners(set.clone())))
            }
            (true, false, None) => adjustments.insert(p, Adjustment::Grant(Scope::All)),
            (false, true, _) => adjustments.insert(p, Adjustment::Remove),
            _ => {}
        }
    }
    adjustments
}

/// The practitioners ticked per calendar permission (fields `calendar.<permission>`).
fn ticked_calendars(fields: &[(String, String)]) -> BTreeMap<Permission, BTreeSet<PractitionerId>> {
    let mut calendars: BTreeMap<Permission, BTreeSet<PractitionerId>> = BTreeMap::new();
    for (name, value) in fields {
        let Some(permission) = name.strip_prefix("calendar.").and_then(Permission::parse) else {
            continue;
        };
        if let Ok(id) = value.parse() {
            calendars.entry(permission).or_default().insert(id);
        }
    }
    calendars
}

/// `role` (field `role`), `permissions` (one `permission` field per ticked box) or `remove`.
async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path((slug, raw_user, action)): Path<(String, String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| forms::field(&fields, name);
    let Some(session) = signed_in_form(&state, lang, &headers, field("csrf")).await? else {
        return Ok(to_login());
    };
    let services = &state.services;
    let org = Some(slug.as_str());
    let err = |err| PageError { lang, err };
    // The right first: without it, nothing about the form's content is answered.
    services
        .acting_with(&session, org, Permission::ManageUsers)
        .await
        .map_err(err)?;
    let user: UserId = forms::path_id(&raw_user).map_err(err)?;
    let result = match action.as_str() {
        "role" => match Role::parse(field("role")) {
            Ok(role) => services
                .change_role(&session, org, user, role)
                .await
                .map(|_| ()),
            Err(e) => Err(DomainError::invalid("role", e.to_string())),
        },
        "permissions" => {
            let ticked: Vec<Permission> = forms::values(&fields, "permission")
                .iter()
                .filter_map(|v| Permission::parse(v))
                .collect();
            let member = services
                .users(&session, org)
                .await
                .map_err(err)?
                .into_iter()
                .find(|m| m.user_id == user)
                .ok_or_else(|| err(DomainError::NotFound))?;
            let adjustments = adjustments_for(member.role, &ticked, &ticked_calendars(&fields));
            services
                .adjust_rights(&session, org, user, adjustments)
                .await
                .map(|_| ())
        }
        "remove" => services.remove_member(&session, org, user).await,
        _ => Err(DomainError::NotFound),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/practices/{slug}/users?done={action}")).into_response())
        }
        Err(e @ (DomainError::Invalid(_) | DomainError::Conflict { .. })) => {
            let message = match &e {
                DomainError::Conflict { message, .. } => message.clone(),
                DomainError::Invalid(fields) => forms::messages(fields),
                _ => String::new(),
            };
            render_page(
                &state,
                lang,
                &headers,
                (&session, &slug),
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticked_boxes_become_the_difference_to_the_preset() {
        let ticked = [
            Permission::ViewCalendar,
            Permission::ManageAppointments,
            Permission::SeeMedicalNotes,
        ];
        let adjustments = adjustments_for(Role::Reception, &ticked, &BTreeMap::new());
        let rights = termin_domain::rights::effective(Role::Reception, &adjustments);
        let held: Vec<Permission> = rights.permissions().map(|(p, _)| p).collect();
        assert_eq!(held, ticked);
    }

    #[test]
    fn ticked_calendars_narrow_calendar_permissions_only() {
        let dr_a = PractitionerId::random();
        let fields = vec![
            ("calendar.manage_appointments".to_owned(), dr_a.to_string()),
            ("calendar.manage_users".to_owned(), dr_a.to_string()),
            ("calendar.view_calendar".to_owned(), "nonsense".to_owned()),
        ];
        let calendars = ticked_calendars(&fields);
        let ticked = [
            Permission::ViewCalendar,
            Permission::ManageAppointments,
            Permission::ManageUsers,
        ];
        let adjustments = adjustments_for(Role::Reception, &ticked, &calendars);
        let rights = termin_domain::rights::effective(Role::Reception, &adjustments);
        assert_eq!(rights.scope(Permission::ViewCalendar), Some(&Scope::All));
        assert!(rights.allows(Permission::ManageAppointments, dr_a));
        assert!(!rights.allows(Permission::ManageAppointments, PractitionerId::random()));
        assert_eq!(rights.scope(Permission::ManageUsers), Some(&Scope::All));
    }
}
