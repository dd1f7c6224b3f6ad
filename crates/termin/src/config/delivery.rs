//! Configuration of e-mail (SMTP) and SMS (HTTP gateway) delivery. Without `[smtp]` or
//! `[sms]` settings the development `file` transport is used, and `serve` says so.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use termin_delivery::{SmsBodyFormat, SmsHttpConfig, SmtpConfig, SmtpSecurity};

use super::ConfigError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `starttls` (default, port 587), `tls` (port 465) or `none` (a relay on this machine).
    pub security: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Sender, e.g. `Praxis am See <termin@praxis.example>`.
    pub from: Option<String>,
    /// Extra CA certificate (PEM) for a relay with a private certificate.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSms {
    /// `twilio` fills in URL, fields and authorization from `account_sid` and `auth_token`.
    pub preset: Option<String>,
    pub url: Option<String>,
    /// The whole `Authorization` header value.
    pub authorization: Option<String>,
    /// `form` (default) or `json`.
    pub format: Option<String>,
    pub to_field: Option<String>,
    pub text_field: Option<String>,
    pub from_field: Option<String>,
    /// Sender number or alphanumeric id.
    pub from: Option<String>,
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
}

/// How e-mail leaves Termin.
#[derive(Debug, Clone)]
pub enum EmailDelivery {
    File,
    Smtp(Box<SmtpConfig>),
}

/// How SMS leave Termin.
#[derive(Debug, Clone)]
pub enum SmsDelivery {
    File,
    Http(Box<SmsHttpConfig>),
}

const SEND_TIMEOUT: Duration = Duration::from_secs(30);

impl RawSmtp {
    pub fn validate(&self) -> Result<EmailDelivery, ConfigError> {
        let Some(host) = self.host.clone() else {
            return Ok(EmailDelivery::File);
        };
        let security = match self.security.as_deref().unwrap_or("starttls") {
            "starttls" => SmtpSecurity::StartTls,
            "tls" => SmtpSecurity::Tls,
            "none" => SmtpSecurity::None,
            _ => {
                return Err(ConfigError::new(
                    "smtp.security",
                    "must be starttls, tls or none",
                ));
            }
        };
        let port = self.port.unwrap_or(match security {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::None => 25,
        });
        let from = self
            .from
            .clone()
            .ok_or_else(|| ConfigError::new("smtp.from", "is required when smtp.host is set"))?;
        if self.username.is_some() != self.password.is_some() {
            return Err(ConfigError::new(
                "smtp.password",
                "smtp.username and smtp.password go together",
            ));
        }
        let ca_pem = self
            .ca_file
            .as_ref()
            .map(|p| {
                std::fs::read(p).map_err(|e| {
                    ConfigError::new("smtp.ca_file", format!("cannot read {}: {e}", p.display()))
                })
            })
            .transpose()?;
        let config = SmtpConfig {
            host,
            port,
            security,
            username: self.username.clone(),
            password: self.password.clone(),
            from,
            ca_pem,
            timeout: SEND_TIMEOUT,
        };
        // Check the sender and the TLS set-up now, not at the first send.
        config.check().map_err(|e| {
            let key = match e {
                termin_delivery::SmtpConfigError::From => "smtp.from",
                termin_delivery::SmtpConfigError::PlainToRemote => "smtp.security",
                _ => "smtp.ca_file",
            };
            ConfigError::new(key, e.to_string())
        })?;
        Ok(EmailDelivery::Smtp(Box::new(config)))
    }
}

impl RawSms {
    pub fn validate(&self) -> Result<SmsDelivery, ConfigError> {
        match self.preset.as_deref() {
            None if self.url.is_none() => Ok(SmsDelivery::File),
            None => self.generic(),
            Some("twilio") => self.twilio(),
            Some(_) => Err(ConfigError::new(
                "sms.preset",
                "unknown preset (known: twilio)",
            )),
        }
    }

    fn generic(&self) -> Result<SmsDelivery, ConfigError> {
        let raw_url = self.url.as_deref().unwrap_or_default();
        let url: url::Url = raw_url
            .parse()
            .map_err(|_| ConfigError::new("sms.url", "is not a URL"))?;
        let loopback = url
            .host_str()
            .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(ConfigError::new(
                "sms.url",
                "must be https:// (plain http only to this machine)",
            ));
        }
        let format = match self.format.as_deref().unwrap_or("form") {
            "form" => SmsBodyFormat::Form,
            "json" => SmsBodyFormat::Json,
            _ => return Err(ConfigError::new("sms.format", "must be form or json")),
        };
        let from = match (&self.from_field, &self.from) {
            (Some(field), Some(value)) => Some((field.clone(), value.clone())),
            (None, None) => None,
            _ => {
                return Err(ConfigError::new(
                    "sms.from",
                    "sms.from_field and sms.from go together",
                ));
            }
        };
        Ok(SmsDelivery::Http(Box::new(SmsHttpConfig {
            url,
            authorization: self.authorization.clone(),
            format,
            to_field: self.to_field.clone().unwrap_or_else(|| "to".into()),
            text_field: self.text_field.clone().unwrap_or_else(|| "text".into()),
            from,
            timeout: SEND_TIMEOUT,
        })))
    }

    /// Twilio's Messages API: form fields To, Body, From; HTTP Basic with SID and token.
    fn twilio(&self) -> Result<SmsDelivery, ConfigError> {
        let sid = self
            .account_sid
            .as_deref()
            .filter(|s| s.starts_with("AC") && s.chars().all(|c| c.is_ascii_alphanumeric()))
            .ok_or_else(|| {
                ConfigError::new("sms.account_sid", "a Twilio account SID (AC…) is required")
            })?;
        let token = self.auth_token.as_deref().ok_or_else(|| {
            ConfigError::new("sms.auth_token", "is required for the twilio preset")
        })?;
        let from = self
            .from
            .clone()
            .ok_or_else(|| ConfigError::new("sms.from", "the sending number or id is required"))?;
        let url = format!("https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json");
        Ok(SmsDelivery::Http(Box::new(SmsHttpConfig {
            url: url
                .parse()
                .map_err(|_| ConfigError::new("sms.account_sid", "is not usable in a URL"))?,
            authorization: Some(format!(
                "Basic {}",
                base64_encode(&format!("{sid}:{token}"))
            )),
            format: SmsBodyFormat::Form,
            to_field: "To".into(),
            text_field: "Body".into(),
            from: Some(("From".into(), from)),
            timeout: SEND_TIMEOUT,
        })))
    }
}

/// Standard base64 (RFC 4648) for HTTP Basic credentials.
fn base64_encode(input: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_means_file_transports() {
        assert!(matches!(
            RawSmtp::default().validate(),
            Ok(EmailDelivery::File)
        ));
        assert!(matches!(
            RawSms::default().validate(),
            Ok(SmsDelivery::File)
        ));
    }

    #[test]
    fn smtp_defaults_to_starttls_on_587_and_needs_a_sender() {
        let raw = RawSmtp {
            host: Some("smtp.example.net".into()),
            ..RawSmtp::default()
        };
        assert_eq!(raw.validate().unwrap_err().key, "smtp.from");
        let raw = RawSmtp {
            from: Some("Praxis <termin@praxis.example>".into()),
            ..raw
        };
        let EmailDelivery::Smtp(cfg) = raw.validate().unwrap() else {
            panic!("smtp")
        };
        assert_eq!((cfg.port, cfg.security), (587, SmtpSecurity::StartTls));
    }

    #[test]
    fn plain_smtp_to_a_remote_host_is_a_configuration_error() {
        let raw = RawSmtp {
            host: Some("smtp.example.net".into()),
            security: Some("none".into()),
            from: Some("termin@praxis.example".into()),
            ..RawSmtp::default()
        };
        assert_eq!(raw.validate().unwrap_err().key, "smtp.security");
    }

    #[test]
    fn the_twilio_preset_fills_in_the_messages_api() {
        let raw = RawSms {
            preset: Some("twilio".into()),
            account_sid: Some("AC0123456789abcdef".into()),
            auth_token: Some("secret".into()),
            from: Some("+4930123456".into()),
            ..RawSms::default()
        };
        let SmsDelivery::Http(cfg) = raw.validate().unwrap() else {
            panic!("http")
        };
        assert_eq!(
            cfg.url.as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
        );
        assert_eq!(
            cfg.authorization.as_deref(),
            Some("Basic QUMwMTIzNDU2Nzg5YWJjZGVmOnNlY3JldA==")
        );
        assert_eq!(
            (cfg.to_field.as_str(), cfg.text_field.as_str()),
            ("To", "Body")
        );
        assert_eq!(cfg.from, Some(("From".into(), "+4930123456".into())));
    }

    #[test]
    fn a_gateway_must_be_https_unless_local() {
        let raw = RawSms {
            url: Some("http://sms.example.net/send".into()),
            ..RawSms::default()
        };
        assert_eq!(raw.validate().unwrap_err().key, "sms.url");
        let local = RawSms {
            url: Some("http://127.0.0.1:9000/send".into()),
            ..RawSms::default()
        };
        assert!(matches!(local.validate(), Ok(SmsDelivery::Http(_))));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain), encoded);
        }
    }
}
