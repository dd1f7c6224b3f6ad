//! Outgoing messages (e-mail and SMS) and the rules of their delivery: what counts as a
//! message, and how long to wait before trying a failed one again.

use std::fmt;

use jiff::SignedDuration;

use crate::user::{Email, PhoneNumber};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// A message to be delivered. Built only through [`Message::email`] and [`Message::sms`],
/// so the recipient always fits the channel.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    channel: Channel,
    recipient: String,
    subject: Option<String>,
    body: String,
}

impl Message {
    pub fn email(to: &Email, subject: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            channel: Channel::Email,
            recipient: to.as_str().to_owned(),
            subject: Some(subject.into()),
            body: body.into(),
        }
    }

    pub fn sms(to: &PhoneNumber, body: impl Into<String>) -> Self {
        Self {
            channel: Channel::Sms,
            recipient: to.as_str().to_owned(),
            subject: None,
            body: body.into(),
        }
    }

    /// Rebuilds a stored message; the storage layer checked the channel.
    pub fn from_parts(
        channel: Channel,
        recipient: String,
        subject: Option<String>,
        body: String,
    ) -> Self {
        Self {
            channel,
            recipient,
            subject,
            body,
        }
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The text, which may hold a one-time code or link: never log it.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// How often a message is tried before it is given up as failed (about a day of tries).
pub const MAX_ATTEMPTS: u32 = 16;

/// The wait before attempt `attempts + 1`, after `attempts` failures: 15 s, 30 s, 1 min, …
/// doubling, at most two hours. (The worker adds jitter so instances do not align.)
pub fn retry_delay(attempts: u32) -> SignedDuration {
    let base = 15i64.saturating_mul(1i64 << attempts.min(20).saturating_sub(1));
    SignedDuration::from_secs(base.min(2 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_two_hours() {
        let secs: Vec<i64> = (1..=11).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(
            secs,
            [15, 30, 60, 120, 240, 480, 960, 1920, 3840, 7200, 7200]
        );
        assert_eq!(retry_delay(u32::MAX).as_secs(), 7200);
    }

    #[test]
    fn total_patience_is_about_a_day() {
        let total: i64 = (1..MAX_ATTEMPTS).map(|n| retry_delay(n).as_secs()).sum();
        assert!((12 * 3600..=36 * 3600).contains(&total), "{total}");
    }

    #[test]
    fn debug_never_shows_recipient_or_body() {
        let to = PhoneNumber::parse("+4915123456789").unwrap();
        let shown = format!("{:?}", Message::sms(&to, "Ihr Code: 123456"));
        assert!(
            !shown.contains("123456") && !shown.contains("+49"),
            "{shown}"
        );
    }
}
