//! `termin backup run|list|verify` and `termin restore` (API-CONTRACT.md).

use std::path::Path;
use std::sync::Arc;

use termin_backup::{BackupSettings, Backups, Identities};
use termin_domain::SystemClock;
use termin_domain::backup::BackupId;
use termin_storage::{DatabaseUrl, PoolSettings, Store};

use super::Failure;
use crate::app::open_store;
use crate::cli::RestoreArgs;
use crate::config::Settings;

fn configured(settings: &Settings) -> Result<BackupSettings, Failure> {
    settings.backup.clone().ok_or_else(|| {
        Failure::usage(
            "no backup target is configured: add [[backup.targets]] to the configuration (see docs/OPERATIONS.md)",
        )
    })
}

async fn backups(settings: &Settings) -> Result<Backups, Failure> {
    let backup = configured(settings)?;
    let (store, _) = open_store(settings).await.map_err(Failure::other)?;
    Ok(Backups::new(store, Arc::new(SystemClock), backup))
}

/// Prints the id on stdout (alone, for scripts) and each target's outcome on stderr.
pub async fn run(settings: Settings) -> Result<(), Failure> {
    let backups = backups(&settings).await?;
    let report = backups.run().await;
    backups.store.close().await;
    let report = report.map_err(|err| Failure::other(format!("no backup was made: {err}")))?;
    println!("{}", report.manifest.id);
    let total: u64 = report.manifest.row_counts.values().sum();
    eprintln!(
        "backup {}: {total} rows, {} bytes encrypted, restore-tested, signed by {}",
        report.manifest.id, report.manifest.object_bytes, report.manifest.signing_key
    );
    let mut failed = Vec::new();
    for outcome in &report.targets {
        match &outcome.result {
            Ok(bytes) => eprintln!("  {}: stored and read back ({bytes} bytes)", outcome.target),
            Err(failure) => {
                eprintln!(
                    "  {}: FAILED after {} attempt(s): {}",
                    outcome.target, outcome.attempts, failure.code
                );
                failed.push(format!("{} ({})", outcome.target, failure.code));
            }
        }
    }
    for (target, id) in &report.pruned {
        eprintln!("  {target}: deleted {id} (retention)");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::other(format!(
            "the backup failed on {}; the operator and practice owners were alerted",
            failed.join(", ")
        )))
    }
}

/// One line of `termin backup list`, in the contract's field order.
#[derive(serde::Serialize)]
struct ListedBackup {
    target: String,
    id: String,
    created_at: String,
    bytes: u64,
    verified: bool,
}

pub async fn list(settings: Settings, json: bool) -> Result<(), Failure> {
    let backups = backups(&settings).await?;
    backups.store.close().await;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for target in &backups.settings.targets {
        match target.list().await {
            Ok(listing) => rows.extend(listing.complete.iter().map(|listed| ListedBackup {
                target: target.name.to_string(),
                id: listed.manifest.id.to_string(),
                created_at: listed.manifest.created_at.to_string(),
                bytes: listed.manifest.object_bytes,
                verified: listed.verified(),
            })),
            Err(failure) => failed.push(format!("{} ({})", target.name, failure.code)),
        }
    }
    if json {
        println!("{}", serde_json::to_string(&rows).map_err(Failure::other)?);
    } else {
        println!(
            "{:<16} {:<26} {:<22} {:>14} verified",
            "target", "id", "created_at", "bytes"
        );
        for row in &rows {
            println!(
                "{:<16} {:<26} {:<22} {:>14} {}",
                row.target,
                row.id,
                row.created_at,
                row.bytes,
                if row.verified { "yes" } else { "no" },
            );
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::other(format!("cannot list {}", failed.join(", "))))
    }
}

/// Prints the public signing key (alone on stdout).
pub async fn key(settings: Settings) -> Result<(), Failure> {
    let (store, _) = open_store(&settings).await.map_err(Failure::other)?;
    let signer = termin_backup::signing::Signer::of(&store, jiff::Timestamp::now()).await;
    store.close().await;
    let signer = signer.map_err(Failure::other)?;
    println!("{}", signer.public_hex());
    Ok(())
}

fn identities(path: &Path) -> Result<Identities, Failure> {
    Identities::from_file(path).map_err(Failure::usage)
}

pub async fn verify(settings: Settings, identity: Option<&Path>) -> Result<(), Failure> {
    let identities = identity.map(identities).transpose()?;
    let backups = backups(&settings).await?;
    let outcomes = backups.verify(identities.as_ref()).await;
    backups.store.close().await;
    let mut failed = Vec::new();
    for outcome in outcomes {
        let id = outcome
            .backup
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "-".into());
        match outcome.result {
            Ok(termin_backup::manifest::CheckMethod::Restore) => println!(
                "{}: {id}: restored into a scratch database, rows and content hash match",
                outcome.target
            ),
            Ok(termin_backup::manifest::CheckMethod::Hash) => println!(
                "{}: {id}: stored object matches its manifest (pass --identity for a full restore test)",
                outcome.target
            ),
            Err(code) => failed.push(format!("{} ({id}): {code}", outcome.target)),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::other(format!(
            "the check failed on {}",
            failed.join("; ")
        )))
    }
}

pub async fn restore(settings: Settings, args: RestoreArgs) -> Result<(), Failure> {
    let mut backup = configured(&settings)?;
    for key in &args.signing_key {
        if !termin_backup::signing::is_public_key(key) {
            return Err(Failure::usage(format!(
                "--signing-key {key:?} is not a public key as `termin backup key` prints it (64 hex digits)"
            )));
        }
        backup.signing_keys.push(key.clone());
    }
    let id = BackupId::parse(&args.backup).map_err(|_| {
        Failure::usage(format!(
            "{:?} is not a backup id (termin backup list shows them)",
            args.backup
        ))
    })?;
    if !backup
        .targets
        .iter()
        .any(|t| t.name.as_str() == args.target)
    {
        return Err(Failure::usage(format!(
            "no backup target named {} is configured",
            args.target
        )));
    }
    let identities = identities(&args.identity)?;
    // The database is opened without migrating: the restore migrates it to the backup's
    // schema version first, then forward.
    let url = &settings.database_url;
    let store = connect(&settings, url).await?;
    let backups = Backups::new(store.clone(), Arc::new(SystemClock), backup);
    let outcome = backups
        .restore(&args.target, &id, identities, &store, args.force)
        .await;
    store.close().await;
    let outcome = outcome.map_err(|err| Failure::other(format!("nothing was restored: {err}")))?;
    let total: u64 = outcome.report.row_counts.iter().map(|(_, n)| n).sum();
    println!(
        "restored backup {} (made {} on {}, schema version {}) from {} into {}",
        outcome.manifest.id,
        outcome.manifest.created_at,
        outcome.manifest.source,
        outcome.manifest.schema_version,
        args.target,
        url.redacted()
    );
    if outcome.report.replaced_rows > 0 {
        println!(
            "replaced {} rows that were in the database (--force)",
            outcome.report.replaced_rows
        );
    }
    for (table, rows) in outcome.report.row_counts.iter().filter(|(_, n)| *n > 0) {
        println!("  {table}: {rows}");
    }
    println!(
        "{total} rows in {} tables; the database is at schema version {}",
        outcome.report.row_counts.len(),
        outcome.report.schema_version
    );
    Ok(())
}

async fn connect(settings: &Settings, url: &DatabaseUrl) -> Result<Store, Failure> {
    if url.sqlite_path().is_some() {
        crate::app::create_data_dir(settings).map_err(Failure::other)?;
    }
    Store::connect(url, &PoolSettings::default())
        .await
        .map_err(|err| Failure::other(format!("cannot open {}: {err}", url.redacted())))
}
