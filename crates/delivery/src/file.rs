//! The `file` transport: one JSON object per line in `<data-dir>/outbox/email.jsonl` or
//! `sms.jsonl`, with `to`, `subject` (e-mail only), `body` and `created_at`. For development
//! and tests; Termin says at start-up that it does not really send.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use termin_app::delivery::{SendError, SendFuture, Transport};
use termin_domain::delivery::{Channel, Message};

#[derive(Debug, Clone)]
pub struct FileTransport {
    path: PathBuf,
}

impl FileTransport {
    /// The transport for `channel` writing below `data_dir/outbox/`.
    pub fn new(data_dir: &Path, channel: Channel) -> Self {
        let name = match channel {
            Channel::Email => "email.jsonl",
            Channel::Sms => "sms.jsonl",
        };
        Self {
            path: data_dir.join("outbox").join(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, line: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if let Some(dir) = self.path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        // One write of a whole line to a file opened for appending: lines from concurrent
        // writers never interleave.
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        file.write_all(line)?;
        file.sync_data()
    }
}

impl Transport for FileTransport {
    fn send<'a>(&'a self, message: &'a Message, created_at: Timestamp) -> SendFuture<'a> {
        Box::pin(async move {
            let mut record = serde_json::json!({
                "to": message.recipient(),
                "body": message.body(),
                "created_at": created_at.to_string(),
            });
            if message.channel() == Channel::Email {
                record["subject"] = serde_json::Value::from(message.subject().unwrap_or_default());
            }
            let mut line = record.to_string().into_bytes();
            line.push(b'\n');
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.append(&line))
                .await
                .map_err(|e| SendError::Temporary(e.to_string()))?
                .map_err(|e| {
                    SendError::Temporary(format!("cannot write the outbox file: {}", e.kind()))
                })
        })
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use termin_domain::user::{Email, PhoneNumber};

    #[tokio::test]
    async fn writes_contract_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let at: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let email = FileTransport::new(dir.path(), Channel::Email);
        let to = Email::parse("owner@praxis.example").unwrap();
        email
            .send(&Message::email(&to, "Ihr Code", "Code: 123456"), at)
            .await
            .unwrap();
        email
            .send(&Message::email(&to, "Zweite", "Zeile 2"), at)
            .await
            .unwrap();
        let sms = FileTransport::new(dir.path(), Channel::Sms);
        let phone = PhoneNumber::parse("+4915123456789").unwrap();
        sms.send(&Message::sms(&phone, "Code: 654321"), at)
            .await
            .unwrap();

        let emails = std::fs::read_to_string(dir.path().join("outbox/email.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = emails
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            serde_json::json!({"to": "owner@praxis.example", "subject": "Ihr Code",
                "body": "Code: 123456", "created_at": "2026-11-28T10:00:00Z"})
        );
        let sms_line: serde_json::Value = serde_json::from_str(
            std::fs::read_to_string(dir.path().join("outbox/sms.jsonl"))
                .unwrap()
                .trim(),
        )
        .unwrap();
        assert_eq!(
            sms_line,
            serde_json::json!({"to": "+4915123456789", "body": "Code: 654321", "created_at": "2026-11-28T10:00:00Z"})
        );
    }
}
