//! Serving the current certificate, and picking up a renewed one without a restart.
//!
//! A watcher task compares the files' modification time and size every interval; when
//! they change it loads and checks the new pair and swaps it in. New handshakes get the
//! new certificate, open connections keep theirs. A broken renewal (half-written file,
//! mismatched key) is logged and the previous certificate stays in service.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::{TlsError, fingerprint, load_certified_key};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Option<(SystemTime, u64)>, Option<(SystemTime, u64)>);

fn stamp_of(cert: &PathBuf, key: &PathBuf) -> Stamp {
    let one = |p: &PathBuf| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    };
    Stamp(one(cert), one(key))
}

#[derive(Debug)]
pub struct ReloadingResolver {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<(Arc<CertifiedKey>, Stamp)>,
}

impl ReloadingResolver {
    pub fn load(cert_path: PathBuf, key_path: PathBuf) -> Result<Self, TlsError> {
        let stamp = stamp_of(&cert_path, &key_path);
        let key = load_certified_key(&cert_path, &key_path)?;
        Ok(Self {
            cert_path,
            key_path,
            current: RwLock::new((Arc::new(key), stamp)),
        })
    }

    /// The SHA-256 fingerprint of the leaf certificate now in service.
    pub fn fingerprint(&self) -> String {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .0
            .end_entity_cert()
            .map(fingerprint)
            .unwrap_or_default()
    }

    /// Reloads if the files changed. `Ok(true)` when a new certificate is now served.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let stamp = stamp_of(&self.cert_path, &self.key_path);
        {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            if current.1 == stamp {
                return Ok(false);
            }
        }
        let loaded = load_certified_key(&self.cert_path, &self.key_path);
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        // Remember the stamp either way, so a broken file is reported once, not every tick.
        current.1 = stamp;
        current.0 = Arc::new(loaded?);
        Ok(true)
    }

    /// Checks the files every `interval` until the process ends.
    pub fn spawn_watcher(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match self.reload_if_changed() {
                    Ok(true) => tracing::info!(
                        fingerprint_sha256 = %self.fingerprint(),
                        "TLS certificate reloaded"
                    ),
                    Ok(false) => {}
                    Err(err) => tracing::error!(
                        error = %err,
                        "the changed TLS certificate could not be loaded; still serving the previous one"
                    ),
                }
            }
        })
    }
}

impl ResolvesServerCert for ReloadingResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        Some(Arc::clone(&current.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::self_signed;

    fn fresh_pair(dir: &std::path::Path, name: &str) -> (PathBuf, PathBuf) {
        let sub = dir.join(name);
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let files = self_signed::ensure(&sub, now).unwrap();
        (files.cert, files.key)
    }

    #[test]
    fn a_mismatched_key_is_refused_and_the_old_certificate_stays() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = fresh_pair(dir.path(), "a");
        let resolver = ReloadingResolver::load(cert.clone(), key.clone()).unwrap();
        let served = resolver.fingerprint();
        assert!(
            !resolver.reload_if_changed().unwrap(),
            "nothing changed yet"
        );

        let (_, other_key) = fresh_pair(dir.path(), "b");
        std::fs::write(&key, std::fs::read(&other_key).unwrap()).unwrap();
        assert!(matches!(
            resolver.reload_if_changed(),
            Err(TlsError::KeyMismatch)
        ));
        assert_eq!(resolver.fingerprint(), served);
        // Reported once, not on every tick.
        assert!(!resolver.reload_if_changed().unwrap());
    }

    #[test]
    fn a_renewed_pair_replaces_the_served_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = fresh_pair(dir.path(), "a");
        let resolver = ReloadingResolver::load(cert.clone(), key.clone()).unwrap();
        let before = resolver.fingerprint();
        let (new_cert, new_key) = fresh_pair(dir.path(), "b");
        std::fs::copy(&new_key, &key).unwrap();
        std::fs::copy(&new_cert, &cert).unwrap();
        assert!(resolver.reload_if_changed().unwrap());
        assert_ne!(resolver.fingerprint(), before);
    }
}
