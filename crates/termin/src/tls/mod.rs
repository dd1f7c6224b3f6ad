//! TLS for the HTTPS listener (seed promises S1 and S2).
//!
//! - Only TLS 1.3 and 1.2, only ECDHE key exchange with AEAD ciphers (Mozilla
//!   "intermediate"); ALPN offers h2 and http/1.1.
//! - Without an operator certificate, a self-signed ECDSA P-256 certificate for
//!   localhost/127.0.0.1/::1 is created in the data directory (valid < 1 year, key 0600).
//! - The operator's full chain (EV, OV or DV) is served as given, and a changed file is
//!   picked up without a restart (see [`reload`]).

pub mod reload;
pub mod self_signed;

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self as provider, cipher_suite};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ResolvesServerCert;
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} contains no PEM certificate")]
    NoCertificate { path: String },
    #[error("{path} contains no PEM private key")]
    NoKey { path: String },
    #[error("the private key is not usable: {0}")]
    BadKey(rustls::Error),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the self-signed certificate: {0}")]
    Generate(rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Config(rustls::Error),
}

/// The cipher suites offered: ECDHE + AEAD only. TLS 1.3 suites are always ECDHE/AEAD;
/// for TLS 1.2 only the GCM and ChaCha20-Poly1305 suites with ECDHE are kept.
pub fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        ..provider::default_provider()
    }
}

/// The rustls server configuration for the HTTPS listener.
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Result<ServerConfig, TlsError> {
    let mut config = ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Loads a PEM certificate chain (leaf first) and its private key, and checks that they
/// belong together.
pub fn load_certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .filter_map(Result::ok)
        .collect();
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: cert_path.display().to_string(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey {
        path: key_path.display().to_string(),
    })?;
    let signing_key = crypto_provider()
        .key_provider
        .load_private_key(key)
        .map_err(TlsError::BadKey)?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|_| TlsError::KeyMismatch)?;
    Ok(certified)
}

/// SHA-256 fingerprint of a DER certificate, as `openssl x509 -fingerprint -sha256` shows it.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The leaf certificate's expiry, if it can be read.
pub fn not_after(cert: &CertificateDer<'_>) -> Option<jiff::Timestamp> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    jiff::Timestamp::from_second(parsed.validity().not_after.timestamp()).ok()
}
