//! The self-signed certificate used when the operator configured none.
//!
//! It names only localhost, 127.0.0.1 and ::1: it is for trying Termin out and for a
//! reverse proxy on the same machine, never for serving practices on a network. A fresh
//! one is made when the old one expires within 30 days.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SanType};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::TlsError;

/// Validity of a new certificate: 364 days, under the one-year bound browsers accept.
const VALIDITY_DAYS: i64 = 364;
/// A certificate expiring sooner than this is replaced at start-up.
const RENEW_BEFORE: SignedDuration = SignedDuration::from_hours(30 * 24);

pub struct SelfSignedFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Whether the certificate was created just now.
    pub created: bool,
}

pub fn paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (
        dir.join("self-signed-cert.pem"),
        dir.join("self-signed-key.pem"),
    )
}

/// Returns the self-signed certificate's files, creating them when missing or expiring.
pub fn ensure(data_dir: &Path, now: Timestamp) -> Result<SelfSignedFiles, TlsError> {
    let (cert, key) = paths(data_dir);
    if let Some(expiry) = existing_expiry(&cert, &key)
        && expiry.duration_since(now) > RENEW_BEFORE
    {
        return Ok(SelfSignedFiles {
            cert,
            key,
            created: false,
        });
    }
    generate(&cert, &key, now)?;
    Ok(SelfSignedFiles {
        cert,
        key,
        created: true,
    })
}

fn existing_expiry(cert: &Path, key: &Path) -> Option<Timestamp> {
    let certified = super::load_certified_key(cert, key).ok()?;
    super::not_after(certified.end_entity_cert().ok()?)
}

fn generate(cert_path: &Path, key_path: &Path, now: Timestamp) -> Result<(), TlsError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(TlsError::Generate)?;
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into().map_err(TlsError::Generate)?),
        SanType::IpAddress([127, 0, 0, 1].into()),
        SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
    ];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "Termin self-signed (localhost)");
    name.push(DnType::OrganizationName, "Termin");
    params.distinguished_name = name;
    // Back-date by a day so that a client whose clock is slightly behind accepts it.
    let start = now
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .yesterday()
        .unwrap_or_default();
    let end = start
        .checked_add(jiff::Span::new().days(VALIDITY_DAYS))
        .unwrap_or(start);
    params.not_before = rcgen::date_time_ymd(
        i32::from(start.year()),
        start.month() as u8,
        start.day() as u8,
    );
    params.not_after =
        rcgen::date_time_ymd(i32::from(end.year()), end.month() as u8, end.day() as u8);
    let certificate = params.self_signed(&key).map_err(TlsError::Generate)?;

    if let Some(dir) = cert_path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
            path: dir.display().to_string(),
            source,
        })?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    write_atomically(key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_atomically(cert_path, certificate.pem().as_bytes(), 0o644)?;
    Ok(())
}

/// Writes to a temporary file created with `mode`, then renames it into place: a reader
/// never sees half a file and the key is never briefly world-readable.
fn write_atomically(path: &Path, content: &[u8], mode: u32) -> Result<(), TlsError> {
    let err = |source| TlsError::Write {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(content).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// The DER of the certificate in `cert_path` (for fingerprints and trusting it in tests).
pub fn leaf_der(cert_path: &Path) -> Option<CertificateDer<'static>> {
    let pem = std::fs::read(cert_path).ok()?;
    CertificateDer::pem_slice_iter(&pem).next()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_p256_certificate_for_localhost_valid_under_a_year_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        let files = ensure(dir.path(), now).unwrap();
        assert!(files.created);
        let mode = std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let der = leaf_der(&files.cert).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).unwrap();
        let validity = cert.validity();
        let lifetime = validity.not_after.timestamp() - validity.not_before.timestamp();
        assert!(lifetime <= 365 * 24 * 3600, "lifetime {lifetime}s");
        assert!(validity.not_before.timestamp() <= now.as_second());
        let sans: Vec<String> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            sans,
            [
                "DNSName(localhost)",
                "IPAddress(7f:00:00:01)",
                "IPAddress(00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01)"
            ]
        );
        assert_eq!(
            cert.public_key().algorithm.algorithm.to_id_string(),
            "1.2.840.10045.2.1",
            "an EC public key"
        );
    }

    #[test]
    fn reuses_a_valid_certificate_and_renews_one_near_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        let first = ensure(dir.path(), now).unwrap();
        let fp = crate::tls::fingerprint(&leaf_der(&first.cert).unwrap());
        let again = ensure(
            dir.path(),
            now.checked_add(SignedDuration::from_hours(24 * 300))
                .unwrap(),
        )
        .unwrap();
        assert!(!again.created);
        assert_eq!(crate::tls::fingerprint(&leaf_der(&again.cert).unwrap()), fp);
        let later = ensure(
            dir.path(),
            now.checked_add(SignedDuration::from_hours(24 * 340))
                .unwrap(),
        )
        .unwrap();
        assert!(later.created);
        assert_ne!(crate::tls::fingerprint(&leaf_der(&later.cert).unwrap()), fp);
    }
}
