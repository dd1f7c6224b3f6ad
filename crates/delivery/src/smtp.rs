//! E-mail over SMTP with lettre: implicit TLS (port 465) or STARTTLS (587), optional
//! authentication. Plain SMTP is allowed only to a loopback relay (a local MTA).

use std::time::Duration;

use jiff::Timestamp;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use termin_app::delivery::{SendError, SendFuture, Transport};
use termin_domain::delivery::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    StartTls,
    /// No encryption: only for a relay on this machine.
    None,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `Praxis am See <termin@praxis.example>`
    pub from: String,
    /// Extra trusted CA (PEM) for a relay with a private certificate.
    pub ca_pem: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    #[error("`from` is not a valid mailbox (e.g. \"Praxis <termin@praxis.example>\")")]
    From,
    #[error("plain SMTP without TLS is only allowed to a relay on this machine")]
    PlainToRemote,
    #[error("the CA certificate is not valid PEM")]
    Ca,
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

#[derive(Clone)]
pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    summary: String,
}

impl std::fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpConfig {
    /// Checks what can be checked without connecting: the sender, the CA certificate and
    /// that plain SMTP goes only to this machine. Needs no async runtime.
    pub fn check(&self) -> Result<Mailbox, SmtpConfigError> {
        let from: Mailbox = self.from.parse().map_err(|_| SmtpConfigError::From)?;
        if self.security == SmtpSecurity::None && !is_loopback(&self.host) {
            return Err(SmtpConfigError::PlainToRemote);
        }
        if let Some(pem) = &self.ca_pem {
            Certificate::from_pem(pem).map_err(|_| SmtpConfigError::Ca)?;
        }
        Ok(from)
    }
}

impl SmtpTransport {
    /// Builds the transport (its connection pool needs a running Tokio runtime).
    pub fn new(config: &SmtpConfig) -> Result<Self, SmtpConfigError> {
        let from = config.check()?;
        let tls_parameters = || {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(pem) = &config.ca_pem {
                builder = builder.add_root_certificate(
                    Certificate::from_pem(pem).map_err(|_| SmtpConfigError::Ca)?,
                );
            }
            builder
                .build()
                .map_err(|e| SmtpConfigError::Tls(e.to_string()))
        };
        let tls = match config.security {
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
            SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
                .port(config.port)
                .tls(tls)
                .timeout(Some(config.timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let security = match config.security {
            SmtpSecurity::Tls => "TLS",
            SmtpSecurity::StartTls => "STARTTLS",
            SmtpSecurity::None => "plain, local relay",
        };
        Ok(Self {
            mailer: builder.build(),
            from,
            summary: format!("SMTP {}:{} ({security})", config.host, config.port),
        })
    }
}

/// Reduces an SMTP error to its class and code: server texts can quote the recipient.
fn classify(err: &lettre::transport::smtp::Error) -> SendError {
    let code = err.status().map(|c| c.to_string());
    let what = code.map_or_else(
        || "connection or protocol error".to_owned(),
        |c| format!("reply {c}"),
    );
    if err.is_permanent() {
        SendError::Permanent(format!("SMTP {what}"))
    } else {
        SendError::Temporary(format!("SMTP {what}"))
    }
}

impl Transport for SmtpTransport {
    fn send<'a>(&'a self, message: &'a Message, _created_at: Timestamp) -> SendFuture<'a> {
        Box::pin(async move {
            let to: Mailbox = message
                .recipient()
                .parse()
                .map_err(|_| SendError::Permanent("invalid recipient address".into()))?;
            let email = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(message.subject().unwrap_or_default())
                .header(ContentType::TEXT_PLAIN)
                .body(message.body().to_owned())
                .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))?;
            self.mailer
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| classify(&e))
        })
    }

    fn describe(&self) -> String {
        self.summary.clone()
    }
}
