#![expect(
    clippy::expect_used,
    reason = "test kit: a failed test set-up must fail the test loudly"
)]
//! Test kit: a fresh database per test on either backend, a real Termin server over TLS on
//! port 0 with a manual clock, an HTTPS client that trusts exactly that server's
//! certificate, and a real browser for end-to-end tests (`webdriver`).
//!
//! PostgreSQL tests run when `TERMIN_TEST_POSTGRES_URL` is set (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own database, dropped
//! afterwards. With `TERMIN_TEST_REQUIRE_POSTGRES=1` (set by CI) a missing URL fails the
//! test instead of skipping it.

mod browser;
pub mod calendar;
mod db;
pub mod guards;
mod passkey;
pub mod pki;
pub mod s3;
mod server;
pub mod tls_probe;
pub mod webdriver;

pub use browser::{Answer, Browser, CHROME, FIREFOX};
pub use db::{TestBackend, TestDb};
pub use passkey::SoftPasskey;
pub use server::{OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer, TestServerBuilder};

/// A fixed, unremarkable start instant for manual clocks.
pub fn test_epoch() -> jiff::Timestamp {
    // A Wednesday in March, days before the Europe/Berlin DST change.
    jiff::Timestamp::from_second(1_774_396_800).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Declares each listed `async fn name(db: &TestDb)` as a test on SQLite (`sqlite::name`)
/// and on PostgreSQL (`postgres::name`), so both backends pass one suite.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = $crate::TestDb::new($crate::TestBackend::Sqlite).await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres_if_configured().await else {
                        return;
                    };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
