//! `[backup]`: encrypted backups to two or more independent targets (API-CONTRACT.md).
//! Nothing configured means no backups — which the status page and `/readyz` report as
//! unprotected; half a configuration (targets without recipients) is refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use termin_backup::{BackupSettings, Recipients, S3Settings, Target};
use termin_domain::backup::{DailyAt, Retention, TargetName, WeeklyAt};
use termin_domain::org::TimeZoneName;

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawBackup {
    /// The operator's age X25519 public keys (`age1…`). Never an identity.
    pub recipients: Vec<String>,
    /// Public keys (64 hex digits, from `termin backup key`) whose signed backups a restore
    /// accepts, besides the key of the database restored into.
    pub signing_keys: Vec<String>,
    /// Daily, `HH:MM` in `time_zone`.
    pub schedule: String,
    pub time_zone: String,
    /// The weekly check of each target's newest backup, e.g. `sun 04:00`.
    pub verify_schedule: String,
    /// An identity file the weekly check restores with. Leave unset: a server holding it can
    /// read its own backups. The restore drill (`termin backup verify --identity`) is the
    /// alternative.
    pub verify_identity: Option<PathBuf>,
    /// The operator's addresses for failure alerts (practice owners are told as well).
    pub alert_emails: Vec<String>,
    /// Waits before each further attempt of a failed target.
    pub retry_delays_secs: Vec<u64>,
    pub retention: RawRetention,
    pub targets: Vec<RawTarget>,
}

impl Default for RawBackup {
    fn default() -> Self {
        Self {
            recipients: Vec::new(),
            signing_keys: Vec::new(),
            schedule: "02:00".into(),
            time_zone: "Europe/Berlin".into(),
            verify_schedule: "sun 04:00".into(),
            verify_identity: None,
            alert_emails: Vec::new(),
            retry_delays_secs: vec![60, 300],
            retention: RawRetention::default(),
            targets: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRetention {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Default for RawRetention {
    fn default() -> Self {
        let r = Retention::default();
        Self {
            daily: r.daily(),
            weekly: r.weekly(),
            monthly: r.monthly(),
        }
    }
}

/// One `[[backup.targets]]` entry; which fields apply depends on `kind`. `Debug` hides the
/// secret key.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTarget {
    pub name: String,
    /// `directory` or `s3`.
    pub kind: String,
    pub path: Option<PathBuf>,
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub prefix: Option<String>,
}

impl std::fmt::Debug for RawTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTarget")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RawBackup {
    /// `None` when no target is configured.
    pub fn validate(&self, data_dir: &Path) -> Result<Option<BackupSettings>, ConfigError> {
        let schedule = DailyAt::parse(&self.schedule)
            .map_err(|_| ConfigError::new("backup.schedule", "must be a time of day, HH:MM"))?;
        let verify_schedule = WeeklyAt::parse(&self.verify_schedule).map_err(|_| {
            ConfigError::new(
                "backup.verify_schedule",
                "must be a weekday and a time, e.g. \"sun 04:00\"",
            )
        })?;
        let time_zone = TimeZoneName::parse(&self.time_zone)
            .map_err(|_| ConfigError::new("backup.time_zone", "is not a known time zone"))?;
        let retention = Retention::checked(
            self.retention.daily,
            self.retention.weekly,
            self.retention.monthly,
        )
        .map_err(|err| ConfigError::new("backup.retention", err.to_string()))?;
        if self.retry_delays_secs.len() > 10 || self.retry_delays_secs.iter().any(|s| *s > 3600) {
            return Err(ConfigError::new(
                "backup.retry_delays_secs",
                "at most 10 delays of at most 3600 seconds each",
            ));
        }
        for (i, address) in self.alert_emails.iter().enumerate() {
            termin_domain::user::Email::parse(address).map_err(|e| {
                ConfigError::new(&format!("backup.alert_emails[{i}]"), e.to_string())
            })?;
        }
        for (i, key) in self.signing_keys.iter().enumerate() {
            if !termin_backup::signing::is_public_key(key) {
                return Err(ConfigError::new(
                    &format!("backup.signing_keys[{i}]"),
                    "must be a public key as `termin backup key` prints it (64 hex digits)",
                ));
            }
        }
        if self.targets.is_empty() {
            return Ok(None);
        }
        let recipients = Recipients::parse(&self.recipients)
            .map_err(|message| ConfigError::new("backup.recipients", message))?;
        let mut targets: Vec<Target> = Vec::with_capacity(self.targets.len());
        for (i, raw) in self.targets.iter().enumerate() {
            let target = raw.validate(i)?;
            if targets.iter().any(|t| t.name == target.name) {
                return Err(ConfigError::new(
                    &format!("backup.targets[{i}].name"),
                    format!("{} is used twice", target.name),
                ));
            }
            targets.push(target);
        }
        Ok(Some(BackupSettings {
            recipients,
            targets,
            time_zone,
            schedule,
            verify_schedule,
            retention,
            retry_delays: self
                .retry_delays_secs
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            alert_emails: self.alert_emails.clone(),
            signing_keys: self.signing_keys.clone(),
            work_dir: data_dir.join("backup-work"),
            verify_identity: self.verify_identity.clone(),
        }))
    }

    /// For `termin config check`: the section with the secret keys as `***`.
    pub fn redacted(&self) -> Self {
        let mut copy = self.clone();
        for target in &mut copy.targets {
            if target.secret_access_key.is_some() {
                target.secret_access_key = Some("***".into());
            }
        }
        copy
    }
}

impl RawTarget {
    fn validate(&self, i: usize) -> Result<Target, ConfigError> {
        let key = |field: &str| format!("backup.targets[{i}].{field}");
        let name = TargetName::parse(&self.name).map_err(|_| {
            ConfigError::new(
                &key("name"),
                "1–40 characters of a–z, 0–9, - and _, starting with a letter or digit",
            )
        })?;
        let required = |value: &Option<String>, field: &str| {
            value
                .clone()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError::new(&key(field), "is required for kind = \"s3\""))
        };
        match self.kind.as_str() {
            "directory" => {
                let path = self.path.as_ref().ok_or_else(|| {
                    ConfigError::new(&key("path"), "is required for kind = \"directory\"")
                })?;
                if !path.is_absolute() {
                    return Err(ConfigError::new(&key("path"), "must be an absolute path"));
                }
                Target::directory(name, path).map_err(|m| ConfigError::new(&key("path"), m))
            }
            "s3" => {
                let settings = S3Settings {
                    bucket: required(&self.bucket, "bucket")?,
                    endpoint: self.endpoint.clone(),
                    region: self.region.clone().unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: required(&self.access_key_id, "access_key_id")?,
                    secret_access_key: required(&self.secret_access_key, "secret_access_key")?,
                    prefix: self.prefix.clone(),
                };
                Target::s3(name, &settings).map_err(|m| ConfigError::new(&key("endpoint"), m))
            }
            other => Err(ConfigError::new(
                &key("kind"),
                format!("{other:?} is not a target kind: use \"directory\" or \"s3\""),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_never_shows_in_debug_output() {
        let target = RawTarget {
            name: "offsite".into(),
            kind: "s3".into(),
            secret_access_key: Some("wJalrXUtnFEMI-secret".into()),
            ..RawTarget::default()
        };
        let shown = format!("{target:?}");
        assert!(!shown.contains("wJalrXUtnFEMI-secret"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn targets_without_recipients_are_refused_naming_the_key() {
        let raw = RawBackup {
            targets: vec![RawTarget {
                name: "local".into(),
                kind: "directory".into(),
                path: Some(std::env::temp_dir().join("termin-config-test-backups")),
                ..RawTarget::default()
            }],
            ..RawBackup::default()
        };
        let err = raw.validate(Path::new("/tmp")).unwrap_err();
        assert_eq!(err.key, "backup.recipients");
        let relative = RawBackup {
            recipients: vec![age::x25519::Identity::generate().to_public().to_string()],
            targets: vec![RawTarget {
                name: "local".into(),
                kind: "directory".into(),
                path: Some("backups".into()),
                ..RawTarget::default()
            }],
            ..RawBackup::default()
        };
        assert_eq!(
            relative.validate(Path::new("/tmp")).unwrap_err().key,
            "backup.targets[0].path"
        );
        let unknown_kind = RawBackup {
            targets: vec![RawTarget {
                name: "x".into(),
                kind: "ftp".into(),
                ..RawTarget::default()
            }],
            ..relative
        };
        assert_eq!(
            unknown_kind.validate(Path::new("/tmp")).unwrap_err().key,
            "backup.targets[0].kind"
        );
    }
}
