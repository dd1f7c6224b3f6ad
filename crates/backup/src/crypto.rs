//! age encryption. The server holds only the operator's public keys (recipients); the
//! identity that decrypts stays offline and is given to `termin restore` (and, if the
//! operator wants a full restore test, to `termin backup verify`) as a file.
//!
//! Each backup is also encrypted to a fresh key pair made for that run and kept in memory
//! only: with it the run restores what it wrote into a scratch database before it calls the
//! backup good, and when the run ends the key is gone, so a stolen server still cannot read
//! a single backup.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::str::FromStr;

use age::x25519;

use crate::BackupError;

/// The operator's public keys (`age1…`), checked.
#[derive(Clone)]
pub struct Recipients(Vec<x25519::Recipient>);

impl Recipients {
    /// Parses `age1…` keys; the error names the position of the bad one.
    pub fn parse(keys: &[String]) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one recipient (an age1… public key) is needed".into());
        }
        keys.iter()
            .enumerate()
            .map(|(i, key)| {
                x25519::Recipient::from_str(key.trim()).map_err(|_| {
                    format!("entry {i} is not an age X25519 public key (age1…); an identity (AGE-SECRET-KEY-…) never belongs on the server")
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Recipients)
    }

    pub fn as_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

impl std::fmt::Debug for Recipients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_strings()).finish()
    }
}

/// A key pair that lives for one backup run, in memory only.
pub struct RunKey(x25519::Identity);

impl RunKey {
    pub fn generate() -> Self {
        RunKey(x25519::Identity::generate())
    }

    pub fn recipient(&self) -> x25519::Recipient {
        self.0.to_public()
    }
}

/// The identities that can decrypt: the operator's file, or a run's own key.
#[derive(Clone)]
pub struct Identities(std::sync::Arc<Vec<Box<dyn age::Identity + Send + Sync>>>);

impl Identities {
    /// Reads an age identity file (as `age-keygen` writes it).
    pub fn from_file(path: &Path) -> Result<Self, BackupError> {
        let file = std::fs::File::open(path).map_err(|err| {
            BackupError::Identity(format!("cannot read {}: {err}", path.display()))
        })?;
        let identities = age::IdentityFile::from_buffer(std::io::BufReader::new(file))
            .map_err(|_| {
                BackupError::Identity(format!("{} is not an age identity file", path.display()))
            })?
            .into_identities()
            .map_err(|_| {
                BackupError::Identity(format!("{} holds no usable age identity", path.display()))
            })?;
        if identities.is_empty() {
            return Err(BackupError::Identity(format!(
                "{} holds no age identity",
                path.display()
            )));
        }
        Ok(Identities(std::sync::Arc::new(identities)))
    }

    pub fn of_run(key: &RunKey) -> Self {
        Identities(std::sync::Arc::new(vec![Box::new(key.0.clone())]))
    }

    /// A reader of the plaintext of an age file.
    pub fn decrypt<R: BufRead>(&self, input: R) -> Result<impl Read, BackupError> {
        let decryptor = age::Decryptor::new_buffered(input)
            .map_err(|_| BackupError::Corrupt("the backup is not an age file"))?;
        decryptor
            .decrypt(self.0.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|err| match err {
                age::DecryptError::NoMatchingKeys => BackupError::Identity(
                    "the identity does not decrypt this backup (it was made for other keys)".into(),
                ),
                _ => BackupError::Corrupt("the backup's encryption header is damaged"),
            })
    }
}

/// Encrypts to the operator's recipients and the run's key.
pub fn encrypt<W: Write>(
    recipients: &Recipients,
    run_recipient: &x25519::Recipient,
    output: W,
) -> Result<age::stream::StreamWriter<W>, BackupError> {
    let all = recipients
        .0
        .iter()
        .map(|r| r as &dyn age::Recipient)
        .chain(std::iter::once(run_recipient as &dyn age::Recipient));
    age::Encryptor::with_recipients(all)
        .map_err(|_| BackupError::Corrupt("no recipients to encrypt to"))?
        .wrap_output(output)
        .map_err(BackupError::io)
}
