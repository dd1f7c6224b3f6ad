//! Configuration: defaults < TOML file < `TERMIN_*` environment < command-line flags.
//!
//! [`RawConfig`] is what the sources say; [`Settings`] is the parsed, checked result the
//! rest of the program uses. Any invalid value stops start-up (exit code 2) with a message
//! naming the key and where it came from. Secrets (passwords inside the database URL) are
//! never printed: `Settings` only renders them redacted.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod backup;
mod delivery;
mod limits;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use termin_storage::DatabaseUrl;

pub use backup::{RawBackup, RawRetention, RawTarget};
pub use delivery::{EmailDelivery, RawSms, RawSmtp, SmsDelivery};
pub use limits::{RawLimits, RawLockout};

/// The configuration as the sources state it; every field has a default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub database_url: Option<String>,
    /// The address users reach Termin at (`https://praxis.example`), used in links.
    pub public_url: Option<String>,
    pub tls: RawTls,
    pub http: RawHttp,
    pub database: RawDatabase,
    pub log: RawLog,
    pub smtp: RawSmtp,
    pub sms: RawSms,
    pub limits: RawLimits,
    pub lockout: RawLockout,
    pub proxy: RawProxy,
    pub audit: RawAudit,
    pub backup: RawBackup,
}

/// `[audit]`: how long the audit log is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawAudit {
    /// Days an entry is kept; at least 365.
    pub retention_days: u32,
}

impl Default for RawAudit {
    fn default() -> Self {
        Self {
            retention_days: 365 * 2,
        }
    }
}

/// `[proxy]`: the operator's reverse proxies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawProxy {
    /// Networks (CIDR) of reverse proxies whose `X-Forwarded-For` is believed; from any
    /// other peer the header is ignored.
    pub trusted: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTls {
    /// PEM file with the full certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// How often the certificate files are checked for changes.
    pub reload_interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHttp {
    /// Optional plain-HTTP listener that only redirects to HTTPS, e.g. `0.0.0.0:80`.
    pub redirect_listen: Option<SocketAddr>,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawDatabase {
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLog {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,termin_web=debug`.
    pub level: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./termin-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            database_url: None,
            public_url: None,
            tls: RawTls::default(),
            http: RawHttp::default(),
            database: RawDatabase::default(),
            log: RawLog::default(),
            smtp: RawSmtp::default(),
            sms: RawSms::default(),
            limits: RawLimits::default(),
            lockout: RawLockout::default(),
            proxy: RawProxy::default(),
            audit: RawAudit::default(),
            backup: RawBackup::default(),
        }
    }
}

impl Default for RawTls {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            reload_interval_secs: 30,
        }
    }
}

impl Default for RawHttp {
    fn default() -> Self {
        Self {
            redirect_listen: None,
            shutdown_grace_secs: 20,
        }
    }
}

impl Default for RawDatabase {
    fn default() -> Self {
        Self {
            max_connections: 10,
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// Flags given on the command line; only those present override the other sources.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub tls: TlsOverrides,
    pub http: HttpOverrides,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_listen: Option<String>,
}

/// An invalid configuration: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// Sections of the configuration; `TERMIN_<SECTION>_<KEY>` addresses `<section>.<key>`.
const SECTIONS: [&str; 11] = [
    "tls", "http", "database", "log", "smtp", "sms", "limits", "lockout", "proxy", "audit",
    "backup",
];
/// Top-level keys that contain an underscore and must not be split into a section.
const TOP_LEVEL: [&str; 4] = ["data_dir", "listen", "database_url", "public_url"];
/// `TERMIN_*` variables that are not configuration keys.
const NOT_CONFIG: [&str; 2] = ["config", "test_"];

/// Maps an environment variable name (without `TERMIN_`, lower-cased) to a config key path,
/// or `None` for variables that are not configuration.
pub fn env_key(var: &str) -> Option<String> {
    let var = var.to_ascii_lowercase();
    if NOT_CONFIG
        .iter()
        .any(|p| var == *p || (p.ends_with('_') && var.starts_with(p)))
    {
        return None;
    }
    if TOP_LEVEL.contains(&var.as_str()) {
        return Some(var);
    }
    for section in SECTIONS {
        if let Some(rest) = var.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
            return Some(format!("{section}.{rest}"));
        }
    }
    Some(var)
}

fn environment() -> Env {
    Env::prefixed("TERMIN_")
        .filter(|k| env_key(k.as_str()).is_some())
        .map(|k| env_key(k.as_str()).unwrap_or_default().into())
        .lowercase(false)
}

/// Reads every source in order of precedence.
pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<RawConfig, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(file) = file {
        if !file.is_file() {
            return Err(ConfigError::new(
                "config",
                format!("the configuration file {} does not exist", file.display()),
            ));
        }
        figment = figment.merge(Toml::file_exact(file));
    }
    figment
        .merge(environment())
        .merge(Serialized::defaults(flags))
        .extract()
        .map_err(|err| {
            let key = if err.path.is_empty() {
                "config".to_owned()
            } else {
                err.path.join(".")
            };
            let source = err
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            ConfigError::new(&key, format!("{}{source}", err.kind))
        })
}

/// Where the TLS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Generated on first start in `<data-dir>/tls/` (localhost only).
    SelfSigned,
    /// The operator's certificate chain and key; reloaded when the files change.
    Files { cert: PathBuf, key: PathBuf },
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub database_url: DatabaseUrl,
    pub public_url: Option<url::Url>,
    pub tls: TlsSource,
    pub tls_reload_interval: Duration,
    pub redirect_listen: Option<SocketAddr>,
    pub shutdown_grace: Duration,
    pub db_max_connections: u32,
    pub log_format: LogFormat,
    pub log_level: String,
    pub email: EmailDelivery,
    pub sms: SmsDelivery,
    pub http_limits: termin_web::HttpLimits,
    pub connection_limits: crate::connections::ConnectionLimits,
    pub guard: termin_app::auth::GuardPolicy,
    pub trusted_proxies: Vec<termin_domain::network::Cidr>,
    pub audit_retention: jiff::SignedDuration,
    /// `None`: no backup target configured (the installation is unprotected).
    pub backup: Option<termin_backup::BackupSettings>,
    /// As configured, for `config check`.
    limits: RawLimits,
    lockout: RawLockout,
    raw_backup: RawBackup,
}

impl RawConfig {
    /// Checks every value and returns the settings, or the first invalid key.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let database_url = match &self.database_url {
            Some(url) => DatabaseUrl::parse(url)
                .map_err(|e| ConfigError::new("database_url", e.to_string()))?,
            None => DatabaseUrl::sqlite_in(&self.data_dir),
        };
        let public_url = self
            .public_url
            .as_deref()
            .map(|raw| {
                let url = url::Url::parse(raw)
                    .map_err(|e| ConfigError::new("public_url", format!("not a URL: {e}")))?;
                if url.scheme() != "https" || url.host().is_none() {
                    return Err(ConfigError::new(
                        "public_url",
                        "must be an https:// URL with a host",
                    ));
                }
                Ok(url)
            })
            .transpose()?;
        let tls = match (self.tls.cert, self.tls.key) {
            (None, None) => TlsSource::SelfSigned,
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "tls.key",
                    "is required when tls.cert is set",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "tls.cert",
                    "is required when tls.key is set",
                ));
            }
            (Some(cert), Some(key)) => {
                for (name, path) in [("tls.cert", &cert), ("tls.key", &key)] {
                    if !path.is_file() {
                        return Err(ConfigError::new(
                            name,
                            format!("{} is not a readable file", path.display()),
                        ));
                    }
                }
                // Load the pair once now, so a wrong file is a configuration error (exit 2)
                // that names the key, not a failure at the first handshake.
                if let Err(err) = crate::tls::load_certified_key(&cert, &key) {
                    let key_name = match err {
                        crate::tls::TlsError::NoKey { .. }
                        | crate::tls::TlsError::BadKey(_)
                        | crate::tls::TlsError::KeyMismatch => "tls.key",
                        _ => "tls.cert",
                    };
                    return Err(ConfigError::new(key_name, err.to_string()));
                }
                TlsSource::Files { cert, key }
            }
        };
        if self.tls.reload_interval_secs == 0 {
            return Err(ConfigError::new(
                "tls.reload_interval_secs",
                "must be at least 1",
            ));
        }
        if self
            .http
            .redirect_listen
            .is_some_and(|r| r == self.listen && r.port() != 0)
        {
            return Err(ConfigError::new(
                "http.redirect_listen",
                "must differ from listen",
            ));
        }
        if !(1..=1000).contains(&self.database.max_connections) {
            return Err(ConfigError::new(
                "database.max_connections",
                "must be between 1 and 1000",
            ));
        }
        if self.http.shutdown_grace_secs > 3600 {
            return Err(ConfigError::new(
                "http.shutdown_grace_secs",
                "must be at most 3600",
            ));
        }
        let email = self.smtp.validate()?;
        let sms = self.sms.validate()?;
        let (http_limits, connection_limits) = self.limits.validate()?;
        let guard = self.lockout.validate()?;
        if !(365..=36_500).contains(&self.audit.retention_days) {
            return Err(ConfigError::new(
                "audit.retention_days",
                "must be between 365 and 36500 (the audit log is kept at least a year)",
            ));
        }
        let audit_retention =
            jiff::SignedDuration::from_hours(i64::from(self.audit.retention_days) * 24);
        let trusted_proxies = self
            .proxy
            .trusted
            .iter()
            .map(|raw| {
                termin_domain::network::Cidr::parse(raw)
                    .map_err(|e| ConfigError::new("proxy.trusted", format!("{raw} {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let backup = self.backup.validate(&self.data_dir)?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError::new("log.level", format!("not a valid log filter: {e}")))?;
        Ok(Settings {
            data_dir: self.data_dir,
            listen: self.listen,
            database_url,
            public_url,
            tls,
            tls_reload_interval: Duration::from_secs(self.tls.reload_interval_secs),
            redirect_listen: self.http.redirect_listen,
            shutdown_grace: Duration::from_secs(self.http.shutdown_grace_secs),
            db_max_connections: self.database.max_connections,
            log_format: self.log.format,
            log_level: self.log.level,
            email,
            sms,
            http_limits,
            connection_limits,
            guard,
            trusted_proxies,
            audit_retention,
            backup,
            limits: self.limits,
            lockout: self.lockout,
            raw_backup: self.backup,
        })
    }
}

/// Renders `[backup]` with its nested tables.
#[derive(Serialize)]
struct BackupSection {
    backup: RawBackup,
}

impl Settings {
    /// The effective configuration as TOML, with secrets redacted (`termin config check`).
    pub fn render_redacted(&self) -> String {
        let (cert, key) = match &self.tls {
            TlsSource::SelfSigned => (
                "(self-signed, generated in data_dir/tls)".to_owned(),
                String::new(),
            ),
            TlsSource::Files { cert, key } => {
                (cert.display().to_string(), key.display().to_string())
            }
        };
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut out = String::new();
        out.push_str(&format!(
            "data_dir = {}\n",
            quote(&self.data_dir.display().to_string())
        ));
        out.push_str(&format!("listen = {}\n", quote(&self.listen.to_string())));
        out.push_str(&format!(
            "database_url = {}\n",
            quote(&self.database_url.redacted())
        ));
        if let Some(url) = &self.public_url {
            out.push_str(&format!("public_url = {}\n", quote(url.as_str())));
        }
        out.push_str(&format!("\n[tls]\ncert = {}\n", quote(&cert)));
        if !key.is_empty() {
            out.push_str(&format!("key = {}\n", quote(&key)));
        }
        out.push_str(&format!(
            "reload_interval_secs = {}\n",
            self.tls_reload_interval.as_secs()
        ));
        out.push_str("\n[http]\n");
        if let Some(r) = self.redirect_listen {
            out.push_str(&format!("redirect_listen = {}\n", quote(&r.to_string())));
        }
        out.push_str(&format!(
            "shutdown_grace_secs = {}\n",
            self.shutdown_grace.as_secs()
        ));
        out.push_str(&format!(
            "\n[database]\nmax_connections = {}\n",
            self.db_max_connections
        ));
        let format = match self.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        out.push_str(&self.render_delivery(&quote));
        out.push_str(&format!(
            "\n[log]\nformat = {}\nlevel = {}\n",
            quote(format),
            quote(&self.log_level)
        ));
        let proxies: Vec<String> = self
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        for (name, section) in [
            ("limits", toml::to_string(&self.limits)),
            ("lockout", toml::to_string(&self.lockout)),
            ("proxy", toml::to_string(&RawProxy { trusted: proxies })),
            (
                "audit",
                toml::to_string(&RawAudit {
                    retention_days: u32::try_from(self.audit_retention.as_hours() / 24)
                        .unwrap_or(u32::MAX),
                }),
            ),
        ] {
            out.push_str(&format!("\n[{name}]\n{}", section.unwrap_or_default()));
        }
        let backup = toml::to_string(&BackupSection {
            backup: self.raw_backup.redacted(),
        });
        out.push_str(&format!("\n{}", backup.unwrap_or_default()));
        out
    }

    /// Settings that work but that an operator should know are weak.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.database_url.transport_verified() {
            warnings.push(
                "the PostgreSQL server's certificate is not verified: add sslmode=verify-full to database_url"
                    .to_owned(),
            );
        }
        match &self.backup {
            None => warnings.push(
                "no backup target is configured: the installation is not protected (see docs/OPERATIONS.md)"
                    .to_owned(),
            ),
            Some(backup) if backup.targets.len() < 2 => warnings.push(
                "only one backup target is configured: two independent ones are needed for the status \"protected\""
                    .to_owned(),
            ),
            Some(_) => {}
        }
        if self.raw_backup.verify_identity.is_some() {
            warnings.push(
                "backup.verify_identity is set: this server can decrypt its own backups; keep the identity offline unless you accept that"
                    .to_owned(),
            );
        }
        warnings
    }

    /// The `[smtp]` and `[sms]` sections, secrets as `***`.
    fn render_delivery(&self, quote: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        match &self.email {
            EmailDelivery::File => out.push_str(
                "\n[smtp]\n# not configured: e-mail goes to data_dir/outbox/email.jsonl\n",
            ),
            EmailDelivery::Smtp(c) => {
                let security = match c.security {
                    termin_delivery::SmtpSecurity::Tls => "tls",
                    termin_delivery::SmtpSecurity::StartTls => "starttls",
                    termin_delivery::SmtpSecurity::None => "none",
                };
                out.push_str(&format!(
                    "\n[smtp]\nhost = {}\nport = {}\nsecurity = {}\nfrom = {}\n",
                    quote(&c.host),
                    c.port,
                    quote(security),
                    quote(&c.from)
                ));
                if let Some(user) = &c.username {
                    out.push_str(&format!("username = {}\npassword = \"***\"\n", quote(user)));
                }
            }
        }
        match &self.sms {
            SmsDelivery::File => {
                out.push_str("\n[sms]\n# not configured: SMS go to data_dir/outbox/sms.jsonl\n")
            }
            SmsDelivery::Http(c) => {
                let mut url = c.url.clone();
                url.set_query(None);
                let _ = url.set_password(None);
                out.push_str(&format!("\n[sms]\nurl = {}\n", quote(url.as_str())));
                if c.authorization.is_some() {
                    out.push_str("authorization = \"***\"\n");
                }
            }
        }
        out
    }

    /// The origin that links point to: the configured public URL, else the listen address
    /// (with `localhost` for loopback, matching the self-signed certificate).
    pub fn public_origin(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.origin().ascii_serialization();
        }
        let host = if self.listen.ip().is_loopback() || self.listen.ip().is_unspecified() {
            "localhost".to_owned()
        } else if self.listen.is_ipv6() {
            format!("[{}]", self.listen.ip())
        } else {
            self.listen.ip().to_string()
        };
        match self.listen.port() {
            443 => format!("https://{host}"),
            port => format!("https://{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_map_to_sections_and_top_level_keys() {
        assert_eq!(env_key("DATA_DIR").as_deref(), Some("data_dir"));
        assert_eq!(env_key("DATABASE_URL").as_deref(), Some("database_url"));
        assert_eq!(
            env_key("DATABASE_MAX_CONNECTIONS").as_deref(),
            Some("database.max_connections")
        );
        assert_eq!(env_key("TLS_CERT").as_deref(), Some("tls.cert"));
        assert_eq!(
            env_key("HTTP_REDIRECT_LISTEN").as_deref(),
            Some("http.redirect_listen")
        );
        assert_eq!(env_key("LOG_FORMAT").as_deref(), Some("log.format"));
        assert_eq!(env_key("CONFIG"), None);
        assert_eq!(env_key("TEST_POSTGRES_URL"), None);
    }

    #[test]
    fn defaults_are_https_on_loopback_with_embedded_sqlite() {
        let settings = RawConfig::default().validate().unwrap();
        assert_eq!(settings.listen, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(settings.tls, TlsSource::SelfSigned);
        assert_eq!(
            settings.database_url.redacted(),
            "sqlite://./termin-data/termin.db"
        );
        assert_eq!(settings.public_origin(), "https://localhost:8443");
        assert_eq!(settings.redirect_listen, None);
    }

    #[test]
    fn unknown_database_scheme_names_the_key() {
        let raw = RawConfig {
            database_url: Some("mysql://root@localhost/termin".into()),
            ..RawConfig::default()
        };
        let err = raw.validate().unwrap_err();
        assert_eq!(err.key, "database_url");
        assert!(
            err.message
                .contains("unsupported database URL scheme 'mysql'"),
            "{}",
            err.message
        );
    }

    #[test]
    fn half_a_tls_configuration_is_refused() {
        let mut raw = RawConfig::default();
        raw.tls.cert = Some("/etc/ssl/cert.pem".into());
        assert_eq!(raw.validate().unwrap_err().key, "tls.key");
    }

    #[test]
    fn public_url_must_be_https() {
        let raw = RawConfig {
            public_url: Some("http://praxis.example".into()),
            ..RawConfig::default()
        };
        assert_eq!(raw.validate().unwrap_err().key, "public_url");
    }

    #[test]
    fn redacted_rendering_hides_the_database_password() {
        let raw = RawConfig {
            database_url: Some("postgres://termin:s3cr3t@db.example/termin".into()),
            ..RawConfig::default()
        };
        let shown = raw.validate().unwrap().render_redacted();
        assert!(!shown.contains("s3cr3t"));
        assert!(shown.contains("postgres://termin:***@db.example/termin"));
        // The rendering is itself valid TOML.
        assert!(shown.parse::<toml::Table>().is_ok(), "{shown}");
    }

    #[test]
    fn toml_file_then_flags_take_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("termin.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9443\"\ndata_dir = \"/srv/termin\"\n",
        )
        .unwrap();
        let from_file = load(Some(&file), &FlagOverrides::default()).unwrap();
        assert_eq!(from_file.listen, "127.0.0.1:9443".parse().unwrap());
        let flags = FlagOverrides {
            listen: Some("127.0.0.1:7443".into()),
            ..FlagOverrides::default()
        };
        let with_flags = load(Some(&file), &flags).unwrap();
        assert_eq!(with_flags.listen, "127.0.0.1:7443".parse().unwrap());
        assert_eq!(with_flags.data_dir, PathBuf::from("/srv/termin"));
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("termin.toml");
        std::fs::write(&file, "[tls]\ncrt = \"/etc/ssl/cert.pem\"\n").unwrap();
        let err = load(Some(&file), &FlagOverrides::default()).unwrap_err();
        assert!(err.message.contains("crt"), "{err}");
    }

    #[test]
    fn a_bad_value_in_the_file_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("termin.toml");
        std::fs::write(&file, "listen = \"everywhere\"\n").unwrap();
        let err = load(Some(&file), &FlagOverrides::default()).unwrap_err();
        assert_eq!(err.key, "listen");
    }
}
