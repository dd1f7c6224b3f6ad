//! The manifest beside each backup object, and the record of later checks.
//!
//! A backup is complete only when its manifest exists: the manifest is written after the
//! object was uploaded, read back and its hash compared. A run killed half-way leaves at
//! most an object without a manifest, which is never listed, restored or counted, and is
//! cleaned up later. The manifest is plaintext (it is what `termin backup list` shows without
//! the key); the same facts are inside the encrypted object, where nobody can change them,
//! and a restore compares the two.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use termin_domain::backup::BackupId;

pub const MANIFEST_FORMAT: &str = "termin-backup-manifest";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The plaintext format's version ([`crate::format::FORMAT_VERSION`]).
    pub format_version: u32,
    pub id: BackupId,
    pub schema_version: i64,
    pub created_at: Timestamp,
    /// `sqlite` or `postgres`.
    pub source: String,
    pub row_counts: BTreeMap<String, u64>,
    /// SHA-256 of the table and row lines of the plaintext.
    pub content_sha256: String,
    /// SHA-256 and size of the encrypted object as stored.
    pub object_sha256: String,
    pub object_bytes: u64,
    /// The public keys it was encrypted to (besides the run's own key).
    pub recipients: Vec<String>,
    /// The run restored the object into a scratch database and found the same rows.
    pub restore_tested: bool,
    /// The installation's Ed25519 public key (hex) and its signature over this manifest
    /// with `signature` empty (see `signing.rs`).
    pub signing_key: String,
    pub signature: String,
}

/// How a backup was checked after it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckMethod {
    /// Downloaded and its hash compared with the manifest (no key on the server).
    Hash,
    /// Also decrypted with the operator's identity and restored into a scratch database.
    Restore,
}

/// The newest check of a backup, stored beside it on its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub checked_at: Timestamp,
    pub method: CheckMethod,
    pub ok: bool,
    /// A short error code when not ok.
    pub error: Option<String>,
}
