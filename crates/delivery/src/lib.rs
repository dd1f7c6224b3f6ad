//! Transports that carry the outbox's messages out of Termin: SMTP for e-mail, an HTTP
//! gateway for SMS, and the development `file` transport of API-CONTRACT.md. Each
//! implements [`termin_app::delivery::Transport`]; the outbox decides what and when.

mod file;
mod sms_http;
mod smtp;

pub use file::FileTransport;
pub use sms_http::{SmsBodyFormat, SmsHttpConfig, SmsHttpTransport};
pub use smtp::{SmtpConfig, SmtpConfigError, SmtpSecurity, SmtpTransport};
