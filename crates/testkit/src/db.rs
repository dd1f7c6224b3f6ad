//! Fresh, isolated databases for tests.

use std::path::PathBuf;

use sqlx::Executor;
use termin_storage::{DatabaseUrl, PoolSettings, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A database that exists only for one test.
pub struct TestDb {
    pub backend: TestBackend,
    url: String,
    /// For SQLite: the directory holding the file. For PostgreSQL: the admin URL and the
    /// database name, to drop it afterwards.
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

const PG_ENV: &str = "TERMIN_TEST_POSTGRES_URL";
const REQUIRE_PG_ENV: &str = "TERMIN_TEST_REQUIRE_POSTGRES";

impl TestDb {
    /// A fresh database on `backend`; panics when PostgreSQL is asked for but not configured.
    pub async fn new(backend: TestBackend) -> Self {
        match backend {
            TestBackend::Sqlite => Self::sqlite(),
            TestBackend::Postgres => Self::postgres_if_configured()
                .await
                .unwrap_or_else(|| panic!("{PG_ENV} is not set")),
        }
    }

    /// Another handle on this PostgreSQL database, for a second Termin instance; it does not
    /// drop the database (this one does, so it must outlive the second instance).
    pub fn second_instance_handle(&self) -> Self {
        assert_eq!(
            self.backend,
            TestBackend::Postgres,
            "instances share a database on PostgreSQL"
        );
        Self {
            backend: self.backend,
            url: self.url.clone(),
            _dir: None,
            pg_admin: None,
        }
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path: PathBuf = dir.path().join("termin.db");
        Self {
            backend: TestBackend::Sqlite,
            url: format!("sqlite://{}", path.display()),
            _dir: Some(dir),
            pg_admin: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (test skipped) when no server is configured.
    pub async fn postgres_if_configured() -> Option<Self> {
        let Ok(admin_url) = std::env::var(PG_ENV) else {
            if std::env::var(REQUIRE_PG_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_PG_ENV}=1 but {PG_ENV} is not set: PostgreSQL tests must run");
            }
            eprintln!("SKIPPED: {PG_ENV} is not set; PostgreSQL test not run");
            return None;
        };
        let name = format!("termin_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect_admin(&admin_url).await;
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let mut url = url::Url::parse(&admin_url).expect("TERMIN_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(Self {
            backend: TestBackend::Postgres,
            url: url.to_string(),
            _dir: None,
            pg_admin: Some((admin_url, name)),
        })
    }

    /// The URL Termin is given (`--database-url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("test database URL")
    }

    /// A connected store, not yet migrated.
    pub async fn connect(&self) -> Store {
        Store::connect(&self.database_url(), &PoolSettings::default())
            .await
            .expect("connect to test database")
    }

    /// A connected, migrated store.
    pub async fn store(&self) -> Store {
        let store = self.connect().await;
        store.migrate().await.expect("migrate test database");
        store
    }

    /// Runs raw SQL behind Termin's back, to set up states the API cannot reach (a
    /// corrupted row, a schema from the future).
    pub async fn execute_raw(&self, sql: &str) {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .expect("raw connection");
        conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("raw SQL failed: {e}: {sql}"));
    }

    /// The first column of every row of a raw query, as text (NULL as `None`).
    pub async fn raw_strings(&self, sql: &str) -> Vec<Option<String>> {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .expect("raw connection");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw SQL failed: {e}: {sql}"));
        rows.iter()
            .map(|r| r.try_get::<Option<String>, _>(0).expect("a text column"))
            .collect()
    }

    /// Drops the PostgreSQL database (the SQLite directory goes with the value).
    pub async fn cleanup(mut self) {
        if let Some((admin_url, name)) = self.pg_admin.take() {
            drop_database(&admin_url, &name).await;
        }
    }
}

async fn connect_admin(admin_url: &str) -> sqlx::PgConnection {
    <sqlx::PgConnection as sqlx::Connection>::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {PG_ENV}: {e}"))
}

async fn drop_database(admin_url: &str, name: &str) {
    let mut admin = connect_admin(admin_url).await;
    let _ = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await;
}

impl Drop for TestDb {
    /// A test that panicked never reached `cleanup`; drop its database on a helper thread
    /// (a runtime cannot be blocked on from inside another).
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_admin.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_database(&admin_url, &name));
                }
            })
            .join();
        }
    }
}
