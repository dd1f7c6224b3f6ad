//! Loading a snapshot into a database: all of it in one transaction, or nothing.

use std::collections::BTreeMap;

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use tokio::sync::mpsc;

use super::catalog::{self, CatalogTable};
use super::{Cell, SnapshotEvent, TableSpec};
use crate::{StorageError, Store, StoreResult};

/// Why a snapshot was not loaded. The database is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(
        "the database already holds data (in {}); restore into an empty database, or pass --force to replace everything in it",
        tables.join(", ")
    )]
    NotEmpty { tables: Vec<String> },
    #[error(
        "the backup has schema version {backup}, newer than this termin knows ({known}): restore it with a termin at least as new as the one that made it"
    )]
    BackupTooNew { backup: i64, known: i64 },
    #[error(
        "the target database has schema version {target}, newer than the backup's {backup}: restore into a new, empty database (termin migrates the restored data forward)"
    )]
    TargetNewer { target: i64, backup: i64 },
    #[error("the backup's table {0} does not exist in schema version it names")]
    UnknownTable(String),
    #[error("the backup's table {0} has other columns than the schema version it names")]
    ColumnsDiffer(String),
    #[error("the backup's rows for {0} do not match its columns")]
    MalformedRows(String),
    #[error("the backup ended before it was complete")]
    Incomplete,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for RestoreError {
    fn from(err: sqlx::Error) -> Self {
        RestoreError::Storage(StorageError::from(err))
    }
}

/// What a restore loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub row_counts: Vec<(String, u64)>,
    /// The schema version after the restored data was migrated forward.
    pub schema_version: i64,
    /// Rows that were deleted first (`force`).
    pub replaced_rows: u64,
}

/// Parameters per insert statement, measured (`cargo bench -p termin --bench backup_restore`):
/// SQLite's driver binds each parameter by looking up its name, so the cost per row grows
/// with the statement's size and small statements win; PostgreSQL pays a round trip per
/// statement, so large ones win (its limit is 65 535).
fn max_parameters(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 300,
        crate::Backend::Postgres => 8_000,
    }
}

impl Store {
    /// The schema version applied to this database, 0 for a new one.
    async fn applied_schema_version(&self) -> i64 {
        self.schema_version().await.unwrap_or(0)
    }

    /// Loads a snapshot taken at `schema_version` from `input`.
    ///
    /// The database is migrated to the snapshot's schema version first (a new database
    /// starts empty), the rows are inserted in one transaction that commits only after
    /// [`SnapshotEvent::End`] — anything else leaves the database as it was — and then the
    /// remaining migrations of this binary run, so an older backup arrives in today's schema.
    /// A database that already holds rows is refused unless `force`, which replaces them.
    pub async fn restore_snapshot(
        &self,
        schema_version: i64,
        force: bool,
        mut input: mpsc::Receiver<SnapshotEvent>,
    ) -> Result<RestoreReport, RestoreError> {
        let known = self.latest_schema_version();
        if schema_version > known {
            return Err(RestoreError::BackupTooNew {
                backup: schema_version,
                known,
            });
        }
        let target = self.applied_schema_version().await;
        if target > schema_version {
            // A forced restore into a newer, empty-of-data schema would need migrations to
            // run backwards; they are forward-only.
            return Err(RestoreError::TargetNewer {
                target,
                backup: schema_version,
            });
        }
        // Refuse before migrating: a refused restore leaves the database as it was.
        if !force && self.holds_data().await? {
            return Err(RestoreError::NotEmpty {
                tables: self.occupied_table_names().await?,
            });
        }
        if target < schema_version {
            self.migrate_to(schema_version).await?;
        }
        let termin = self.termin_tables();
        let mut tx = self.begin().await?;
        let tables: BTreeMap<String, CatalogTable> =
            catalog::tables(&mut tx.inner, self.backend(), &termin)
                .await?
                .into_iter()
                .map(|t| (t.spec.name.clone(), t))
                .collect();
        let occupied = occupied_tables(&mut tx, &tables).await?;
        let mut replaced_rows = 0;
        if !occupied.is_empty() {
            if !force {
                return Err(RestoreError::NotEmpty {
                    tables: occupied.into_iter().map(|(name, _)| name).collect(),
                });
            }
            replaced_rows = clear(&mut tx, &tables, &termin).await?;
        }
        let mut row_counts: Vec<(String, u64)> = Vec::new();
        let mut current: Option<&TableSpec> = None;
        loop {
            match input.recv().await {
                Some(SnapshotEvent::Table(spec)) => {
                    let known = tables
                        .get(&spec.name)
                        .ok_or_else(|| RestoreError::UnknownTable(spec.name.clone()))?;
                    if known.spec != spec {
                        return Err(RestoreError::ColumnsDiffer(spec.name));
                    }
                    row_counts.push((spec.name.clone(), 0));
                    current = Some(&known.spec);
                }
                Some(SnapshotEvent::Rows(rows)) => {
                    let spec = current.ok_or(RestoreError::Incomplete)?;
                    insert_rows(&mut tx, spec, &rows).await?;
                    if let Some((_, count)) = row_counts.last_mut() {
                        *count += rows.len() as u64;
                    }
                }
                Some(SnapshotEvent::End) => break,
                None => return Err(RestoreError::Incomplete),
            }
        }
        tx.commit().await?;
        let migrated = self.migrate().await?;
        Ok(RestoreReport {
            row_counts,
            schema_version: migrated.schema_version,
            replaced_rows,
        })
    }

    /// Whether any of Termin's tables (as snapshots carry them) holds a row: a restore
    /// target must be empty.
    pub async fn holds_data(&self) -> StoreResult<bool> {
        Ok(!self.occupied_table_names().await?.is_empty())
    }

    async fn occupied_table_names(&self) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        let tables = catalog::tables(&mut tx, self.backend(), &self.termin_tables()).await?;
        let mut occupied = Vec::new();
        for table in tables {
            let sql = format!("SELECT 1 FROM \"{}\" LIMIT 1", table.spec.name);
            if sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
            {
                occupied.push(table.spec.name);
            }
        }
        Ok(occupied)
    }
}

async fn occupied_tables(
    tx: &mut crate::Tx,
    tables: &BTreeMap<String, CatalogTable>,
) -> StoreResult<Vec<(String, u64)>> {
    let mut occupied = Vec::new();
    for name in tables.keys() {
        let sql = format!("SELECT COUNT(*) FROM \"{name}\"");
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx.inner)
            .await?;
        if count > 0 {
            occupied.push((name.clone(), count as u64));
        }
    }
    Ok(occupied)
}

/// Deletes every row, children before parents.
async fn clear(
    tx: &mut crate::Tx,
    tables: &BTreeMap<String, CatalogTable>,
    termin: &std::collections::BTreeSet<String>,
) -> StoreResult<u64> {
    let order = catalog::tables(&mut tx.inner, tx.backend, termin).await?;
    debug_assert_eq!(order.len(), tables.len());
    let mut deleted = 0;
    for table in order.iter().rev() {
        let sql = format!("DELETE FROM \"{}\"", table.spec.name);
        deleted += sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx.inner)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

async fn insert_rows(
    tx: &mut crate::Tx,
    spec: &TableSpec,
    rows: &[Vec<Cell>],
) -> Result<(), RestoreError> {
    let width = spec.columns.len();
    if rows.iter().any(|row| row.len() != width) || width == 0 {
        return Err(RestoreError::MalformedRows(spec.name.clone()));
    }
    let per_statement = (max_parameters(tx.backend) / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = insert_sql(spec, chunk.len());
        let mut query: Query<'_, Any, AnyArguments> = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for (cell, (_, kind)) in row.iter().zip(&spec.columns) {
                query = match (cell, kind) {
                    (Cell::Null, super::ColumnKind::Int) => query.bind(None::<i64>),
                    (Cell::Null, super::ColumnKind::Text) => query.bind(None::<String>),
                    (Cell::Int(v), super::ColumnKind::Int) => query.bind(*v),
                    (Cell::Text(v), super::ColumnKind::Text) => query.bind(v.clone()),
                    _ => return Err(RestoreError::MalformedRows(spec.name.clone())),
                };
            }
        }
        query.execute(&mut *tx.inner).await?;
    }
    Ok(())
}

fn insert_sql(spec: &TableSpec, rows: usize) -> String {
    let width = spec.columns.len();
    let columns: Vec<String> = spec
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    let mut sql = format!(
        "INSERT INTO \"{}\" ({}) VALUES ",
        spec.name,
        columns.join(", ")
    );
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * width + c + 1));
        }
        sql.push(')');
    }
    sql
}
