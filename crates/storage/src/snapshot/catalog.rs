//! The schema as the database describes it: tables, columns, primary keys and foreign keys.
//! Read from the catalog rather than listed by hand, so that a new table is in every backup
//! without anybody remembering to add it.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{AnyConnection, Row};

use super::{ColumnKind, TableSpec, safe_identifier};
use crate::{Backend, StorageError, StoreResult};

/// A table with what a snapshot needs to read it in a stable order.
#[derive(Debug, Clone)]
pub(crate) struct CatalogTable {
    pub spec: TableSpec,
    /// Primary-key columns in key order (empty: order by every column).
    pub primary_key: Vec<String>,
}

/// Tables of the installation's own operation, not of its practices: which backups ran and
/// which instance holds a scheduled job. A restored server starts them afresh — it has made
/// no backup yet, and a lease of the lost server must not hold up its first one.
pub(crate) const NOT_IN_SNAPSHOTS: [&str; 2] = ["backup_runs", "scheduled_jobs"];

/// Termin's tables in the schema (those `termin` names; others sharing the database are
/// left alone), parents before children, ties broken by name.
pub(crate) async fn tables(
    conn: &mut AnyConnection,
    backend: Backend,
    termin: &BTreeSet<String>,
) -> StoreResult<Vec<CatalogTable>> {
    let names: Vec<String> = table_names(conn, backend)
        .await?
        .into_iter()
        .filter(|n| termin.contains(n) && !NOT_IN_SNAPSHOTS.contains(&n.as_str()))
        .collect();
    let names = checked(names)?;
    let mut tables = BTreeMap::new();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let columns = columns(conn, backend, name).await?;
        let primary_key = primary_key(conn, backend, name).await?;
        let mut refs = BTreeSet::new();
        for parent in foreign_key_parents(conn, backend, name).await? {
            if parent != *name {
                refs.insert(parent);
            }
        }
        parents.insert(name.clone(), refs);
        tables.insert(
            name.clone(),
            CatalogTable {
                spec: TableSpec {
                    name: name.clone(),
                    columns,
                },
                primary_key,
            },
        );
    }
    let order = parents_first(&parents)?;
    Ok(order
        .into_iter()
        .filter_map(|name| tables.remove(&name))
        .collect())
}

/// Kahn's algorithm with the smallest name first, so both backends give the same order.
fn parents_first(parents: &BTreeMap<String, BTreeSet<String>>) -> StoreResult<Vec<String>> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::with_capacity(parents.len());
    while order.len() < parents.len() {
        let next = parents
            .iter()
            .find(|(name, refs)| {
                !done.contains(*name)
                    && refs
                        .iter()
                        .all(|p| done.contains(p) || !parents.contains_key(p))
            })
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                StorageError::Corrupt("the schema's foreign keys form a cycle".into())
            })?;
        done.insert(next.clone());
        order.push(next);
    }
    Ok(order)
}

async fn strings(
    conn: &mut AnyConnection,
    sql: &'static str,
    bind: Option<&str>,
) -> StoreResult<Vec<String>> {
    let mut query = sqlx::query(sql);
    if let Some(value) = bind {
        query = query.bind(value.to_owned());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| row.try_get::<String, _>(0).map_err(StorageError::Database))
        .collect()
}

fn checked(names: Vec<String>) -> StoreResult<Vec<String>> {
    match names.iter().find(|n| !safe_identifier(n)) {
        Some(bad) => Err(StorageError::Corrupt(format!(
            "the schema has a name a snapshot cannot carry: {bad:?}"
        ))),
        None => Ok(names),
    }
}

async fn table_names(conn: &mut AnyConnection, backend: Backend) -> StoreResult<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name NOT LIKE '_sqlx_%' ORDER BY table_name"
        }
    };
    strings(conn, sql, None).await
}

fn kind_of(declared: &str) -> Option<ColumnKind> {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("int") {
        Some(ColumnKind::Int)
    } else if declared == "text" {
        Some(ColumnKind::Text)
    } else {
        None
    }
}

async fn columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> StoreResult<Vec<(String, ColumnKind)>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1)",
        Backend::Postgres => {
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let rows = sqlx::query(sql)
        .bind(table.to_owned())
        .fetch_all(&mut *conn)
        .await?;
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get(0)?;
        let declared: String = row.try_get(1)?;
        let kind = kind_of(&declared).ok_or_else(|| {
            StorageError::Corrupt(format!(
                "column {table}.{name} has type {declared}, which snapshots do not carry"
            ))
        })?;
        columns.push((name, kind));
    }
    columns.sort();
    let names = checked(columns.iter().map(|(n, _)| n.clone()).collect())?;
    debug_assert_eq!(names.len(), columns.len());
    Ok(columns)
}

async fn primary_key(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> StoreResult<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
        Backend::Postgres => {
            "SELECT k.column_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.key_column_usage k \
               ON k.constraint_name = c.constraint_name AND k.constraint_schema = c.constraint_schema \
             WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() \
               AND c.table_name = $1 ORDER BY k.ordinal_position"
        }
    };
    checked(strings(conn, sql, Some(table)).await?)
}

async fn foreign_key_parents(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> StoreResult<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)",
        Backend::Postgres => {
            "SELECT DISTINCT u.table_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.constraint_column_usage u \
               ON u.constraint_name = c.constraint_name AND u.constraint_schema = c.constraint_schema \
             WHERE c.constraint_type = 'FOREIGN KEY' AND c.table_schema = current_schema() \
               AND c.table_name = $1"
        }
    };
    strings(conn, sql, Some(table)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges
            .iter()
            .map(|(t, ps)| {
                (
                    (*t).to_owned(),
                    ps.iter().map(|p| (*p).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn parents_come_first_and_ties_go_by_name() {
        let g = graph(&[
            ("appointments", &["patients", "practitioners"]),
            ("patients", &["organizations"]),
            ("practitioners", &["organizations"]),
            ("organizations", &[]),
            ("audit_log", &[]),
        ]);
        assert_eq!(
            parents_first(&g).unwrap(),
            [
                "audit_log",
                "organizations",
                "patients",
                "practitioners",
                "appointments"
            ]
        );
    }

    #[test]
    fn a_cycle_is_refused() {
        let g = graph(&[("a", &["b"]), ("b", &["a"])]);
        assert!(parents_first(&g).is_err());
    }

    #[test]
    fn declared_types_map_to_the_two_kinds() {
        assert_eq!(kind_of("BIGINT"), Some(ColumnKind::Int));
        assert_eq!(kind_of("bigint"), Some(ColumnKind::Int));
        assert_eq!(kind_of("INTEGER"), Some(ColumnKind::Int));
        assert_eq!(kind_of("TEXT"), Some(ColumnKind::Text));
        assert_eq!(kind_of("bytea"), None);
        assert_eq!(kind_of("REAL"), None);
    }
}
