//! Making a backup: snapshot → JSON lines → gzip → age → work file; a restore test of that
//! file; then every target on its own (upload, read back, hash, manifest), retried.

use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use termin_domain::backup::{BackupId, StoredBackup, TargetName};
use termin_storage::{BackupRun, BackupRunKind, SnapshotEvent};
use tokio::sync::mpsc;

use crate::crypto::{self, Identities, RunKey};
use crate::format::{ContentWriter, FORMAT_VERSION, Preamble, Trailer};
use crate::manifest::{MANIFEST_FORMAT, Manifest};
use crate::signing::Signer;
use crate::target::Target;
use crate::{BackupError, Backups, TargetFailure};

/// One target's part of a run.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    pub target: TargetName,
    /// Bytes stored, or why not.
    pub result: Result<u64, TargetFailure>,
    pub attempts: usize,
}

/// What `termin backup run` did.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub manifest: Manifest,
    pub targets: Vec<TargetOutcome>,
    /// Older backups deleted by the retention rule, per target.
    pub pruned: Vec<(TargetName, BackupId)>,
}

impl RunReport {
    pub fn all_ok(&self) -> bool {
        self.targets.iter().all(|t| t.result.is_ok())
    }
}

/// What was written to the work file.
struct Written {
    trailer: Trailer,
    object_sha256: String,
    object_bytes: u64,
}

/// Counts and hashes what passes through to the file.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn random_suffix() -> Result<[u8; 4], BackupError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|err| BackupError::Io(err.to_string()))?;
    Ok(bytes)
}

impl Backups {
    /// Makes one backup and sends it to every target. `Err` only when no backup could be
    /// made at all (then every target is recorded as failed and the operator alerted);
    /// a target that fails is in the report.
    pub async fn run(&self) -> Result<RunReport, BackupError> {
        let id = BackupId::new(self.clock.now(), random_suffix()?);
        let work = self.work_file(&id)?;
        let made = match self.make(&id, work.path()).await {
            Ok(manifest) => manifest,
            Err(err) => {
                tracing::error!(backup = %id, error = %err, "backup could not be made");
                let code = TargetFailure::local(match &err {
                    BackupError::Storage(_) => "snapshot_failed",
                    BackupError::Mismatch(_) | BackupError::HashMismatch => "restore_test_failed",
                    _ => "backup_failed",
                });
                let outcomes: Vec<TargetOutcome> = self
                    .settings
                    .targets
                    .iter()
                    .map(|t| TargetOutcome {
                        target: t.name.clone(),
                        result: Err(code.clone()),
                        attempts: 0,
                    })
                    .collect();
                self.record(&id, &outcomes, BackupRunKind::Backup).await;
                self.alert_failures(&id, &outcomes, "backup").await;
                return Err(err);
            }
        };
        let mut outcomes = Vec::with_capacity(self.settings.targets.len());
        for target in &self.settings.targets {
            outcomes.push(self.send_with_retries(target, &made, work.path()).await);
        }
        drop(work);
        self.record(&id, &outcomes, BackupRunKind::Backup).await;
        let mut pruned = Vec::new();
        for outcome in outcomes.iter().filter(|o| o.result.is_ok()) {
            if let Some(target) = self.target(outcome.target.as_str()) {
                pruned.extend(self.prune(target).await);
            }
        }
        if outcomes.iter().any(|o| o.result.is_err()) {
            self.alert_failures(&id, &outcomes, "backup").await;
        }
        Ok(RunReport {
            manifest: made,
            targets: outcomes,
            pruned,
        })
    }

    /// An owner-only work file for the ciphertext, removed when dropped. Work files that a
    /// killed run left behind (older than a day, so a run in progress is left alone) go.
    pub(crate) fn work_file(&self, id: &BackupId) -> Result<tempfile::NamedTempFile, BackupError> {
        let dir = &self.settings.work_dir;
        std::fs::create_dir_all(dir).map_err(BackupError::io)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(BackupError::io)?;
        remove_stale_work_files(dir);
        tempfile::Builder::new()
            .prefix(&format!("{}.", id.as_str()))
            .suffix(".age.partial")
            .tempfile_in(dir)
            .map_err(BackupError::io)
    }

    /// Snapshot → encrypted work file, then the restore test. Returns the manifest.
    async fn make(&self, id: &BackupId, file: &Path) -> Result<Manifest, BackupError> {
        let key = RunKey::generate();
        let schema_version = self.store.schema_version().await?;
        let preamble = Preamble {
            termin_backup: FORMAT_VERSION,
            id: id.as_str().to_owned(),
            schema_version,
            created_at: id.created_at().to_string(),
            source: self.store.backend().name().to_owned(),
        };
        let (events, received) = mpsc::channel::<SnapshotEvent>(8);
        let recipients = self.settings.recipients.clone();
        let run_recipient = key.recipient();
        let path = file.to_owned();
        let writer = tokio::task::spawn_blocking(move || {
            write_encrypted(&path, &recipients, &run_recipient, &preamble, received)
        });
        let exported = self.store.export_snapshot(events).await;
        let written = writer
            .await
            .map_err(|err| BackupError::Io(err.to_string()))?;
        // Whichever side failed first explains it: a failed read ends the writer with "the
        // snapshot stopped", a failed write ends the reader with "its reader stopped".
        let (summary, written) = match (exported, written) {
            (Ok(summary), Ok(written)) => (summary, written),
            (Err(read), Err(BackupError::SnapshotStopped)) => return Err(read.into()),
            (_, Err(write)) => return Err(write),
            (Err(read), Ok(_)) => return Err(read.into()),
        };
        if summary.schema_version != schema_version {
            return Err(BackupError::Io(
                "the schema was migrated while the backup ran; run it again".into(),
            ));
        }
        let mut manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            format_version: FORMAT_VERSION,
            id: id.clone(),
            schema_version,
            created_at: id.created_at(),
            source: self.store.backend().name().into(),
            row_counts: written.trailer.row_counts.clone(),
            content_sha256: written.trailer.content_sha256.clone(),
            object_sha256: written.object_sha256,
            object_bytes: written.object_bytes,
            recipients: self.settings.recipients.as_strings(),
            restore_tested: true,
            signing_key: String::new(),
            signature: String::new(),
        };
        Signer::of(&self.store, self.clock.now())
            .await?
            .sign(&mut manifest)?;
        // The restore test: what was written decrypts, its hash holds, it loads into an
        // empty database and that database holds exactly the backed-up rows.
        self.restore_test(&Identities::of_run(&key), file, &manifest)
            .await?;
        Ok(manifest)
    }

    async fn send_with_retries(
        &self,
        target: &Target,
        manifest: &Manifest,
        file: &Path,
    ) -> TargetOutcome {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match send_once(target, manifest, file).await {
                Ok(bytes) => {
                    return TargetOutcome {
                        target: target.name.clone(),
                        result: Ok(bytes),
                        attempts,
                    };
                }
                Err(failure) => {
                    tracing::warn!(target_name = %target.name, attempt = attempts, code = %failure.code, "backup upload failed");
                    match self.settings.retry_delays.get(attempts - 1) {
                        Some(delay) => tokio::time::sleep(*delay).await,
                        None => {
                            return TargetOutcome {
                                target: target.name.clone(),
                                result: Err(failure),
                                attempts,
                            };
                        }
                    }
                }
            }
        }
    }

    pub(crate) async fn record(
        &self,
        id: &BackupId,
        outcomes: &[TargetOutcome],
        kind: BackupRunKind,
    ) {
        let now = self.clock.now();
        for outcome in outcomes {
            let run = BackupRun {
                backup_id: id.as_str().to_owned(),
                target: outcome.target.as_str().to_owned(),
                kind,
                finished_at: now,
                ok: outcome.result.is_ok(),
                bytes: outcome.result.as_ref().ok().copied(),
                error: outcome.result.as_ref().err().map(|f| f.code.clone()),
            };
            if let Err(err) = self.store.record_backup_run(&run).await {
                tracing::error!(error = %err, "could not record a backup run");
            }
        }
    }

    /// Deletes what the retention rule lets go on `target`, and objects of runs that never
    /// finished (older than a day, so a run in progress elsewhere is left alone).
    pub async fn prune(&self, target: &Target) -> Vec<(TargetName, BackupId)> {
        let listing = match target.list().await {
            Ok(listing) => listing,
            Err(failure) => {
                tracing::warn!(target_name = %target.name, code = %failure.code, "cannot list for retention");
                return Vec::new();
            }
        };
        let stored: Vec<StoredBackup> = listing
            .complete
            .iter()
            .map(|l| StoredBackup {
                id: l.manifest.id.clone(),
                verified: l.verified(),
            })
            .collect();
        let zone = self.settings.time_zone.zone();
        let mut doomed = self.settings.retention.to_delete(&stored, &zone);
        let day_ago = self
            .clock
            .now()
            .saturating_sub(jiff::SignedDuration::from_hours(24))
            .unwrap_or(self.clock.now());
        doomed.extend(
            listing
                .incomplete
                .into_iter()
                .filter(|id| id.created_at() < day_ago),
        );
        let mut deleted = Vec::new();
        for id in doomed {
            match target.delete(&id).await {
                Ok(()) => deleted.push((target.name.clone(), id)),
                Err(failure) => {
                    tracing::warn!(target_name = %target.name, backup = %id, code = %failure.code, "cannot delete an old backup");
                }
            }
        }
        deleted
    }
}

fn remove_stale_work_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let day = std::time::Duration::from_secs(24 * 3600);
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if stale
            && entry
                .file_name()
                .to_string_lossy()
                .ends_with(".age.partial")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Upload, read back, compare, and only then the manifest that makes it complete.
async fn send_once(
    target: &Target,
    manifest: &Manifest,
    file: &Path,
) -> Result<u64, TargetFailure> {
    let bytes = target.upload(&manifest.id, file).await?;
    let (sha256, size) = target.fetch(&manifest.id, None).await?;
    if sha256 != manifest.object_sha256 || size != manifest.object_bytes {
        return Err(TargetFailure::local("read_back_mismatch"));
    }
    target.put_manifest(manifest).await?;
    Ok(bytes)
}

/// The blocking half of a run: JSON lines → gzip → age → file, hashing the ciphertext.
fn write_encrypted(
    path: &Path,
    recipients: &crypto::Recipients,
    run_recipient: &age::x25519::Recipient,
    preamble: &Preamble,
    mut received: mpsc::Receiver<SnapshotEvent>,
) -> Result<Written, BackupError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(BackupError::io)?;
    let hashing = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    let encrypted = crypto::encrypt(recipients, run_recipient, hashing)?;
    let compressed = GzEncoder::new(encrypted, Compression::fast());
    let mut content = ContentWriter::new(compressed);
    content.preamble(preamble)?;
    let mut ended = false;
    while let Some(event) = received.blocking_recv() {
        if event == SnapshotEvent::End {
            ended = true;
            break;
        }
        content.event(&event)?;
    }
    if !ended {
        return Err(BackupError::SnapshotStopped);
    }
    let (compressed, trailer) = content.finish()?;
    let encrypted = compressed.finish().map_err(BackupError::io)?;
    let mut hashing = encrypted.finish().map_err(BackupError::io)?;
    hashing.flush().map_err(BackupError::io)?;
    let HashingWriter {
        inner,
        hasher,
        bytes,
    } = hashing;
    let file = inner
        .into_inner()
        .map_err(|err| BackupError::io(err.into_error()))?;
    file.sync_all().map_err(BackupError::io)?;
    Ok(Written {
        trailer,
        object_sha256: hex::encode(hasher.finalize()),
        object_bytes: bytes,
    })
}
