//! SMS through an HTTP gateway: a POST to a configured URL with the number and text as a
//! form or JSON body, and an optional `Authorization` header. Presets for common
//! providers fill these in (see README).

use std::time::Duration;

use jiff::Timestamp;
use termin_app::delivery::{SendError, SendFuture, Transport};
use termin_domain::delivery::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsBodyFormat {
    Form,
    Json,
}

#[derive(Clone)]
pub struct SmsHttpConfig {
    pub url: url::Url,
    /// The whole `Authorization` header value, e.g. `Basic …` or `Bearer …`.
    pub authorization: Option<String>,
    pub format: SmsBodyFormat,
    /// Field names for the recipient (E.164) and the text.
    pub to_field: String,
    pub text_field: String,
    /// Optional sender field and value (a number or an alphanumeric sender id).
    pub from: Option<(String, String)>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmsHttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsHttpConfig")
            .field("url", &self.url.as_str())
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct SmsHttpTransport {
    client: reqwest::Client,
    config: SmsHttpConfig,
}

impl std::fmt::Debug for SmsHttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl SmsHttpTransport {
    pub fn new(config: SmsHttpConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, config })
    }
}

impl Transport for SmsHttpTransport {
    fn send<'a>(&'a self, message: &'a Message, _created_at: Timestamp) -> SendFuture<'a> {
        Box::pin(async move {
            let c = &self.config;
            let mut fields = vec![
                (c.to_field.as_str(), message.recipient()),
                (c.text_field.as_str(), message.body()),
            ];
            if let Some((field, value)) = &c.from {
                fields.push((field.as_str(), value.as_str()));
            }
            let mut request = self.client.post(c.url.clone());
            if let Some(auth) = &c.authorization {
                request = request.header(reqwest::header::AUTHORIZATION, auth);
            }
            request = match c.format {
                SmsBodyFormat::Form => request.form(&fields),
                SmsBodyFormat::Json => {
                    let body: serde_json::Map<String, serde_json::Value> = fields
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                        .collect();
                    request.json(&body)
                }
            };
            let response = request.send().await.map_err(|e| {
                SendError::Temporary(format!("SMS gateway unreachable: {}", kind_of(&e)))
            })?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                Err(SendError::Temporary(format!(
                    "SMS gateway answered HTTP {}",
                    status.as_u16()
                )))
            } else {
                Err(SendError::Permanent(format!(
                    "SMS gateway answered HTTP {}",
                    status.as_u16()
                )))
            }
        })
    }

    fn describe(&self) -> String {
        let url = &self.config.url;
        format!(
            "SMS gateway {}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        )
    }
}

/// The error's kind only: reqwest errors carry the URL, which may hold credentials.
fn kind_of(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}
