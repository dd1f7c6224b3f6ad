//! Encrypted, verified backups of the whole database to several independent targets, and
//! restores (seed promise S11: backups on two independent servers).
//!
//! A run takes one consistent snapshot (`termin-storage`), writes it as gzip-compressed JSON
//! lines ([`format`]) encrypted with age to the operator's public keys ([`crypto`]) into a
//! work file — ciphertext only ever touches the disk — restores that file into a scratch
//! database in memory to prove it restores, then uploads it to every target independently
//! ([`target`]): upload, read back, compare the hash, write the manifest ([`manifest`]).
//! One target failing does not stop the others; it is retried, recorded, and reported to the
//! operator and the practice owners ([`alerts`]). Old backups go by the retention rule
//! (`termin_domain::backup`), never the last verified one.

pub mod alerts;
pub mod crypto;
pub mod format;
pub mod manifest;
mod restore;
mod run;
pub mod schedule;
pub mod signing;
pub mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use termin_domain::Clock;
use termin_domain::backup::{DailyAt, Retention, WeeklyAt};
use termin_domain::org::TimeZoneName;
use termin_storage::{RestoreError, StorageError, Store};

pub use crypto::{Identities, Recipients};
pub use restore::{RestoreOutcome, VerifyOutcome, content_hash};
pub use run::{RunReport, TargetOutcome};
pub use target::{Listed, Listing, S3Settings, Target};

/// The operator's backup configuration, checked.
#[derive(Clone, Debug)]
pub struct BackupSettings {
    pub recipients: Recipients,
    pub targets: Vec<Target>,
    /// The zone the schedule and retention days are in.
    pub time_zone: TimeZoneName,
    pub schedule: DailyAt,
    pub verify_schedule: WeeklyAt,
    pub retention: Retention,
    /// Waits before the second, third, … attempt of a failed target.
    pub retry_delays: Vec<Duration>,
    /// The operator's addresses for alerts (practice owners are told as well).
    pub alert_emails: Vec<String>,
    /// Where the encrypted work file is written (inside the data directory).
    pub work_dir: PathBuf,
    /// Public keys (hex) whose signatures a restore accepts, besides the key of the database
    /// restored into: the operator notes the key `termin backup key` prints.
    pub signing_keys: Vec<String>,
    /// An identity file for the weekly check to restore with. Off by default: a server that
    /// holds it can read its backups.
    pub verify_identity: Option<PathBuf>,
}

/// Backups of one database.
#[derive(Clone)]
pub struct Backups {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<BackupSettings>,
}

impl Backups {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: BackupSettings) -> Self {
        Self {
            store,
            clock,
            settings: Arc::new(settings),
        }
    }

    pub fn target(&self, name: &str) -> Option<&Target> {
        self.settings
            .targets
            .iter()
            .find(|t| t.name.as_str() == name)
    }
}

/// Why a target step failed, as a short code that is safe to store, show and e-mail (the
/// store's own error text is logged, not kept: it can quote addresses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct TargetFailure {
    pub code: String,
}

impl TargetFailure {
    pub fn local(code: &str) -> Self {
        Self { code: code.into() }
    }

    pub(crate) fn from_store_error(step: &str, err: &object_store::Error) -> Self {
        let cause = match err {
            object_store::Error::NotFound { .. } => "not_found",
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => "access_denied",
            _ => "unreachable",
        };
        Self {
            code: format!("{step}: {cause}"),
        }
    }
}

/// Everything that can go wrong outside one target.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the backup is damaged: {0}")]
    Corrupt(&'static str),
    #[error("the backup's content hash does not match: it was changed or damaged")]
    HashMismatch,
    #[error("the stored backup's hash does not match its manifest: it was changed or damaged")]
    ObjectHashMismatch,
    #[error("the backup's manifest signature does not match: it was changed after it was signed")]
    BadSignature,
    #[error(
        "the backup is signed by key {0}, which is not trusted: if you noted this key from `termin backup key`, add it to backup.signing_keys or pass --signing-key {0}"
    )]
    UntrustedSigner(String),
    #[error("the backup's plaintext format version {0} is not one this termin reads")]
    UnsupportedFormat(u32),
    #[error("{0}")]
    Identity(String),
    #[error("no backup target named {0} is configured")]
    UnknownTarget(String),
    #[error("target {target} has no complete backup {id}")]
    NoSuchBackup { target: String, id: String },
    #[error("target {target}: {failure}")]
    Target {
        target: String,
        failure: TargetFailure,
    },
    #[error("the restored database differs from the backup: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot write the backup: {0}")]
    Io(String),
    #[error("the snapshot stopped before its end")]
    SnapshotStopped,
}

impl BackupError {
    pub(crate) fn io(err: std::io::Error) -> Self {
        BackupError::Io(err.to_string())
    }

    pub(crate) fn format(err: serde_json::Error) -> Self {
        BackupError::Io(err.to_string())
    }
}
