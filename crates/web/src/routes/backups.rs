//! The installation's backup status for those who manage a practice's settings: protected
//! or not and why, each target's newest success and failure, the recent runs. Backups are
//! the operator's (`termin backup …`); practices see them because their patients' data is
//! in every one. API `GET /api/v1/backups/status` (practice by `X-Termin-Org`) and a page.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use termin_domain::backup::{BackupProblem, BackupStatus};
use termin_domain::rights::Permission;

use crate::AppState;
use crate::access::{ManageSettings, Require};
use crate::error::{ApiError, PageError};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{org_header, signed_in_page, to_login};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/backups/status",
            Access::Staff(Permission::ManageSettings),
            get(status),
        )
        .route(
            "/practices/{slug}/backups",
            Access::Staff(Permission::ManageSettings),
            get(page),
        )
}

fn shown(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// `GET /api/v1/backups/status` → `{"status","problems":[{"code",…}],"targets":[…],"recent":[…]}`.
async fn status(
    State(state): State<AppState>,
    Require { session, .. }: Require<ManageSettings>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, overview) = state
        .services
        .backup_overview(&session, org_header(&headers))
        .await?;
    Ok(Json(json!({
        "status": overview.health.status.as_str(),
        "problems": overview.health.problems,
        "targets": overview.targets.iter().map(|t| json!({
            "name": t.name.as_str(),
            "last_success": t.last_success.map(|a| a.to_string()),
            "last_failure": t.last_failure.as_ref().map(|(at, code)| json!({"at": at.to_string(), "error": code})),
        })).collect::<Vec<_>>(),
        "recent": overview.recent.iter().map(|r| json!({
            "backup_id": r.backup_id,
            "target": r.target,
            "kind": r.kind.as_str(),
            "finished_at": r.finished_at.to_string(),
            "ok": r.ok,
            "bytes": r.bytes,
            "error": r.error,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

struct TargetRow {
    name: String,
    last_success: String,
    last_failure: String,
}

struct RunRow {
    at: String,
    target: String,
    backup_id: String,
    kind_key: &'static str,
    ok: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "backups.html")]
struct BackupsPage<'a> {
    t: Texts<'a>,
    slug: String,
    practice: String,
    protected: bool,
    problems: Vec<String>,
    targets: Vec<TargetRow>,
    runs: Vec<RunRow>,
}

fn problem_text(t: &Texts<'_>, problem: &BackupProblem) -> String {
    match problem {
        BackupProblem::TooFewTargets { configured } => t
            .get("backups.too_few_targets")
            .replace("{n}", &configured.to_string()),
        BackupProblem::NeverSucceeded { target } => t
            .get("backups.never_succeeded")
            .replace("{target}", target.as_str()),
        BackupProblem::LastRunFailed { target, at, error } => t
            .get("backups.last_run_failed")
            .replace("{target}", target.as_str())
            .replace("{at}", &shown(*at))
            .replace("{error}", error),
        BackupProblem::Stale {
            target,
            last_success,
        } => t
            .get("backups.stale")
            .replace("{target}", target.as_str())
            .replace("{at}", &shown(*last_success)),
    }
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_page(&state, lang, &headers).await? else {
        return Ok(to_login());
    };
    let (membership, overview) = state
        .services
        .backup_overview(&session, Some(&slug))
        .await
        .map_err(|err| PageError { lang, err })?;
    let t = I18n::global().texts(lang);
    let never = t.get("backups.never").to_owned();
    let page = BackupsPage {
        problems: overview
            .health
            .problems
            .iter()
            .map(|p| problem_text(&t, p))
            .collect(),
        protected: overview.health.status == BackupStatus::Protected,
        targets: overview
            .targets
            .iter()
            .map(|f| TargetRow {
                name: f.name.to_string(),
                last_success: f.last_success.map(shown).unwrap_or_else(|| never.clone()),
                last_failure: f
                    .last_failure
                    .as_ref()
                    .map(|(at, code)| format!("{} ({code})", shown(*at)))
                    .unwrap_or_else(|| "—".into()),
            })
            .collect(),
        runs: overview
            .recent
            .iter()
            .map(|r| RunRow {
                at: shown(r.finished_at),
                target: r.target.clone(),
                backup_id: r.backup_id.clone(),
                kind_key: if r.kind.as_str() == "backup" {
                    "backups.kind_backup"
                } else {
                    "backups.kind_verify"
                },
                ok: r.ok,
                detail: match (&r.error, r.bytes) {
                    (Some(code), _) => code.clone(),
                    (None, Some(bytes)) if bytes > 0 => format!("{:.1} MB", bytes as f64 / 1e6),
                    _ => String::new(),
                },
            })
            .collect(),
        t,
        slug,
        practice: membership.org_name,
    };
    render::html(lang, &page)
}
