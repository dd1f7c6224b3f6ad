//! When patients are reminded of their appointments. Defaults (issue 7): e-mail 7 days and
//! 1 day before, SMS 2 days before — 1 day when the appointment was booked less than 7 days
//! ahead. A practice may change the days. "N days before" is N × 24 hours before the start,
//! and a reminder whose time has passed when the appointment is booked is not sent.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::delivery::Channel;
use crate::error::{DomainError, FieldErrors};

/// A practice's reminder rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPolicy {
    /// Days before the start an e-mail goes out (each 1–30; empty: no e-mail reminders).
    pub email_days: Vec<u32>,
    /// Days before the start the SMS goes out (0: no SMS reminder).
    pub sms_days: u32,
    /// The SMS days instead, for appointments booked less than 7 days ahead.
    pub sms_short_notice_days: u32,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        Self {
            email_days: vec![7, 1],
            sms_days: 2,
            sms_short_notice_days: 1,
        }
    }
}

/// Booked less than this ahead: the short-notice SMS rule applies.
const SHORT_NOTICE: SignedDuration = SignedDuration::from_hours(7 * 24);

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(n) * 24)
}

impl ReminderPolicy {
    /// Checks a policy sent by a client, field by field.
    pub fn checked(self) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        if self.email_days.len() > 3 {
            errors.add("email_days", "at most three e-mail reminders");
        }
        if self.email_days.iter().any(|d| !(1..=30).contains(d)) {
            errors.add("email_days", "each must be between 1 and 30 days");
        }
        if self.sms_days > 14 {
            errors.add("sms_days", "must be between 0 and 14 days");
        }
        if self.sms_short_notice_days > 6 {
            errors.add("sms_short_notice_days", "must be between 0 and 6 days");
        }
        errors.into_result()?;
        let mut policy = self;
        policy.email_days.sort_unstable_by(|a, b| b.cmp(a));
        policy.email_days.dedup();
        Ok(policy)
    }

    /// The reminders of an appointment starting at `start`, booked at `booked_at`: which
    /// channel when, only those still ahead, earliest first.
    pub fn due_times(&self, booked_at: Timestamp, start: Timestamp) -> Vec<(Channel, Timestamp)> {
        let mut due: Vec<(Channel, Timestamp)> = self
            .email_days
            .iter()
            .map(|d| (Channel::Email, start - days(*d)))
            .collect();
        let sms = if start.duration_since(booked_at) < SHORT_NOTICE {
            self.sms_short_notice_days
        } else {
            self.sms_days
        };
        if sms > 0 {
            due.push((Channel::Sms, start - days(sms)));
        }
        due.retain(|(_, at)| *at > booked_at);
        due.sort_by_key(|(channel, at)| (*at, channel.as_str()));
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn defaults_for_an_appointment_booked_well_ahead() {
        let due = ReminderPolicy::default()
            .due_times(at("2026-03-01T10:00:00Z"), at("2026-03-30T07:00:00Z"));
        assert_eq!(
            due,
            [
                (Channel::Email, at("2026-03-23T07:00:00Z")),
                (Channel::Sms, at("2026-03-28T07:00:00Z")),
                (Channel::Email, at("2026-03-29T07:00:00Z")),
            ]
        );
    }

    #[test]
    fn short_notice_gets_the_sms_a_day_before_and_nothing_already_past() {
        // Booked 6 days 23 hours ahead: short notice; the 7-day e-mail is already past.
        let due = ReminderPolicy::default()
            .due_times(at("2026-03-23T08:00:00Z"), at("2026-03-30T07:00:00Z"));
        assert_eq!(
            due,
            [
                (Channel::Email, at("2026-03-29T07:00:00Z")),
                (Channel::Sms, at("2026-03-29T07:00:00Z")),
            ]
        );
        // Exactly 7 days ahead is not short notice.
        let due = ReminderPolicy::default()
            .due_times(at("2026-03-23T07:00:00Z"), at("2026-03-30T07:00:00Z"));
        assert!(due.contains(&(Channel::Sms, at("2026-03-28T07:00:00Z"))));
        // Booked for in two hours: nothing left to remind of.
        let due = ReminderPolicy::default()
            .due_times(at("2026-03-30T05:00:00Z"), at("2026-03-30T07:00:00Z"));
        assert!(due.is_empty());
    }

    #[test]
    fn a_practice_may_change_the_days_within_bounds() {
        let policy = ReminderPolicy {
            email_days: vec![1, 3, 3],
            sms_days: 0,
            sms_short_notice_days: 0,
        }
        .checked()
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(policy.email_days, [3, 1]);
        assert!(
            policy
                .due_times(at("2026-03-01T00:00:00Z"), at("2026-03-30T07:00:00Z"))
                .iter()
                .all(|(c, _)| *c == Channel::Email)
        );
        let bad = ReminderPolicy {
            email_days: vec![0, 31],
            sms_days: 15,
            sms_short_notice_days: 7,
        }
        .checked();
        let Err(DomainError::Invalid(fields)) = bad else {
            panic!("field errors expected");
        };
        let names: Vec<&str> = fields.iter().map(|(f, _)| f).collect();
        assert_eq!(names, ["email_days", "sms_days", "sms_short_notice_days"]);
    }
}
