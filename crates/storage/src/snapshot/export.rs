//! Reading the whole database in one consistent snapshot.

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::sync::mpsc;

use super::catalog::{self, CatalogTable};
use super::{Cell, ColumnKind, ROWS_PER_EVENT, SnapshotEvent, SnapshotSummary};
use crate::{Backend, StorageError, Store, StoreResult};

impl Store {
    /// Sends every table of the database to `out` as one consistent snapshot, then
    /// [`SnapshotEvent::End`]. Writers are not blocked while it runs. Fails when the receiver
    /// goes away (the backup was abandoned).
    pub async fn export_snapshot(
        &self,
        out: mpsc::Sender<SnapshotEvent>,
    ) -> StoreResult<SnapshotSummary> {
        let begin = match self.backend() {
            // A deferred transaction in WAL mode reads one snapshot from its first read on.
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let mut tx = self.pool.begin_with(begin).await?;
        let schema_version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&mut *tx)
                .await?;
        let tables = catalog::tables(&mut tx, self.backend(), &self.termin_tables()).await?;
        let mut row_counts = Vec::with_capacity(tables.len());
        for table in &tables {
            send(&out, SnapshotEvent::Table(table.spec.clone())).await?;
            let sql = select_sql(table, self.backend());
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
            let mut batch = Vec::with_capacity(ROWS_PER_EVENT);
            let mut count = 0u64;
            while let Some(row) = rows.try_next().await? {
                batch.push(cells(&row, table)?);
                count += 1;
                if batch.len() == ROWS_PER_EVENT {
                    send(&out, SnapshotEvent::Rows(std::mem::take(&mut batch))).await?;
                }
            }
            if !batch.is_empty() {
                send(&out, SnapshotEvent::Rows(batch)).await?;
            }
            row_counts.push((table.spec.name.clone(), count));
        }
        drop(tx);
        send(&out, SnapshotEvent::End).await?;
        Ok(SnapshotSummary {
            schema_version: schema_version.unwrap_or(0),
            row_counts,
        })
    }
}

async fn send(out: &mpsc::Sender<SnapshotEvent>, event: SnapshotEvent) -> StoreResult<()> {
    out.send(event)
        .await
        .map_err(|_| StorageError::Corrupt("the snapshot's reader stopped".into()))
}

/// Columns by name; rows by primary key, text compared bytewise on both backends.
fn select_sql(table: &CatalogTable, backend: Backend) -> String {
    let columns: Vec<String> = table
        .spec
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    let order_columns: Vec<&str> = if table.primary_key.is_empty() {
        table.spec.columns.iter().map(|(n, _)| n.as_str()).collect()
    } else {
        table.primary_key.iter().map(String::as_str).collect()
    };
    let order: Vec<String> = order_columns
        .iter()
        .map(|name| {
            let text = table
                .spec
                .columns
                .iter()
                .any(|(n, k)| n == name && *k == ColumnKind::Text);
            // SQLite sorts NULL first; PostgreSQL must be told to (it sorts NULL last).
            match backend {
                Backend::Postgres if text => format!("\"{name}\" COLLATE \"C\" NULLS FIRST"),
                Backend::Postgres => format!("\"{name}\" NULLS FIRST"),
                Backend::Sqlite => format!("\"{name}\""),
            }
        })
        .collect();
    format!(
        "SELECT {} FROM \"{}\" ORDER BY {}",
        columns.join(", "),
        table.spec.name,
        order.join(", ")
    )
}

fn cells(row: &AnyRow, table: &CatalogTable) -> StoreResult<Vec<Cell>> {
    table
        .spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| {
            let cell = match kind {
                ColumnKind::Int => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Cell::Int)),
                ColumnKind::Text => row
                    .try_get::<Option<String>, _>(i)
                    .map(|v| v.map(Cell::Text)),
            };
            cell.map(|v| v.unwrap_or(Cell::Null)).map_err(|err| {
                StorageError::Corrupt(format!(
                    "{}.{name} holds a value that is not {}: {err}",
                    table.spec.name,
                    kind.as_str()
                ))
            })
        })
        .collect()
}
