//! Schema migrations: one forward-only series per backend, embedded in the binary.
//! Applied at start and by `termin migrate`. A database that has a migration this binary
//! does not know (a newer termin ran) is refused rather than used half-understood.

use sqlx::migrate::{MigrateError, Migrator};

use crate::{Backend, StorageError, Store, StoreResult};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied_now: usize,
    pub schema_version: i64,
}

/// Whether the database can serve requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Reachable, but migrations are missing.
    NotMigrated,
    Unreachable,
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match self.backend() {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    /// The newest schema version this binary knows.
    pub fn latest_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest schema version applied to the database (0 when none).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// Applies every pending migration. Safe to run from several instances at once: the
    /// migrator takes a database lock.
    pub async fn migrate(&self) -> StoreResult<MigrationReport> {
        let before = self.schema_version().await.unwrap_or(0);
        match self.migrator().run(&self.pool).await {
            Ok(()) => {}
            Err(MigrateError::VersionMissing(version)) => {
                return Err(StorageError::SchemaTooNew(version));
            }
            Err(err) => return Err(StorageError::Migration(err)),
        }
        let after = self.schema_version().await?;
        let applied_now = self
            .migrator()
            .iter()
            .filter(|m| m.version > before && m.version <= after)
            .count();
        Ok(MigrationReport {
            applied_now,
            schema_version: after,
        })
    }

    /// Applies the migrations up to and including `version` (a restore loads an older
    /// backup into the schema it was taken in, then migrates forward).
    pub(crate) async fn migrate_to(&self, version: i64) -> StoreResult<()> {
        match self.migrator().run_to(version, &self.pool).await {
            Ok(()) => Ok(()),
            Err(MigrateError::VersionMissing(version)) => Err(StorageError::SchemaTooNew(version)),
            Err(err) => Err(StorageError::Migration(err)),
        }
    }

    /// The tables this binary's migrations create: a snapshot carries these and nothing
    /// else that may share the database or schema (an extension's tables, another program's).
    pub(crate) fn termin_tables(&self) -> std::collections::BTreeSet<String> {
        let mut tables = std::collections::BTreeSet::new();
        for migration in self.migrator().iter() {
            let sql = migration.sql.as_str().to_ascii_lowercase();
            for rest in sql.split("create table").skip(1) {
                let rest = rest.trim_start();
                let rest = rest
                    .strip_prefix("if not exists")
                    .unwrap_or(rest)
                    .trim_start();
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    tables.insert(name);
                }
            }
        }
        tables
    }

    /// For `/readyz`: reachable and migrated to exactly this binary's schema.
    pub async fn readiness(&self) -> Readiness {
        if self.ping().await.is_err() {
            return Readiness::Unreachable;
        }
        match self.schema_version().await {
            Ok(v) if v == self.latest_schema_version() => Readiness::Ready,
            _ => Readiness::NotMigrated,
        }
    }
}
