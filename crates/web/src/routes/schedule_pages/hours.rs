//! The weekly opening hours editor of a practitioner: one table row per rule (weekday,
//! from, to, valid from, valid until, every week or every second week) and a few empty rows
//! to add more. The table is saved as a whole (`set_opening_hours`); a row left empty is
//! no rule. A rule's visit-type restriction, set through the API, travels with its row.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use termin_domain::rights::Permission;
use termin_domain::schedule::hours::{RawOpeningRule, WeeklyHours};
use termin_domain::{DomainError, FieldErrors};

use super::fields::{Errors, Pairs};
use super::flow::{go_to, refused_input};
use super::practitioner::{Overrides, render_page};
use super::{fail, submitter};
use crate::AppState;
use crate::error::PageError;
use crate::forms::{path_id, values};
use crate::i18n::{Lang, Texts};
use crate::routes::table::{Access, Routes};
use crate::session::to_login;

pub fn routes() -> Routes {
    Routes::new().route(
        "/practices/{slug}/practitioners/{id}/hours",
        Access::Staff(Permission::ManageAvailability),
        post(save),
    )
}

/// How many empty rows the editor offers for new rules.
const EMPTY_ROWS: usize = 3;

/// The form's weekday choices: value and catalogue key.
pub(super) const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "schedule_pages.weekday.mon"),
    ("tue", "schedule_pages.weekday.tue"),
    ("wed", "schedule_pages.weekday.wed"),
    ("thu", "schedule_pages.weekday.thu"),
    ("fri", "schedule_pages.weekday.fri"),
    ("sat", "schedule_pages.weekday.sat"),
    ("sun", "schedule_pages.weekday.sun"),
];

/// One row of the editor as entered (or as stored).
#[derive(Debug, Clone, Default)]
pub(super) struct RowInput {
    pub weekday: String,
    pub start: String,
    pub end: String,
    pub valid_from: String,
    pub valid_until: String,
    pub every_weeks: String,
    /// Visit type ids, comma-separated; empty: all visit types.
    pub visit_type_ids: String,
}

impl RowInput {
    fn is_blank(&self) -> bool {
        [
            &self.weekday,
            &self.start,
            &self.end,
            &self.valid_from,
            &self.valid_until,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }

    fn raw(&self, refused: &mut FieldErrors, index: usize) -> RawOpeningRule {
        let optional = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let every_weeks = match self.every_weeks.trim() {
            "" => None,
            text => text.parse().map(Some).unwrap_or_else(|_| {
                refused.add(&format!("row[{index}].every_weeks"), "must be 1 or 2");
                None
            }),
        };
        RawOpeningRule {
            weekday: self.weekday.trim().to_owned(),
            start: self.start.trim().to_owned(),
            end: self.end.trim().to_owned(),
            valid_from: optional(&self.valid_from),
            valid_until: optional(&self.valid_until),
            every_weeks,
            visit_type_ids: self
                .visit_type_ids
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// The stored rules as editor rows.
pub(super) fn stored_rows(hours: &WeeklyHours) -> Vec<RowInput> {
    hours
        .to_raw()
        .into_iter()
        .map(|r| RowInput {
            weekday: r.weekday,
            start: r.start,
            end: r.end,
            valid_from: r.valid_from.unwrap_or_default(),
            valid_until: r.valid_until.unwrap_or_default(),
            every_weeks: r.every_weeks.unwrap_or(1).to_string(),
            visit_type_ids: r.visit_type_ids.join(","),
        })
        .collect()
}

/// The rows as the form sent them (each column is a repeated field, one per row).
fn submitted_rows(pairs: &[(String, String)]) -> Vec<RowInput> {
    let column = |name: &str| values(pairs, name);
    let (weekday, start, end) = (column("weekday"), column("start"), column("end"));
    let (from, until) = (column("valid_from"), column("valid_until"));
    let (every, only) = (column("every_weeks"), column("visit_type_ids"));
    let at = |list: &Vec<String>, i: usize| list.get(i).cloned().unwrap_or_default();
    let count = [&weekday, &start, &end, &from, &until]
        .iter()
        .map(|c| c.len())
        .max()
        .unwrap_or(0);
    (0..count)
        .map(|i| RowInput {
            weekday: at(&weekday, i),
            start: at(&start, i),
            end: at(&end, i),
            valid_from: at(&from, i),
            valid_until: at(&until, i),
            every_weeks: at(&every, i),
            visit_type_ids: at(&only, i),
        })
        .collect()
}

/// One row of the editor, ready for the template.
pub(super) struct HourRow {
    /// 1-based, for labels.
    pub number: usize,
    pub input: RowInput,
    /// The names of the visit types the rule is limited to; empty: all.
    pub only_for: String,
    pub errors: Vec<String>,
    invalid: Vec<&'static str>,
}

impl HourRow {
    pub fn bad(&self, cell: &str) -> bool {
        self.invalid.contains(&cell)
    }

    pub fn weekday_key(&self) -> &'static str {
        WEEKDAYS
            .iter()
            .find(|(v, _)| *v == self.input.weekday)
            .map_or("schedule_pages.weekday.unknown", |(_, key)| key)
    }
}

const CELLS: [&str; 6] = [
    "weekday",
    "start",
    "end",
    "valid_from",
    "valid_until",
    "every_weeks",
];

/// The editor's rows: `inputs` with their messages (fields `row[i].cell`, `row[i]`), then
/// `EMPTY_ROWS` empty ones when editable; and the messages that belong to no row.
pub(super) fn editor_rows(
    t: Texts<'_>,
    inputs: Vec<RowInput>,
    refused: Option<&FieldErrors>,
    visit_types: &BTreeMap<String, String>,
    editable: bool,
) -> (Vec<HourRow>, Vec<String>) {
    let mut errors = refused.map(|r| Errors::new(t, r)).unwrap_or_default();
    let mut inputs = inputs;
    if editable {
        inputs.extend((0..EMPTY_ROWS).map(|_| RowInput {
            every_weeks: "1".to_owned(),
            ..RowInput::default()
        }));
    }
    let rows = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let prefix = format!("row[{i}]");
            let mut invalid = Vec::new();
            let mut messages = Vec::new();
            for cell in CELLS {
                let taken = errors.take(&format!("{prefix}.{cell}"));
                if !taken.is_empty() {
                    invalid.push(cell);
                    let label = t.get(&format!("schedule_pages.hours.{cell}"));
                    messages.extend(taken.into_iter().map(|m| format!("{label}: {m}")));
                }
            }
            messages.extend(errors.take(&prefix));
            let only_for = input
                .visit_type_ids
                .split(',')
                .filter(|id| !id.trim().is_empty())
                .map(|id| visit_types.get(id.trim()).cloned().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ");
            HourRow {
                number: i + 1,
                input,
                only_for,
                errors: messages,
                invalid,
            }
        })
        .collect();
    (rows, errors.rest())
}

/// The domain's messages (fields `weekly[k]…`) moved to the editor's rows (`row[k]…`),
/// "overlaps weekly[k]" told as a row number.
fn to_rows(refused: &FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for (field, messages) in refused.iter() {
        let mapped = field
            .strip_prefix("weekly[")
            .map_or_else(|| field.to_owned(), |rest| format!("row[{rest}"));
        for message in messages {
            let message = message
                .strip_prefix("overlaps weekly[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|k| k.parse::<usize>().ok())
                .map_or_else(|| message.clone(), |k| format!("overlaps row {}", k + 1));
            out.add(&mapped, message);
        }
    }
    out
}

/// Adds the messages of `more` to `into`.
fn merge(into: &mut FieldErrors, more: &FieldErrors) {
    for (field, messages) in more.iter() {
        for message in messages {
            into.add(field, message.clone());
        }
    }
}

async fn save(
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
        Permission::ManageAvailability,
    )
    .await?
    else {
        return Ok(to_login());
    };
    let id = path_id(&raw_id).map_err(fail(lang))?;
    // Rows left empty are no rules; the rest keep their order, so the domain's `weekly[k]`
    // is the k-th row shown again.
    let rows: Vec<RowInput> = submitted_rows(&pairs)
        .into_iter()
        .filter(|row| !row.is_blank())
        .collect();
    let mut refused = FieldErrors::new();
    let rules: Vec<RawOpeningRule> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| row.raw(&mut refused, i))
        .collect();
    if !refused.is_empty() {
        // A problem of the form itself; the domain's messages for the rest come along.
        if let Err(DomainError::Invalid(more)) = WeeklyHours::parse(&rules) {
            merge(&mut refused, &to_rows(&more));
        }
        return render_page(
            &state,
            (lang, &headers),
            (&member, &slug, id),
            Overrides::hours(rows, refused),
        )
        .await;
    }
    match state
        .services
        .set_opening_hours(&member.staff(), id, &rules)
        .await
    {
        Ok(_) => go_to(&format!(
            "/practices/{slug}/practitioners/{id}?done=hours#hours"
        )),
        Err(err) => {
            let more = refused_input(lang, err)?;
            render_page(
                &state,
                (lang, &headers),
                (&member, &slug, id),
                Overrides::hours(rows, to_rows(&more)),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domains_rule_numbers_become_row_numbers() {
        let mut refused = FieldErrors::new();
        refused.add(
            "weekly[1].start",
            "must be a time HH:MM between 00:00 and 23:59",
        );
        refused.add("weekly[1]", "overlaps weekly[0]");
        let rows = to_rows(&refused);
        assert!(rows.get("row[1].start").is_some());
        assert_eq!(rows.get("row[1]"), Some(&["overlaps row 1".to_owned()][..]));
    }
}
