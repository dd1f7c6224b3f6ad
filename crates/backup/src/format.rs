//! The plaintext inside a backup: gzip-compressed JSON lines, readable without Termin
//! (`age -d -i key backup.age | gunzip`).
//!
//! ```text
//! {"termin_backup":1,"id":"20261129T020000Z-…","schema_version":19,"created_at":"…","source":"sqlite"}
//! {"table":"organizations","columns":[["created_at","int"],["id","text"],…]}
//! [1764374400000000,"6f0c…",…]
//! …
//! {"end":true,"row_counts":{"organizations":3,…},"content_sha256":"…"}
//! ```
//!
//! The content hash covers the table and row lines exactly as written — not the first
//! line (which names the backup and where it came from) nor the last. Because the snapshot
//! puts tables, columns and rows in a backend-neutral order, the same data gives the same
//! hash from SQLite and PostgreSQL: a restored database, dumped again, must hash the same.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use termin_storage::{Cell, ColumnKind, SnapshotEvent, TableSpec};

use crate::BackupError;

/// Version of this plaintext format. A reader refuses other versions.
pub const FORMAT_VERSION: u32 = 1;

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preamble {
    pub termin_backup: u32,
    pub id: String,
    pub schema_version: i64,
    pub created_at: String,
    /// `sqlite` or `postgres`: informative only, the content is the same either way.
    pub source: String,
}

/// The last line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    pub end: bool,
    pub row_counts: BTreeMap<String, u64>,
    pub content_sha256: String,
}

#[derive(Serialize, Deserialize)]
struct TableLine {
    table: String,
    columns: Vec<(String, String)>,
}

/// Writes the table and row lines of a snapshot, hashing them; used for backups and to
/// hash a restored database again (with [`std::io::sink`]).
pub struct ContentWriter<W: Write> {
    out: W,
    hasher: Sha256,
    row_counts: BTreeMap<String, u64>,
    current: Option<String>,
    line: Vec<u8>,
}

impl<W: Write> ContentWriter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            hasher: Sha256::new(),
            row_counts: BTreeMap::new(),
            current: None,
            line: Vec::with_capacity(4096),
        }
    }

    /// Writes the preamble (not hashed).
    pub fn preamble(&mut self, preamble: &Preamble) -> Result<(), BackupError> {
        serde_json::to_writer(&mut self.out, preamble).map_err(BackupError::format)?;
        self.out.write_all(b"\n").map_err(BackupError::io)
    }

    /// Writes one snapshot event; `End` is not written (see [`finish`](Self::finish)).
    pub fn event(&mut self, event: &SnapshotEvent) -> Result<(), BackupError> {
        match event {
            SnapshotEvent::Table(spec) => {
                let line = TableLine {
                    table: spec.name.clone(),
                    columns: spec
                        .columns
                        .iter()
                        .map(|(name, kind)| (name.clone(), kind.as_str().to_owned()))
                        .collect(),
                };
                self.row_counts.insert(spec.name.clone(), 0);
                self.current = Some(spec.name.clone());
                self.line.clear();
                serde_json::to_writer(&mut self.line, &line).map_err(BackupError::format)?;
                self.emit()
            }
            SnapshotEvent::Rows(rows) => {
                for row in rows {
                    self.line.clear();
                    write_row(&mut self.line, row)?;
                    self.emit()?;
                }
                if let Some(count) = self
                    .current
                    .as_ref()
                    .and_then(|t| self.row_counts.get_mut(t))
                {
                    *count += rows.len() as u64;
                }
                Ok(())
            }
            SnapshotEvent::End => Ok(()),
        }
    }

    fn emit(&mut self) -> Result<(), BackupError> {
        self.line.push(b'\n');
        self.hasher.update(&self.line);
        self.out.write_all(&self.line).map_err(BackupError::io)
    }

    /// The trailer: row counts and the content hash. Writes it and hands back the output.
    pub fn finish(self) -> Result<(W, Trailer), BackupError> {
        let trailer = Trailer {
            end: true,
            row_counts: self.row_counts,
            content_sha256: hex::encode(self.hasher.finalize()),
        };
        let mut out = self.out;
        serde_json::to_writer(&mut out, &trailer).map_err(BackupError::format)?;
        out.write_all(b"\n").map_err(BackupError::io)?;
        Ok((out, trailer))
    }
}

fn write_row(out: &mut Vec<u8>, row: &[Cell]) -> Result<(), BackupError> {
    out.push(b'[');
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match cell {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
            Cell::Text(v) => serde_json::to_writer(&mut *out, v).map_err(BackupError::format)?,
        }
    }
    out.push(b']');
    Ok(())
}

/// Reads the plaintext back into snapshot events, hashing as it goes.
pub struct ContentReader<R: BufRead> {
    input: R,
    hasher: Sha256,
    columns: Vec<ColumnKind>,
    table: Option<String>,
    row_counts: BTreeMap<String, u64>,
    line: Vec<u8>,
    /// A table line read while rows were still to be handed out.
    queued: Option<TableSpec>,
    trailer: Option<Trailer>,
}

/// What a reader produced next.
pub enum Next {
    Event(SnapshotEvent),
    /// The trailer was read and matched what was read before it.
    End(Trailer),
}

/// Rows per event, as the snapshot sends them.
const ROWS_PER_EVENT: usize = 500;

impl<R: BufRead> ContentReader<R> {
    /// Reads and checks the preamble.
    pub fn open(mut input: R) -> Result<(Self, Preamble), BackupError> {
        let mut line = Vec::new();
        input
            .read_until(b'\n', &mut line)
            .map_err(|_| BackupError::Corrupt("its encrypted content fails authentication"))?;
        let preamble: Preamble = serde_json::from_slice(&line)
            .map_err(|_| BackupError::Corrupt("the backup does not start with a Termin header"))?;
        if preamble.termin_backup != FORMAT_VERSION {
            return Err(BackupError::UnsupportedFormat(preamble.termin_backup));
        }
        Ok((
            Self {
                input,
                hasher: Sha256::new(),
                columns: Vec::new(),
                table: None,
                row_counts: BTreeMap::new(),
                line,
                queued: None,
                trailer: None,
            },
            preamble,
        ))
    }

    /// The next table, batch of rows, or the end. Rows are batched up to the next table line.
    pub fn read_next(&mut self) -> Result<Next, BackupError> {
        if let Some(spec) = self.queued.take() {
            return Ok(Next::Event(SnapshotEvent::Table(spec)));
        }
        if let Some(trailer) = self.trailer.take() {
            return Ok(Next::End(trailer));
        }
        let mut rows = Vec::new();
        loop {
            self.line.clear();
            // Reading fails when age's authentication or gzip's check fails: the encrypted
            // object was changed or damaged.
            let read = self
                .input
                .read_until(b'\n', &mut self.line)
                .map_err(|_| BackupError::Corrupt("its encrypted content fails authentication"))?;
            if read == 0 || self.line.last() != Some(&b'\n') {
                return Err(BackupError::Corrupt("the backup ends before its last line"));
            }
            match self.line.first() {
                Some(b'[') => {
                    self.hasher.update(&self.line);
                    rows.push(self.parse_row()?);
                    if rows.len() == ROWS_PER_EVENT {
                        return Ok(Next::Event(SnapshotEvent::Rows(rows)));
                    }
                }
                Some(b'{') if self.line.starts_with(b"{\"table\"") => {
                    let spec = self.parse_table()?;
                    if rows.is_empty() {
                        return Ok(Next::Event(SnapshotEvent::Table(spec)));
                    }
                    // Hand out the rows first; the table comes next time.
                    self.queued = Some(spec);
                    return Ok(Next::Event(SnapshotEvent::Rows(rows)));
                }
                Some(b'{') => {
                    let trailer = self.parse_trailer()?;
                    if rows.is_empty() {
                        return Ok(Next::End(trailer));
                    }
                    self.trailer = Some(trailer);
                    return Ok(Next::Event(SnapshotEvent::Rows(rows)));
                }
                _ => {
                    return Err(BackupError::Corrupt(
                        "the backup holds a line it cannot read",
                    ));
                }
            }
        }
    }

    fn parse_table(&mut self) -> Result<TableSpec, BackupError> {
        self.hasher.update(&self.line);
        let line: TableLine = serde_json::from_slice(&self.line)
            .map_err(|_| BackupError::Corrupt("a table line of the backup cannot be read"))?;
        let columns = line
            .columns
            .into_iter()
            .map(|(name, kind)| {
                ColumnKind::parse(&kind)
                    .map(|k| (name, k))
                    .ok_or(BackupError::Corrupt(
                        "a column of the backup has an unknown type",
                    ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.columns = columns.iter().map(|(_, k)| *k).collect();
        self.table = Some(line.table.clone());
        self.row_counts.insert(line.table.clone(), 0);
        Ok(TableSpec {
            name: line.table,
            columns,
        })
    }

    fn parse_row(&mut self) -> Result<Vec<Cell>, BackupError> {
        let values: Vec<serde_json::Value> = serde_json::from_slice(&self.line)
            .map_err(|_| BackupError::Corrupt("a row of the backup cannot be read"))?;
        if values.len() != self.columns.len() {
            return Err(BackupError::Corrupt(
                "a row of the backup has the wrong width",
            ));
        }
        if let Some(count) = self.table.as_ref().and_then(|t| self.row_counts.get_mut(t)) {
            *count += 1;
        }
        values
            .into_iter()
            .zip(&self.columns)
            .map(|(value, kind)| match (value, kind) {
                (serde_json::Value::Null, _) => Ok(Cell::Null),
                (serde_json::Value::Number(n), ColumnKind::Int) => n.as_i64().map(Cell::Int).ok_or(
                    BackupError::Corrupt("a number in the backup is out of range"),
                ),
                (serde_json::Value::String(s), ColumnKind::Text) => Ok(Cell::Text(s)),
                _ => Err(BackupError::Corrupt(
                    "a value of the backup has the wrong type",
                )),
            })
            .collect()
    }

    fn parse_trailer(&mut self) -> Result<Trailer, BackupError> {
        let trailer: Trailer = serde_json::from_slice(&self.line)
            .map_err(|_| BackupError::Corrupt("the backup's last line cannot be read"))?;
        let computed = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if !trailer.end || trailer.content_sha256 != computed {
            return Err(BackupError::HashMismatch);
        }
        if trailer.row_counts != self.row_counts {
            return Err(BackupError::Corrupt(
                "the backup's row counts differ from its rows",
            ));
        }
        Ok(trailer)
    }
}
