//! Visit types: what a patient comes for, how long it takes, who offers it, and the rules for
//! booking it (lead time, horizon, cancellation deadline).

use std::collections::BTreeSet;

use jiff::SignedDuration;
use serde::Deserialize;

use super::text;
use crate::error::{DomainError, FieldErrors};
use crate::ids::PractitionerId;

/// How a patient is insured; a visit type may be limited to some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Insurance {
    Statutory,
    Private,
    SelfPay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be statutory, private or self_pay")]
pub struct UnknownInsurance;

impl Insurance {
    pub const ALL: [Insurance; 3] = [Insurance::Statutory, Insurance::Private, Insurance::SelfPay];

    pub fn as_str(self) -> &'static str {
        match self {
            Insurance::Statutory => "statutory",
            Insurance::Private => "private",
            Insurance::SelfPay => "self_pay",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownInsurance> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str() == raw)
            .ok_or(UnknownInsurance)
    }
}

/// A visit type as sent by a client (the contract's fields and more).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RawVisitType {
    pub name: String,
    pub duration_minutes: Option<i64>,
    pub buffer_before_minutes: Option<i64>,
    pub buffer_after_minutes: Option<i64>,
    pub online_bookable: bool,
    pub new_patients: bool,
    pub returning_patients: bool,
    pub insurances: Vec<String>,
    pub practitioner_ids: Vec<String>,
    pub instructions: Option<String>,
    pub min_lead_minutes: Option<i64>,
    pub max_horizon_days: Option<i64>,
    pub cancel_deadline_hours: Option<i64>,
}

impl Default for RawVisitType {
    fn default() -> Self {
        Self {
            name: String::new(),
            duration_minutes: None,
            buffer_before_minutes: None,
            buffer_after_minutes: None,
            online_bookable: false,
            new_patients: true,
            returning_patients: true,
            insurances: Vec::new(),
            practitioner_ids: Vec::new(),
            instructions: None,
            min_lead_minutes: None,
            max_horizon_days: None,
            cancel_deadline_hours: None,
        }
    }
}

/// When a visit type may be booked and cancelled online.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// No booking starting sooner than this.
    pub min_lead_minutes: u32,
    /// No booking further ahead than this.
    pub max_horizon_days: u32,
    /// Patients cancel or move online until this long before the start.
    pub cancel_deadline_hours: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            min_lead_minutes: 60,
            max_horizon_days: 180,
            cancel_deadline_hours: 24,
        }
    }
}

impl BookingRules {
    pub fn min_lead(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.min_lead_minutes))
    }

    pub fn max_horizon(&self) -> SignedDuration {
        SignedDuration::from_hours(i64::from(self.max_horizon_days) * 24)
    }

    pub fn cancel_deadline(&self) -> SignedDuration {
        SignedDuration::from_hours(i64::from(self.cancel_deadline_hours))
    }
}

/// A valid visit type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitTypeDraft {
    pub name: String,
    pub duration_minutes: u32,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    pub online_bookable: bool,
    pub new_patients: bool,
    pub returning_patients: bool,
    /// Empty: every insurance.
    pub insurances: BTreeSet<Insurance>,
    pub practitioner_ids: BTreeSet<PractitionerId>,
    pub instructions: Option<String>,
    pub rules: BookingRules,
}

/// Reads an optional whole number in `range`, or `default` when absent.
fn number(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<i64>,
    range: std::ops::RangeInclusive<u32>,
    default: u32,
) -> u32 {
    match raw {
        None => default,
        Some(value) => match u32::try_from(value) {
            Ok(value) if range.contains(&value) => value,
            _ => {
                errors.add(
                    field,
                    format!("must be between {} and {}", range.start(), range.end()),
                );
                default
            }
        },
    }
}

impl VisitTypeDraft {
    pub fn parse(raw: &RawVisitType) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let name = text::required(&mut errors, "name", &raw.name, 120);
        let duration_minutes = match raw.duration_minutes {
            None => {
                errors.add("duration_minutes", "is required");
                0
            }
            some => number(&mut errors, "duration_minutes", some, 5..=480, 0),
        };
        let buffer_before_minutes = number(
            &mut errors,
            "buffer_before_minutes",
            raw.buffer_before_minutes,
            0..=120,
            0,
        );
        let buffer_after_minutes = number(
            &mut errors,
            "buffer_after_minutes",
            raw.buffer_after_minutes,
            0..=120,
            0,
        );
        if !raw.new_patients && !raw.returning_patients {
            errors.add(
                "returning_patients",
                "a visit type is open to new patients, returning patients or both",
            );
        }
        let mut insurances = BTreeSet::new();
        for (i, value) in raw.insurances.iter().enumerate() {
            if let Some(insurance) =
                errors.take(&format!("insurances[{i}]"), Insurance::parse(value))
            {
                insurances.insert(insurance);
            }
        }
        let mut practitioner_ids = BTreeSet::new();
        for (i, value) in raw.practitioner_ids.iter().enumerate() {
            match value.parse::<PractitionerId>() {
                Ok(id) => {
                    practitioner_ids.insert(id);
                }
                Err(_) => errors.add(
                    &format!("practitioner_ids[{i}]"),
                    "is not a practitioner id",
                ),
            }
        }
        let instructions = text::optional_multiline(
            &mut errors,
            "instructions",
            raw.instructions.as_deref(),
            2000,
        );
        let defaults = BookingRules::default();
        let rules = BookingRules {
            min_lead_minutes: number(
                &mut errors,
                "min_lead_minutes",
                raw.min_lead_minutes,
                0..=60 * 24 * 30,
                defaults.min_lead_minutes,
            ),
            max_horizon_days: number(
                &mut errors,
                "max_horizon_days",
                raw.max_horizon_days,
                1..=730,
                defaults.max_horizon_days,
            ),
            cancel_deadline_hours: number(
                &mut errors,
                "cancel_deadline_hours",
                raw.cancel_deadline_hours,
                0..=24 * 30,
                defaults.cancel_deadline_hours,
            ),
        };
        errors.into_result()?;
        Ok(Self {
            name,
            duration_minutes,
            buffer_before_minutes,
            buffer_after_minutes,
            online_bookable: raw.online_bookable,
            new_patients: raw.new_patients,
            returning_patients: raw.returning_patients,
            insurances,
            practitioner_ids,
            instructions,
            rules,
        })
    }

    pub fn duration(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.duration_minutes))
    }

    pub fn buffer_before(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.buffer_before_minutes))
    }

    pub fn buffer_after(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.buffer_after_minutes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(duration: i64) -> RawVisitType {
        RawVisitType {
            name: "Erstgespräch".into(),
            duration_minutes: Some(duration),
            ..RawVisitType::default()
        }
    }

    fn field_errors(raw: &RawVisitType) -> FieldErrors {
        match VisitTypeDraft::parse(raw) {
            Err(DomainError::Invalid(errors)) => errors,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn duration_is_5_to_480_minutes() {
        assert!(VisitTypeDraft::parse(&raw(5)).is_ok());
        assert!(VisitTypeDraft::parse(&raw(480)).is_ok());
        assert!(field_errors(&raw(4)).get("duration_minutes").is_some());
        assert!(field_errors(&raw(481)).get("duration_minutes").is_some());
        let missing = RawVisitType {
            duration_minutes: None,
            ..raw(5)
        };
        assert!(field_errors(&missing).get("duration_minutes").is_some());
    }

    #[test]
    fn defaults_for_the_booking_rules() {
        let draft = VisitTypeDraft::parse(&raw(15)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(draft.rules, BookingRules::default());
        assert_eq!(draft.duration(), SignedDuration::from_mins(15));
        assert!(draft.new_patients && draft.returning_patients);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = RawVisitType {
            name: String::new(),
            duration_minutes: Some(10),
            buffer_after_minutes: Some(-1),
            new_patients: false,
            returning_patients: false,
            insurances: vec!["statutory".into(), "gold".into()],
            practitioner_ids: vec!["nope".into()],
            max_horizon_days: Some(0),
            ..RawVisitType::default()
        };
        let errors = field_errors(&bad);
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "buffer_after_minutes",
                "insurances[1]",
                "max_horizon_days",
                "name",
                "practitioner_ids[0]",
                "returning_patients"
            ]
        );
    }
}
