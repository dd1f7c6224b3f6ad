//! Backup targets: a local or mounted directory, or S3-compatible object storage, behind
//! one object-store interface. Layout on a target (under its prefix):
//!
//! ```text
//! <id>/backup.age      the encrypted backup
//! <id>/manifest.json   written last: its presence means complete (see manifest.rs)
//! <id>/check.json      the newest later check
//! ```

use std::collections::BTreeSet;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use sha2::{Digest, Sha256};
use termin_domain::backup::{BackupId, TargetName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::TargetFailure;
use crate::manifest::{Check, Manifest};

const OBJECT: &str = "backup.age";
const MANIFEST: &str = "manifest.json";
const CHECK: &str = "check.json";
/// Parts of a multipart upload (S3 needs at least 5 MiB, except the last).
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Where an S3-compatible target is and how to sign in to it.
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// For S3-compatible stores (MinIO, Ceph, …); AWS when absent.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Folder inside the bucket.
    pub prefix: Option<String>,
}

/// One configured target.
#[derive(Clone)]
pub struct Target {
    pub name: TargetName,
    /// What the operator sees: `directory /srv/backups`, `s3 bucket termin at …`.
    pub description: String,
    place: Place,
    prefix: Option<Path>,
}

/// Where the objects go. A directory is opened at each use, not at start-up: a NAS that is
/// not mounted is a failing target (reported), not a server that cannot start.
#[derive(Clone)]
enum Place {
    Directory(std::path::PathBuf),
    Store(Arc<dyn ObjectStore>),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish()
    }
}

/// A backup as a target lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub manifest: Manifest,
    pub check: Option<Check>,
}

impl Listed {
    /// Restore-tested when made, and no later check found it damaged.
    pub fn verified(&self) -> bool {
        self.manifest.restore_tested && self.check.as_ref().is_none_or(|c| c.ok)
    }
}

/// What a target's listing found: complete backups, ids with an object but no manifest (a
/// run that did not finish), and ids whose manifest cannot be read (left for the operator).
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub complete: Vec<Listed>,
    pub incomplete: Vec<BackupId>,
    pub damaged: Vec<BackupId>,
}

impl Target {
    /// A local or mounted directory. It must exist when a backup runs; Termin does not
    /// create it, so that an unmounted share's empty mount point is never written to by
    /// mistake (point the target at a folder inside the share).
    pub fn directory(name: TargetName, path: &FsPath) -> Result<Self, String> {
        if !path.is_absolute() {
            return Err(format!("{} is not an absolute path", path.display()));
        }
        Ok(Self {
            name,
            description: format!("directory {}", path.display()),
            place: Place::Directory(path.to_owned()),
            prefix: None,
        })
    }

    fn store(&self) -> Result<Arc<dyn ObjectStore>, TargetFailure> {
        match &self.place {
            Place::Store(store) => Ok(Arc::clone(store)),
            Place::Directory(path) => {
                if !path.is_dir() {
                    tracing::warn!(target_name = %self.name, path = %path.display(), "backup directory missing (not mounted?)");
                    return Err(TargetFailure::local("directory_missing"));
                }
                LocalFileSystem::new_with_prefix(path)
                    .map(|fs| Arc::new(fs.with_fsync(true)) as Arc<dyn ObjectStore>)
                    .map_err(|err| {
                        tracing::warn!(target_name = %self.name, error = %err, "backup directory unusable");
                        TargetFailure::local("directory_unusable")
                    })
            }
        }
    }

    /// S3 or an S3-compatible store. Plain `http://` endpoints are accepted only on the
    /// loopback interface (a local test server); anything else must be HTTPS.
    pub fn s3(name: TargetName, settings: &S3Settings) -> Result<Self, String> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            // Retries of single requests; the whole upload is retried by the run.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(60),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_timeout(Duration::from_secs(300)),
            );
        let mut description = format!("s3 bucket {}", settings.bucket);
        if let Some(endpoint) = &settings.endpoint {
            let url = url_host(endpoint)?;
            if url.0 == "http" && !url.1 {
                return Err(format!(
                    "endpoint {endpoint} is plain HTTP to another machine: use https:// (plain HTTP only to a local test server on 127.0.0.1)"
                ));
            }
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(url.0 == "http")
                .with_virtual_hosted_style_request(false);
            description.push_str(&format!(" at {endpoint}"));
        }
        let store = builder.build().map_err(|err| format!("{err}"))?;
        let prefix = settings
            .prefix
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Path::parse(p.trim_matches('/')))
            .transpose()
            .map_err(|_| "prefix is not a valid object path".to_owned())?;
        Ok(Self {
            name,
            description,
            place: Place::Store(Arc::new(store)),
            prefix,
        })
    }

    fn key(&self, id: &BackupId, file: &str) -> Path {
        let relative = format!("{}/{file}", id.as_str());
        match &self.prefix {
            Some(prefix) => Path::parse(format!("{prefix}/{relative}")).unwrap_or(prefix.clone()),
            None => Path::from(relative),
        }
    }

    fn fail(&self, code: &'static str) -> impl Fn(object_store::Error) -> TargetFailure + '_ {
        move |err| {
            tracing::warn!(target_name = %self.name, error = %err, "backup target error");
            TargetFailure::from_store_error(code, &err)
        }
    }

    /// Uploads the encrypted file in parts; the object appears only when complete.
    pub async fn upload(&self, id: &BackupId, file: &FsPath) -> Result<u64, TargetFailure> {
        let mut input = tokio::fs::File::open(file)
            .await
            .map_err(|_| TargetFailure::local("work_file_unreadable"))?;
        let upload = self
            .store()?
            .put_multipart(&self.key(id, OBJECT))
            .await
            .map_err(self.fail("upload_failed"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buffer = vec![0u8; 1024 * 1024];
        let mut total = 0u64;
        let sent: Result<(), TargetFailure> = async {
            loop {
                let read = input
                    .read(&mut buffer)
                    .await
                    .map_err(|_| TargetFailure::local("work_file_unreadable"))?;
                if read == 0 {
                    return Ok(());
                }
                writer
                    .wait_for_capacity(4)
                    .await
                    .map_err(self.fail("upload_failed"))?;
                writer.write(&buffer[..read]);
                total += read as u64;
            }
        }
        .await;
        if let Err(failure) = sent {
            // No half-uploaded parts left behind (S3 keeps and bills them otherwise).
            if let Err(err) = writer.abort().await {
                tracing::warn!(target_name = %self.name, error = %err, "could not abort the upload");
            }
            return Err(failure);
        }
        writer.finish().await.map_err(self.fail("upload_failed"))?;
        Ok(total)
    }

    /// Downloads the object, hashing it; with `to`, also writes it there.
    pub async fn fetch(
        &self,
        id: &BackupId,
        to: Option<&FsPath>,
    ) -> Result<(String, u64), TargetFailure> {
        let result = self
            .store()?
            .get(&self.key(id, OBJECT))
            .await
            .map_err(self.fail("download_failed"))?;
        let mut stream = result.into_stream();
        let mut file = match to {
            Some(path) => Some(
                tokio::fs::File::create(path)
                    .await
                    .map_err(|_| TargetFailure::local("work_dir_unwritable"))?,
            ),
            None => None,
        };
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(self.fail("download_failed"))?
        {
            hasher.update(&chunk);
            total += chunk.len() as u64;
            if let Some(file) = file.as_mut() {
                file.write_all(&chunk)
                    .await
                    .map_err(|_| TargetFailure::local("work_dir_unwritable"))?;
            }
        }
        if let Some(file) = file.as_mut() {
            file.flush()
                .await
                .map_err(|_| TargetFailure::local("work_dir_unwritable"))?;
        }
        Ok((hex::encode(hasher.finalize()), total))
    }

    async fn put_json<T: serde::Serialize>(
        &self,
        id: &BackupId,
        file: &str,
        value: &T,
    ) -> Result<(), TargetFailure> {
        let body = serde_json::to_vec_pretty(value)
            .map_err(|_| TargetFailure::local("manifest_unwritable"))?;
        self.store()?
            .put(&self.key(id, file), PutPayload::from(body))
            .await
            .map_err(self.fail("manifest_upload_failed"))?;
        Ok(())
    }

    /// `Ok(None)` when absent; `Ok(Some(Err(())))` when present but unreadable.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        id: &BackupId,
        file: &str,
    ) -> Result<Option<Result<T, ()>>, TargetFailure> {
        match self.store()?.get(&self.key(id, file)).await {
            Ok(result) => {
                let bytes = result.bytes().await.map_err(self.fail("download_failed"))?;
                Ok(Some(serde_json::from_slice(&bytes).map_err(|_| ())))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(self.fail("download_failed")(err)),
        }
    }

    pub async fn put_manifest(&self, manifest: &Manifest) -> Result<(), TargetFailure> {
        self.put_json(&manifest.id, MANIFEST, manifest).await
    }

    /// The manifest of `id`: `None` when there is none (the backup never completed); a
    /// manifest that cannot be read or names another backup is a failure, not an absence.
    pub async fn manifest(&self, id: &BackupId) -> Result<Option<Manifest>, TargetFailure> {
        match self.get_json::<Manifest>(id, MANIFEST).await? {
            None => Ok(None),
            Some(Ok(manifest)) if manifest.id == *id => Ok(Some(manifest)),
            Some(_) => Err(TargetFailure::local("manifest_unreadable")),
        }
    }

    /// The newest check of `id`; an unreadable one counts as a failed check.
    async fn check(&self, id: &BackupId) -> Result<Option<Check>, TargetFailure> {
        Ok(match self.get_json::<Check>(id, CHECK).await? {
            None => None,
            Some(Ok(check)) => Some(check),
            Some(Err(())) => Some(Check {
                checked_at: id.created_at(),
                method: crate::manifest::CheckMethod::Hash,
                ok: false,
                error: Some("check_unreadable".into()),
            }),
        })
    }

    pub async fn put_check(&self, id: &BackupId, check: &Check) -> Result<(), TargetFailure> {
        self.put_json(id, CHECK, check).await
    }

    /// Every backup on the target, oldest first.
    pub async fn list(&self) -> Result<Listing, TargetFailure> {
        let metas: Vec<_> = self
            .store()?
            .list(self.prefix.as_ref())
            .try_collect()
            .await
            .map_err(self.fail("list_failed"))?;
        let mut objects = BTreeSet::new();
        let mut manifests = BTreeSet::new();
        for meta in metas {
            let mut parts: Vec<&str> = meta.location.as_ref().rsplitn(3, '/').collect();
            parts.truncate(2);
            let (Some(file), Some(dir)) = (parts.first(), parts.get(1)) else {
                continue;
            };
            let Ok(id) = BackupId::parse(dir) else {
                continue;
            };
            match *file {
                OBJECT => {
                    objects.insert(id);
                }
                MANIFEST => {
                    manifests.insert(id);
                }
                _ => {}
            }
        }
        let mut listing = Listing::default();
        for id in objects {
            if !manifests.contains(&id) {
                listing.incomplete.push(id);
                continue;
            }
            match self.manifest(&id).await {
                Ok(Some(manifest)) => {
                    let check = self.check(&id).await?;
                    listing.complete.push(Listed { manifest, check });
                }
                Ok(None) => listing.incomplete.push(id),
                // Unreadable: never listed as good, never deleted as unfinished.
                Err(failure) if failure.code == "manifest_unreadable" => listing.damaged.push(id),
                Err(failure) => return Err(failure),
            }
        }
        Ok(listing)
    }

    /// Deletes a backup: its manifest first, so that it is never seen half-deleted as
    /// complete.
    pub async fn delete(&self, id: &BackupId) -> Result<(), TargetFailure> {
        let store = self.store()?;
        for file in [MANIFEST, CHECK, OBJECT] {
            match store.delete(&self.key(id, file)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(self.fail("delete_failed")(err)),
            }
        }
        Ok(())
    }
}

/// The scheme of an endpoint and whether its host is the loopback interface. Parsed as a
/// URL (user info such as `http://127.0.0.1@host` is refused, not mistaken for the host).
fn url_host(endpoint: &str) -> Result<(String, bool), String> {
    let url = url::Url::parse(endpoint).map_err(|_| format!("endpoint {endpoint} is not a URL"))?;
    let scheme = url.scheme().to_owned();
    if scheme != "https" && scheme != "http" {
        return Err(format!("endpoint {endpoint} must be https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "endpoint {endpoint} must not carry user information: use access_key_id"
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(format!("endpoint {endpoint} names no host")),
    };
    Ok((scheme, loopback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_loopback() {
        assert_eq!(
            url_host("http://127.0.0.1:9000").unwrap(),
            ("http".into(), true)
        );
        assert_eq!(
            url_host("http://[::1]:9000").unwrap(),
            ("http".into(), true)
        );
        assert_eq!(
            url_host("https://s3.example.net").unwrap(),
            ("https".into(), false)
        );
        assert!(url_host("ftp://x").is_err());
        assert!(url_host("http://127.0.0.1:1@evil.example").is_err());
        assert_eq!(
            url_host("http://127.0.0.1.evil.example").unwrap(),
            ("http".into(), false)
        );
        let settings = S3Settings {
            bucket: "b".into(),
            endpoint: Some("http://s3.example.net".into()),
            region: "eu-central-1".into(),
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
            prefix: None,
        };
        let name = TargetName::parse("offsite").unwrap();
        assert!(Target::s3(name.clone(), &settings).is_err());
        let local = S3Settings {
            endpoint: Some("http://127.0.0.1:9".into()),
            ..settings
        };
        assert!(Target::s3(name, &local).is_ok());
    }
}
