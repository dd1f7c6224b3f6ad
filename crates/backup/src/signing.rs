//! Signed manifests. age proves nothing about who encrypted a file — anyone with the public
//! recipient key (it is public, and written in every manifest) can make a backup that
//! decrypts. So the installation signs each manifest, which holds the object's and the
//! content's hashes, with an Ed25519 key kept in its database; a restore accepts only
//! manifests signed by a key the operator trusts (`backup.signing_keys`, `--signing-key`, or
//! the key of the database being restored into). Someone who can write to a target but does
//! not hold the server cannot plant a backup — an owner account with their password, say.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use termin_storage::Store;

use crate::BackupError;
use crate::manifest::Manifest;

/// The installation's signing key.
pub struct Signer {
    pair: Ed25519KeyPair,
    public_hex: String,
}

impl Signer {
    /// The database's key, made on first use.
    pub async fn of(store: &Store, now: jiff::Timestamp) -> Result<Self, BackupError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| BackupError::Io("cannot make a signing key".into()))?;
        let candidate = Ed25519KeyPair::from_pkcs8(document.as_ref())
            .map_err(|_| BackupError::Io("cannot make a signing key".into()))?;
        let (private_hex, _) = store
            .backup_signing_key(
                (
                    &hex::encode(document.as_ref()),
                    &hex::encode(candidate.public_key().as_ref()),
                ),
                now,
            )
            .await?;
        Self::from_private_hex(&private_hex)
    }

    /// A fresh key that is not stored anywhere.
    pub fn generate() -> Result<Self, BackupError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| BackupError::Io("cannot make a signing key".into()))?;
        Self::from_private_hex(&hex::encode(document.as_ref()))
    }

    /// A key from its PKCS#8 hex (as stored).
    pub fn from_private_hex(private_hex: &str) -> Result<Self, BackupError> {
        let bytes = hex::decode(private_hex)
            .map_err(|_| BackupError::Io("the stored signing key is damaged".into()))?;
        let pair = Ed25519KeyPair::from_pkcs8(&bytes)
            .map_err(|_| BackupError::Io("the stored signing key is damaged".into()))?;
        let public_hex = hex::encode(pair.public_key().as_ref());
        Ok(Self { pair, public_hex })
    }

    pub fn public_hex(&self) -> &str {
        &self.public_hex
    }

    /// Fills in `signing_key` and `signature`.
    pub fn sign(&self, manifest: &mut Manifest) -> Result<(), BackupError> {
        manifest.signing_key = self.public_hex.clone();
        let message = signed_bytes(manifest)?;
        manifest.signature = hex::encode(self.pair.sign(&message).as_ref());
        Ok(())
    }
}

/// What is signed: the manifest as JSON with an empty signature.
fn signed_bytes(manifest: &Manifest) -> Result<Vec<u8>, BackupError> {
    let mut unsigned = manifest.clone();
    unsigned.signature = String::new();
    serde_json::to_vec(&unsigned).map_err(BackupError::format)
}

/// Checks that the manifest is signed by the key it names, and that this key is one of
/// `trusted`.
pub fn check(manifest: &Manifest, trusted: &[String]) -> Result<(), BackupError> {
    let key = hex::decode(&manifest.signing_key).map_err(|_| BackupError::BadSignature)?;
    let signature = hex::decode(&manifest.signature).map_err(|_| BackupError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, &key)
        .verify(&signed_bytes(manifest)?, &signature)
        .map_err(|_| BackupError::BadSignature)?;
    let named = manifest.signing_key.to_ascii_lowercase();
    if !trusted
        .iter()
        .any(|t| t.trim().to_ascii_lowercase() == named)
    {
        return Err(BackupError::UntrustedSigner(manifest.signing_key.clone()));
    }
    Ok(())
}

/// Whether `raw` is an Ed25519 public key as `termin backup key` prints it (64 hex digits).
pub fn is_public_key(raw: &str) -> bool {
    let raw = raw.trim();
    raw.len() == 64 && raw.chars().all(|c| c.is_ascii_hexdigit())
}
