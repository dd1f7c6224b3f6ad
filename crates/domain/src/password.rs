//! Passwords and the password policy (seed promise S5).
//!
//! The default policy is exactly the seed's rule: at least 8 characters with a lower-case
//! letter, an upper-case letter, a digit and a special character. Beyond the seed, a password
//! may not contain the user's e-mail local part, name or the practice's name, and at most
//! 128 characters are accepted (never truncated). Every broken rule is reported at once.

use std::fmt;

/// A password as typed. Its `Debug` never shows the content, so it cannot end up in a log.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The secret itself, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// One broken rule; `code()` is the API's `violations` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    TooShort,
    TooLong,
    NoUppercase,
    NoLowercase,
    NoDigit,
    NoSpecial,
    ContainsPersonalData,
}

impl Violation {
    pub fn code(self) -> &'static str {
        match self {
            Violation::TooShort => "too_short",
            Violation::TooLong => "too_long",
            Violation::NoUppercase => "no_uppercase",
            Violation::NoLowercase => "no_lowercase",
            Violation::NoDigit => "no_digit",
            Violation::NoSpecial => "no_special",
            Violation::ContainsPersonalData => "contains_personal_data",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Violation::TooShort => "must have at least 8 characters",
            Violation::TooLong => "must have at most 128 characters",
            Violation::NoUppercase => "must contain an upper-case letter",
            Violation::NoLowercase => "must contain a lower-case letter",
            Violation::NoDigit => "must contain a digit",
            Violation::NoSpecial => "must contain a special character",
            Violation::ContainsPersonalData => {
                "must not contain your e-mail name, your name or the practice's name"
            }
        }
    }
}

/// Words a password must not contain (case-insensitive): e-mail local part, names.
#[derive(Debug, Default)]
pub struct PersonalData<'a> {
    pub words: Vec<&'a str>,
}

/// The seed's composition rule (S5).
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    pub max_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 8,
            max_chars: 128,
        }
    }
}

impl PasswordPolicy {
    /// Checks `password` and returns every rule it breaks, in a stable order.
    pub fn check(
        &self,
        password: &Password,
        personal: &PersonalData<'_>,
    ) -> Result<(), Vec<Violation>> {
        let pw = password.expose();
        let count = pw.chars().count();
        let mut violations = Vec::new();
        if count < self.min_chars {
            violations.push(Violation::TooShort);
        }
        if count > self.max_chars {
            violations.push(Violation::TooLong);
        }
        if !pw.chars().any(char::is_uppercase) {
            violations.push(Violation::NoUppercase);
        }
        if !pw.chars().any(char::is_lowercase) {
            violations.push(Violation::NoLowercase);
        }
        if !pw.chars().any(|c| c.is_ascii_digit()) {
            violations.push(Violation::NoDigit);
        }
        if !pw.chars().any(|c| !c.is_alphanumeric() && !c.is_control()) {
            violations.push(Violation::NoSpecial);
        }
        if contains_personal_data(pw, personal) {
            violations.push(Violation::ContainsPersonalData);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

fn contains_personal_data(password: &str, personal: &PersonalData<'_>) -> bool {
    let password = password.to_lowercase();
    personal
        .words
        .iter()
        .flat_map(|w| w.split(|c: char| !c.is_alphanumeric()))
        .map(str::to_lowercase)
        // Short fragments ("dr", "am") would forbid half the dictionary.
        .filter(|w| w.chars().count() >= 4)
        .any(|w| password.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str) -> Result<(), Vec<Violation>> {
        PasswordPolicy::default().check(&Password::new(pw), &PersonalData::default())
    }

    #[test]
    fn seed_rule_accepts_a_compliant_password() {
        assert_eq!(check("Kx7!vbnq"), Ok(()));
    }

    #[test]
    fn seven_characters_are_too_short_eight_are_enough() {
        assert_eq!(check("Kx7!vbn"), Err(vec![Violation::TooShort]));
        assert_eq!(check("Kx7!vbnq"), Ok(()));
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        assert_eq!(
            check("abc"),
            Err(vec![
                Violation::TooShort,
                Violation::NoUppercase,
                Violation::NoDigit,
                Violation::NoSpecial
            ])
        );
    }

    #[test]
    fn one_hundred_twenty_eight_characters_pass_one_more_fails() {
        let base = "Aa1!".repeat(32);
        assert_eq!(check(&base), Ok(()));
        assert_eq!(check(&format!("{base}x")), Err(vec![Violation::TooLong]));
    }

    #[test]
    fn personal_data_is_refused_case_insensitively() {
        let personal = PersonalData {
            words: vec!["mueller", "Praxis am See"],
        };
        let policy = PasswordPolicy::default();
        assert_eq!(
            policy.check(&Password::new("MUELLER!2026a"), &personal),
            Err(vec![Violation::ContainsPersonalData])
        );
        assert_eq!(
            policy.check(&Password::new("Praxis#2026a"), &personal),
            Err(vec![Violation::ContainsPersonalData])
        );
        assert_eq!(policy.check(&Password::new("Kx7!vbnq"), &personal), Ok(()));
    }

    #[test]
    fn debug_never_shows_the_password() {
        assert_eq!(
            format!("{:?}", Password::new("Geheim!123")),
            "Password(<redacted>)"
        );
    }
}
