//! The audit log for those with the right: filter by time, person and action; export as
//! JSON, CSV or JSON lines. API (practice by `X-Termin-Org`) and page (practice by path).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use termin_app::audit::{AuditEntry, AuditFilter};
use termin_domain::DomainError;
use termin_domain::rights::Permission;

use crate::AppState;
use crate::access::{Require, ViewAuditLog};
use crate::error::{ApiError, PageError};
use crate::i18n::{I18n, Lang, Texts};
use crate::render;
use crate::routes::table::{Access, Routes};
use crate::session::{org_header, signed_in_page, to_login};

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/api/v1/audit",
            Access::Staff(Permission::ViewAuditLog),
            get(api),
        )
        .route(
            "/practices/{slug}/audit",
            Access::Staff(Permission::ViewAuditLog),
            get(page),
        )
}

/// `?from=&to=` (RFC 3339 instants or dates), `&actor=<user id>&action=<kind>`,
/// `&format=json|csv|jsonl`.
#[derive(Deserialize, Default)]
struct AuditQuery {
    from: Option<String>,
    to: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    format: Option<String>,
}

fn instant(field: &str, raw: &str) -> Result<jiff::Timestamp, DomainError> {
    raw.parse::<jiff::Timestamp>()
        .or_else(|_| {
            raw.parse::<jiff::civil::Date>()
                .map_err(|_| ())
                .and_then(|d| d.in_tz("UTC").map(|z| z.timestamp()).map_err(|_| ()))
        })
        .map_err(|()| {
            DomainError::invalid(field, "must be an RFC 3339 instant or a date (YYYY-MM-DD)")
        })
}

fn filter_of(query: &AuditQuery) -> Result<AuditFilter, DomainError> {
    let blank = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(AuditFilter {
        from: blank(&query.from)
            .map(|r| instant("from", &r))
            .transpose()?,
        to: blank(&query.to).map(|r| instant("to", &r)).transpose()?,
        actor: blank(&query.actor)
            .map(|r| {
                r.parse()
                    .map_err(|_| DomainError::invalid("actor", "is not a user id"))
            })
            .transpose()?,
        action: blank(&query.action),
    })
}

fn entry_json(e: &AuditEntry) -> serde_json::Value {
    json!({
        "seq": e.seq,
        "at": e.at.to_string(),
        "actor_id": e.actor_id,
        "action": e.action,
        "target": e.target,
        "source": e.source,
        "outcome": e.outcome,
        "hash": e.hash,
    })
}

/// A CSV field, quoted when it needs it, and never read as a formula by a spreadsheet.
fn csv_field(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from("seq,at,actor_id,action,target,source,outcome,hash\n");
    for e in entries {
        let fields = [
            e.seq.to_string(),
            e.at.to_string(),
            e.actor_id.clone(),
            e.action.clone(),
            e.target.clone(),
            e.source.clone(),
            e.outcome.clone(),
            e.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn download(body: String, content_type: &'static str, name: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/v1/audit` → `{"entries":[…]}`, or CSV / JSON lines with `format`.
async fn api(
    State(state): State<AppState>,
    Require { session, .. }: Require<ViewAuditLog>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = filter_of(&query)?;
    let entries = state
        .services
        .audit_log(&session, org_header(&headers), &filter)
        .await?;
    Ok(match query.format.as_deref().unwrap_or("json") {
        "csv" => download(
            csv(&entries),
            "text/csv; charset=utf-8",
            "attachment; filename=\"audit.csv\"",
        ),
        "jsonl" => download(
            entries
                .iter()
                .map(|e| format!("{}\n", entry_json(e)))
                .collect(),
            "application/x-ndjson",
            "attachment; filename=\"audit.jsonl\"",
        ),
        "json" => Json(json!({"entries": entries.iter().map(entry_json).collect::<Vec<_>>()}))
            .into_response(),
        _ => return Err(DomainError::invalid("format", "must be json, csv or jsonl").into()),
    })
}

struct Row {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    source: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    t: Texts<'a>,
    slug: String,
    from: String,
    to: String,
    action: String,
    rows: Vec<Row>,
    export: String,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let Some(session) = signed_in_page(&state, lang, &headers).await? else {
        return Ok(to_login());
    };
    let err = |err| PageError { lang, err };
    let filter = filter_of(&query).map_err(err)?;
    let entries = state
        .services
        .audit_log(&session, Some(&slug), &filter)
        .await
        .map_err(err)?;
    let keep = |v: &Option<String>| v.clone().unwrap_or_default();
    let export = format!(
        "from={}&to={}&action={}",
        encode(&keep(&query.from)),
        encode(&keep(&query.to)),
        encode(&keep(&query.action))
    );
    let page = AuditPage {
        t: I18n::global().texts(lang),
        slug,
        from: keep(&query.from),
        to: keep(&query.to),
        action: keep(&query.action),
        rows: entries
            .iter()
            .rev()
            .map(|e| Row {
                seq: e.seq,
                at: e.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
                actor: e.actor_id.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                source: e.source.clone(),
                outcome: e.outcome.clone(),
            })
            .collect(),
        export,
    };
    render::html(lang, &page)
}

/// Percent-encodes a query value.
fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
