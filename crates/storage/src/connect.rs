//! Opening the database: pool settings and the per-backend connection set-up.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::{DatabaseUrl, StorageError, StoreResult};

/// Which database a [`Store`] talks to. Only the storage crate branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Connection pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long SQLite waits for a competing writer before giving up.
    pub sqlite_busy_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            sqlite_busy_timeout: Duration::from_secs(10),
        }
    }
}

/// The one storage interface. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

/// SQLite's connection pragmas:
/// - WAL lets readers proceed while one writer writes;
/// - `synchronous = FULL` makes every commit durable, even across power loss;
/// - foreign keys are off by default in SQLite and must be switched on per connection;
/// - the busy timeout makes a competing writer wait instead of failing at once.
fn sqlite_pragmas(busy_timeout: Duration) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = {};",
        busy_timeout.as_millis()
    )
}

/// Creates the SQLite file with mode 0600, or narrows an existing one to it. SQLite gives
/// its `-wal` and `-shm` files the database file's mode, so they follow.
fn restrict_sqlite_file(path: &std::path::Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StorageError::Database(sqlx::Error::Io(e));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)
}

impl Store {
    /// Connects to `url`; for SQLite the file (not its directory) is created when missing,
    /// readable by the owner only.
    pub async fn connect(url: &DatabaseUrl, settings: &PoolSettings) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = url.backend();
        if let Some(path) = url.sqlite_path() {
            restrict_sqlite_file(&path)?;
        }
        let raw = match backend {
            Backend::Sqlite if !url.expose().contains("mode=") => {
                let sep = if url.expose().contains('?') { '&' } else { '?' };
                format!("{}{sep}mode=rwc", url.expose())
            }
            _ => url.expose().to_owned(),
        };
        let options: AnyConnectOptions = raw.parse().map_err(StorageError::Database)?;
        // Statements are logged at debug level only; their bound values never are.
        let options = options.log_statements(tracing::log::LevelFilter::Debug);
        let pragmas = sqlite_pragmas(settings.sqlite_busy_timeout);
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, backend })
    }

    /// A private, empty SQLite database in memory, for restore tests of backups: their
    /// plaintext never touches the disk. One connection, never recycled (the database lives
    /// as long as that connection). Not migrated.
    pub async fn scratch_in_memory() -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions =
            "sqlite::memory:".parse().map_err(StorageError::Database)?;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Sorts and temporary tables stay in memory too: no plaintext in temp files.
                    conn.execute("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            backend: Backend::Sqlite,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Is the database reachable at all?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for in-flight queries, then closes every connection (SQLite checkpoints its
    /// write-ahead log on the last close).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing
    /// when it upgrades a read lock.
    pub async fn begin(&self) -> StoreResult<crate::Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(crate::Tx {
            inner: tx,
            backend: self.backend,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_are_durable_wal_with_foreign_keys_and_a_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::sqlite_in(dir.path());
        let settings = PoolSettings {
            sqlite_busy_timeout: Duration::from_millis(7500),
            ..PoolSettings::default()
        };
        let store = Store::connect(&url, &settings).await.unwrap();
        assert!(
            dir.path().join("termin.db").is_file(),
            "the file is created"
        );
        let pragma = |name: &'static str| {
            let pool = store.pool.clone();
            async move {
                use sqlx::Row;
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA {name}")))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                row.try_get::<String, _>(0)
                    .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
                    .unwrap()
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("synchronous").await, "2", "FULL");
        assert_eq!(pragma("busy_timeout").await, "7500");
        store.migrate().await.unwrap();
        use std::os::unix::fs::PermissionsExt;
        for name in ["termin.db", "termin.db-wal", "termin.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        store.close().await;
    }
}
