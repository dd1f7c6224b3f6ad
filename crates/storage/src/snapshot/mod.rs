//! A consistent, backend-neutral snapshot of the whole database, and loading one back.
//!
//! This is what backups are made of. Every table of the schema is read in one read-only
//! transaction (SQLite's WAL snapshot; PostgreSQL `REPEATABLE READ`), parents before
//! children (foreign keys), rows in primary-key order with text compared bytewise, columns by
//! name. The values are only integers, text and NULL — the schema stores instants as integer
//! microseconds and ids as UUID text — so a snapshot of SQLite loads into PostgreSQL and back
//! unchanged, and the same data gives the same rows in the same order on either backend.
//!
//! The events travel over a channel, so that serialising, compressing and encrypting (the
//! backup crate's job) happen beside the reading, without holding everything in memory.

mod catalog;
mod export;
mod restore;

pub use restore::{RestoreError, RestoreReport};

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// The kinds of column the schema uses; anything else is refused when a snapshot is taken,
/// so a migration that adds another type is caught by the round-trip tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnKind {
    Int,
    Text,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Int => "int",
            ColumnKind::Text => "text",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "int" => Some(ColumnKind::Int),
            "text" => Some(ColumnKind::Text),
            _ => None,
        }
    }
}

/// A table as a snapshot carries it: its name and its columns, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub name: String,
    pub columns: Vec<(String, ColumnKind)>,
}

/// What flows from [`Store::export_snapshot`](crate::Store::export_snapshot) and into
/// [`Store::restore_snapshot`](crate::Store::restore_snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotEvent {
    /// The rows that follow belong to this table.
    Table(TableSpec),
    Rows(Vec<Vec<Cell>>),
    /// Everything was sent. A restore commits only after it: a stream that stops early
    /// (a failed decryption, a wrong hash) leaves the database as it was.
    End,
}

/// What an export read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub schema_version: i64,
    /// Rows per table, in the order the tables were written.
    pub row_counts: Vec<(String, u64)>,
}

/// Rows sent per event: large enough to keep the channel cheap, small enough to bound memory.
pub(crate) const ROWS_PER_EVENT: usize = 500;

/// Table and column names come from the database's own catalog; they are still checked
/// before they are put into SQL.
pub(crate) fn safe_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}
