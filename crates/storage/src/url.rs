//! Database URLs: only `sqlite://` and `postgres://` (or `postgresql://`) are accepted, so
//! that a typo never silently creates some other database. `Debug` and `Display` hide the
//! password.

use std::fmt;
use std::path::Path;

use crate::connect::Backend;

#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDatabaseUrl {
    #[error("unsupported database URL scheme '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedScheme(String),
    #[error("the database URL is not a URL (expected sqlite://PATH or postgres://USER@HOST/DB)")]
    NotAUrl,
    #[error("the sqlite URL names no file")]
    MissingPath,
    #[error("an in-memory SQLite database would lose every booking at restart: name a file")]
    InMemory,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, InvalidDatabaseUrl> {
        let raw = raw.trim();
        let (scheme, rest) = raw.split_once("://").ok_or(InvalidDatabaseUrl::NotAUrl)?;
        let backend = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            other => return Err(InvalidDatabaseUrl::UnsupportedScheme(other.to_owned())),
        };
        match backend {
            Backend::Sqlite if rest.split('?').next().is_none_or(str::is_empty) => {
                Err(InvalidDatabaseUrl::MissingPath)
            }
            Backend::Postgres => {
                url::Url::parse(raw).map_err(|_| InvalidDatabaseUrl::NotAUrl)?;
                Ok(Self {
                    raw: raw.to_owned(),
                    backend,
                })
            }
            Backend::Sqlite if rest.starts_with(":memory:") || rest.contains("mode=memory") => {
                Err(InvalidDatabaseUrl::InMemory)
            }
            Backend::Sqlite => Ok(Self {
                raw: raw.to_owned(),
                backend,
            }),
        }
    }

    /// The default embedded database: `sqlite://<data-dir>/termin.db`.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self {
            raw: format!("sqlite://{}", data_dir.join("termin.db").display()),
            backend: Backend::Sqlite,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For SQLite: the database file's path. `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self.raw.split_once("://").map_or("", |(_, rest)| rest);
        let path = rest.split('?').next().unwrap_or_default();
        Some(std::path::PathBuf::from(path))
    }

    /// For PostgreSQL on another machine: whether the server's certificate is verified
    /// (`sslmode=verify-full` or `verify-ca`). sqlx's default (`prefer`) encrypts when it can
    /// but verifies nothing. `true` for SQLite and for a server on this machine.
    pub fn transport_verified(&self) -> bool {
        let Ok(url) = url::Url::parse(&self.raw) else {
            return true;
        };
        if self.backend == Backend::Sqlite {
            return true;
        }
        // `postgres:` is not a "special" scheme, so the URL parser leaves hosts opaque:
        // addresses arrive as text.
        let local = match url.host() {
            None => true,
            Some(url::Host::Domain(d)) => {
                d == "localhost"
                    || d.trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        };
        local
            || url
                .query_pairs()
                .any(|(k, v)| k == "sslmode" && (v == "verify-full" || v == "verify-ca"))
    }

    /// The full URL including any password; only for connecting.
    pub(crate) fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with every password (in the user part or as a `password`/`sslpassword`
    /// query parameter) replaced by `***`, safe to print and log.
    pub fn redacted(&self) -> String {
        let Ok(mut url) = url::Url::parse(&self.raw) else {
            return self.raw.clone();
        };
        if url.password().is_some() {
            // set_password only fails for URLs that cannot have one, excluded above.
            let _ = url.set_password(Some("***"));
        }
        let secret_param =
            |k: &str| k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword");
        if url.query_pairs().any(|(k, _)| secret_param(&k)) {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if secret_param(&k) {
                        "***".to_owned()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_are_refused_by_name() {
        assert_eq!(
            DatabaseUrl::parse("mysql://root@localhost/termin"),
            Err(InvalidDatabaseUrl::UnsupportedScheme("mysql".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("termin.db"),
            Err(InvalidDatabaseUrl::NotAUrl)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://"),
            Err(InvalidDatabaseUrl::MissingPath)
        );
    }

    #[test]
    fn passwords_never_show() {
        let url = DatabaseUrl::parse("postgres://termin:s3cr3t@db.example/termin").unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        assert!(!format!("{url:?} {url}").contains("s3cr3t"));
        assert_eq!(url.redacted(), "postgres://termin:***@db.example/termin");
    }

    #[test]
    fn passwords_in_the_query_never_show_either() {
        let url = DatabaseUrl::parse(
            "postgres://termin@db.example/termin?sslmode=verify-full&password=s3cr3t&sslpassword=k3y",
        )
        .unwrap();
        let shown = url.redacted();
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("k3y"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=verify-full"), "{shown}");
    }

    #[test]
    fn a_remote_postgres_needs_certificate_verification_to_count_as_verified() {
        let verified = |raw: &str| DatabaseUrl::parse(raw).unwrap().transport_verified();
        assert!(verified("postgres://termin@127.0.0.1/termin"));
        assert!(verified("postgres://termin@localhost:5432/termin"));
        assert!(verified(
            "postgres://termin@db.example/termin?sslmode=verify-full"
        ));
        assert!(!verified("postgres://termin@db.example/termin"));
        assert!(!verified(
            "postgres://termin@db.example/termin?sslmode=require"
        ));
        assert!(verified("sqlite:///var/lib/termin/termin.db"));
    }

    #[test]
    fn in_memory_sqlite_is_refused() {
        for raw in ["sqlite://:memory:", "sqlite://x.db?mode=memory"] {
            assert_eq!(
                DatabaseUrl::parse(raw),
                Err(InvalidDatabaseUrl::InMemory),
                "{raw}"
            );
        }
    }

    #[test]
    fn sqlite_urls_are_kept_as_given() {
        let url = DatabaseUrl::parse("sqlite:///var/lib/termin/termin.db").unwrap();
        assert_eq!(url.backend(), Backend::Sqlite);
        assert_eq!(url.redacted(), "sqlite:///var/lib/termin/termin.db");
        assert_eq!(
            url.sqlite_path(),
            Some(std::path::PathBuf::from("/var/lib/termin/termin.db"))
        );
    }
}
