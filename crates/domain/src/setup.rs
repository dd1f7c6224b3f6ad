//! First run: creating a practice and its owner account.
//!
//! When no practice exists, `serve` prints a one-time set-up link. Its token is valid for
//! one hour and used once; the rules for that live here, the storage makes "once" hold
//! across instances.

use jiff::{SignedDuration, Timestamp};

use crate::DomainError;
use crate::error::FieldErrors;
use crate::org::{OrgName, TimeZoneName};
use crate::password::{Password, PasswordPolicy, PersonalData};
use crate::user::{Email, PhoneNumber};

/// How long a set-up link stays valid.
pub const SETUP_TOKEN_VALIDITY: SignedDuration = SignedDuration::from_hours(1);

pub fn setup_token_expiry(created_at: Timestamp) -> Timestamp {
    created_at
        .checked_add(SETUP_TOKEN_VALIDITY)
        .unwrap_or(Timestamp::MAX)
}

/// A practice and owner to create, with every field already valid.
#[derive(Debug, Clone)]
pub struct NewPractice {
    pub org_name: OrgName,
    pub time_zone: TimeZoneName,
    pub owner_email: Email,
    pub owner_phone: PhoneNumber,
    pub password: Password,
}

/// The raw fields of a set-up request, as a form or JSON delivers them.
#[derive(Debug, Default)]
pub struct NewPracticeInput<'a> {
    pub org_name: &'a str,
    pub time_zone: Option<&'a str>,
    pub owner_email: &'a str,
    pub owner_phone: &'a str,
    pub password: &'a str,
}

impl NewPractice {
    /// Parses every field and reports all problems at once: field errors first, then the
    /// password policy (which needs the e-mail and practice name to judge personal data).
    pub fn parse(
        input: NewPracticeInput<'_>,
        policy: &PasswordPolicy,
    ) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let org_name = errors.take("org_name", OrgName::parse(input.org_name));
        let time_zone = match input.time_zone.filter(|tz| !tz.trim().is_empty()) {
            Some(tz) => errors.take("time_zone", TimeZoneName::parse(tz)),
            None => Some(TimeZoneName::default_zone()),
        };
        let owner_email = errors.take("owner_email", Email::parse(input.owner_email));
        let owner_phone = errors.take("owner_phone", PhoneNumber::parse(input.owner_phone));
        let password = Password::new(input.password);

        let mut personal = PersonalData::default();
        if let Some(email) = &owner_email {
            personal.words.push(email.local_part());
        }
        if let Some(name) = &org_name {
            personal.words.push(name.as_str());
        }
        let violations = policy.check(&password, &personal).err().unwrap_or_default();

        match (org_name, time_zone, owner_email, owner_phone) {
            (Some(org_name), Some(time_zone), Some(owner_email), Some(owner_phone))
                if violations.is_empty() =>
            {
                Ok(Self {
                    org_name,
                    time_zone,
                    owner_email,
                    owner_phone,
                    password,
                })
            }
            _ if errors.is_empty() => Err(DomainError::PasswordPolicy { violations }),
            _ => {
                for v in violations {
                    errors.add("password", v.describe());
                }
                Err(DomainError::Invalid(errors))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::Violation;

    fn input<'a>(password: &'a str) -> NewPracticeInput<'a> {
        NewPracticeInput {
            org_name: "Praxis am See",
            time_zone: None,
            owner_email: "owner@praxis.example",
            owner_phone: "+49 151 23456789",
            password,
        }
    }

    #[test]
    fn valid_input_defaults_to_berlin() {
        let p = NewPractice::parse(input("Kx7!vbnq"), &PasswordPolicy::default()).unwrap();
        assert_eq!(p.time_zone.as_str(), "Europe/Berlin");
        assert_eq!(p.owner_phone.as_str(), "+4915123456789");
    }

    #[test]
    fn password_mentioning_the_practice_breaks_the_policy() {
        let err = NewPractice::parse(input("Praxis!2026"), &PasswordPolicy::default()).unwrap_err();
        match err {
            DomainError::PasswordPolicy { violations } => {
                assert_eq!(violations, vec![Violation::ContainsPersonalData]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn all_field_errors_are_reported_together() {
        let err = NewPractice::parse(
            NewPracticeInput {
                org_name: "",
                time_zone: Some("Mars/Olympus"),
                owner_email: "nope",
                owner_phone: "0151",
                password: "short",
            },
            &PasswordPolicy::default(),
        )
        .unwrap_err();
        let DomainError::Invalid(fields) = err else {
            panic!("expected field errors");
        };
        let names: Vec<_> = fields.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "org_name",
                "owner_email",
                "owner_phone",
                "password",
                "time_zone"
            ]
        );
    }

    #[test]
    fn token_expires_after_exactly_one_hour() {
        let t: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        assert_eq!(
            setup_token_expiry(t),
            "2026-11-28T11:00:00Z".parse().unwrap()
        );
    }
}
