//! Reading backups back: restores, the restore test of every run, and later checks.

use std::io::BufReader;
use std::path::Path;

use flate2::read::GzDecoder;
use termin_domain::backup::{BackupId, TargetName};
use termin_storage::{BackupRunKind, RestoreError, RestoreReport, SnapshotEvent, Store};
use tokio::sync::{mpsc, oneshot};

use crate::crypto::Identities;
use crate::format::{ContentReader, ContentWriter, Next, Preamble, Trailer};
use crate::manifest::{Check, CheckMethod, Manifest};
use crate::run::TargetOutcome;
use crate::signing;
use crate::{BackupError, Backups, TargetFailure};

/// What `termin restore` did.
#[derive(Debug)]
pub struct RestoreOutcome {
    pub manifest: Manifest,
    pub report: RestoreReport,
}

/// One target's part of `termin backup verify`.
#[derive(Debug)]
pub struct VerifyOutcome {
    pub target: TargetName,
    pub backup: Option<BackupId>,
    pub result: Result<CheckMethod, String>,
}

impl VerifyOutcome {
    /// The outcome as a run record (and alert line) of its target.
    fn as_run(&self) -> TargetOutcome {
        TargetOutcome {
            target: self.target.clone(),
            result: self
                .result
                .clone()
                .map(|_| 0)
                .map_err(|code| TargetFailure { code }),
            attempts: 1,
        }
    }
}

impl Backups {
    /// Restores backup `id` of `target` into `into` (see `Store::restore_snapshot`): the
    /// object's hash must match its manifest, it must decrypt with `identities`, its content
    /// hash and the facts inside it must match the manifest — else nothing is written.
    pub async fn restore(
        &self,
        target: &str,
        id: &BackupId,
        identities: Identities,
        into: &Store,
        force: bool,
    ) -> Result<RestoreOutcome, BackupError> {
        let target = self
            .target(target)
            .ok_or_else(|| BackupError::UnknownTarget(target.to_owned()))?;
        let manifest = target
            .manifest(id)
            .await
            .map_err(|failure| BackupError::Target {
                target: target.name.to_string(),
                failure,
            })?
            .ok_or_else(|| BackupError::NoSuchBackup {
                target: target.name.to_string(),
                id: id.to_string(),
            })?;
        signing::check(&manifest, &self.trusted_signers(into).await?)?;
        let work = self.work_file(id)?;
        let (sha256, size) = target
            .fetch(id, Some(work.path()))
            .await
            .map_err(|failure| BackupError::Target {
                target: target.name.to_string(),
                failure,
            })?;
        if sha256 != manifest.object_sha256 || size != manifest.object_bytes {
            return Err(BackupError::ObjectHashMismatch);
        }
        let (report, _) = load_file(into, identities, work.path(), &manifest, force).await?;
        Ok(RestoreOutcome { manifest, report })
    }

    /// Decrypts `file` with `identities` into a scratch database in memory and checks that
    /// it holds exactly what `manifest` says.
    pub(crate) async fn restore_test(
        &self,
        identities: &Identities,
        file: &Path,
        manifest: &Manifest,
    ) -> Result<(), BackupError> {
        let scratch = Store::scratch_in_memory().await?;
        let identities = identities.clone();
        let result = async {
            let (report, _) = load_file(&scratch, identities, file, manifest, false).await?;
            let counts: std::collections::BTreeMap<String, u64> =
                report.row_counts.iter().cloned().collect();
            if counts != manifest.row_counts {
                return Err(BackupError::Mismatch("row counts".into()));
            }
            // Dumped again, the scratch database must hash the same — unless migrations of
            // this newer termin moved an older backup forward (its stream hash held above).
            if report.schema_version != manifest.schema_version {
                return Ok(());
            }
            let (again, _) = content_hash(&scratch).await?;
            if again != manifest.content_sha256 {
                return Err(BackupError::Mismatch("content hash".into()));
            }
            Ok(())
        }
        .await;
        scratch.close().await;
        result
    }

    /// Checks the newest backup of every target: downloads it and compares its hash with the
    /// manifest; with an identity, also restores it into a scratch database. Records each
    /// result on the target and in the database, and alerts on failures.
    pub async fn verify(&self, identities: Option<&Identities>) -> Vec<VerifyOutcome> {
        let mut outcomes = Vec::new();
        for target in &self.settings.targets {
            let outcome = self.verify_target(target, identities).await;
            outcomes.push(outcome);
        }
        let runs: Vec<TargetOutcome> = outcomes.iter().map(VerifyOutcome::as_run).collect();
        for (outcome, run) in outcomes.iter().zip(&runs) {
            if let Some(id) = &outcome.backup {
                self.record(id, std::slice::from_ref(run), BackupRunKind::Verify)
                    .await;
            }
        }
        let failed: Vec<TargetOutcome> = runs.into_iter().filter(|r| r.result.is_err()).collect();
        if !failed.is_empty() {
            let id = outcomes.iter().find_map(|o| o.backup.clone());
            self.alert_verify_failures(id.as_ref(), &failed).await;
        }
        outcomes
    }

    async fn verify_target(
        &self,
        target: &crate::Target,
        identities: Option<&Identities>,
    ) -> VerifyOutcome {
        let listing = match target.list().await {
            Ok(listing) => listing,
            Err(failure) => {
                return VerifyOutcome {
                    target: target.name.clone(),
                    backup: None,
                    result: Err(failure.code),
                };
            }
        };
        // A newer backup whose manifest cannot be read is the newest, and it is damaged.
        let newest_complete = listing.complete.iter().map(|l| l.manifest.id.clone()).max();
        if let Some(damaged) = listing.damaged.iter().max()
            && newest_complete.as_ref().is_none_or(|c| damaged > c)
        {
            return VerifyOutcome {
                target: target.name.clone(),
                backup: Some(damaged.clone()),
                result: Err("manifest_unreadable".into()),
            };
        }
        let Some(latest) = listing
            .complete
            .into_iter()
            .max_by(|a, b| a.manifest.id.cmp(&b.manifest.id))
        else {
            return VerifyOutcome {
                target: target.name.clone(),
                backup: None,
                result: Err("no_backup".into()),
            };
        };
        let manifest = latest.manifest;
        let result = self.check_one(target, &manifest, identities).await;
        let check = Check {
            checked_at: self.clock.now(),
            method: result.as_ref().copied().unwrap_or(if identities.is_some() {
                CheckMethod::Restore
            } else {
                CheckMethod::Hash
            }),
            ok: result.is_ok(),
            error: result.as_ref().err().cloned(),
        };
        if let Err(failure) = target.put_check(&manifest.id, &check).await {
            tracing::warn!(target_name = %target.name, code = %failure.code, "cannot store the check result");
        }
        VerifyOutcome {
            target: target.name.clone(),
            backup: Some(manifest.id),
            result,
        }
    }

    /// The keys whose signatures count: the configured ones and the key of the database
    /// the backup would go into (its own backups).
    async fn trusted_signers(&self, database: &Store) -> Result<Vec<String>, BackupError> {
        let mut trusted = self.settings.signing_keys.clone();
        // A database without the table yet (a new one) simply has no key.
        if let Ok(Some(own)) = database.backup_signing_public_key().await {
            trusted.push(own);
        }
        Ok(trusted)
    }

    async fn check_one(
        &self,
        target: &crate::Target,
        manifest: &Manifest,
        identities: Option<&Identities>,
    ) -> Result<CheckMethod, String> {
        let trusted = self
            .trusted_signers(&self.store)
            .await
            .map_err(|_| "database_unreachable".to_owned())?;
        match signing::check(manifest, &trusted) {
            Ok(()) => {}
            Err(BackupError::UntrustedSigner(_)) => return Err("untrusted_signer".into()),
            Err(_) => return Err("signature_invalid".into()),
        }
        let work = self
            .work_file(&manifest.id)
            .map_err(|_| "work_dir_unwritable".to_owned())?;
        let (sha256, size) = target
            .fetch(&manifest.id, identities.map(|_| work.path()))
            .await
            .map_err(|f| f.code)?;
        if sha256 != manifest.object_sha256 || size != manifest.object_bytes {
            return Err("hash_mismatch".into());
        }
        let Some(identities) = identities else {
            return Ok(CheckMethod::Hash);
        };
        match self.restore_test(identities, work.path(), manifest).await {
            Ok(()) => Ok(CheckMethod::Restore),
            Err(BackupError::Identity(_)) => Err("identity_does_not_decrypt".into()),
            Err(err) => {
                tracing::warn!(target_name = %target.name, error = %err, "restore test failed");
                Err("restore_test_failed".into())
            }
        }
    }
}

/// Loads an encrypted backup file into `into`. The reading thread sends the end of the
/// snapshot only after the content hash and every fact inside the backup matched the
/// manifest, so on any mismatch the restore's transaction never commits.
async fn load_file(
    into: &Store,
    identities: Identities,
    file: &Path,
    manifest: &Manifest,
    force: bool,
) -> Result<(RestoreReport, Trailer), BackupError> {
    let (events, received) = mpsc::channel::<SnapshotEvent>(8);
    let (preamble_tx, preamble_rx) = oneshot::channel::<Preamble>();
    let path = file.to_owned();
    let expected = manifest.clone();
    let reader = tokio::task::spawn_blocking(move || -> Result<Trailer, BackupError> {
        let file = std::fs::File::open(&path).map_err(BackupError::io)?;
        let plain = identities.decrypt(BufReader::with_capacity(1 << 16, file))?;
        let text = BufReader::with_capacity(1 << 16, GzDecoder::new(plain));
        let (mut content, preamble) = ContentReader::open(text)?;
        if preamble.id != expected.id.as_str() || preamble.schema_version != expected.schema_version
        {
            return Err(BackupError::Corrupt(
                "the manifest does not describe the backup it sits beside",
            ));
        }
        let _ = preamble_tx.send(preamble);
        loop {
            match content.read_next()? {
                Next::Event(event) => {
                    if events.blocking_send(event).is_err() {
                        return Err(BackupError::Io("the restore stopped".into()));
                    }
                }
                Next::End(trailer) => {
                    if trailer.content_sha256 != expected.content_sha256
                        || trailer.row_counts != expected.row_counts
                    {
                        return Err(BackupError::HashMismatch);
                    }
                    let _ = events.blocking_send(SnapshotEvent::End);
                    return Ok(trailer);
                }
            }
        }
    });
    let restored = match preamble_rx.await {
        Ok(preamble) => Some(
            into.restore_snapshot(preamble.schema_version, force, received)
                .await,
        ),
        Err(_) => None,
    };
    let read = reader
        .await
        .map_err(|err| BackupError::Io(err.to_string()))?;
    match (restored, read) {
        (Some(Ok(report)), Ok(trailer)) => Ok((report, trailer)),
        // The reader's error explains a restore that stopped short better than "incomplete".
        (Some(Err(RestoreError::Incomplete)) | None, Err(read)) => Err(read),
        (Some(Err(refused)), _) => Err(refused.into()),
        (Some(Ok(_)), Err(read)) => Err(read),
        (None, Ok(_)) => Err(BackupError::Corrupt("the backup has no header")),
    }
}

/// The content hash and row counts of a database, as a backup of it would have them.
pub async fn content_hash(
    store: &Store,
) -> Result<(String, std::collections::BTreeMap<String, u64>), BackupError> {
    let (events, mut received) = mpsc::channel::<SnapshotEvent>(8);
    let hasher = tokio::task::spawn_blocking(move || -> Result<Trailer, BackupError> {
        let mut writer = ContentWriter::new(std::io::sink());
        while let Some(event) = received.blocking_recv() {
            writer.event(&event)?;
        }
        Ok(writer.finish()?.1)
    });
    let exported = store.export_snapshot(events).await;
    let trailer = hasher
        .await
        .map_err(|err| BackupError::Io(err.to_string()))??;
    exported?;
    Ok((trailer.content_sha256, trailer.row_counts))
}
