//! `termin migrate`: apply pending schema migrations and exit.

use super::Failure;
use crate::app::open_store;
use crate::config::Settings;

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let (store, report) = open_store(&settings).await.map_err(Failure::other)?;
    store.close().await;
    println!(
        "database {} is at schema version {} ({} migration(s) applied now)",
        settings.database_url.redacted(),
        report.schema_version,
        report.applied_now
    );
    Ok(())
}
