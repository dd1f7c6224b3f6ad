//! Passwords and the password policy (seed promise S5).
//!
//! The default policy is exactly the seed's rule: at least 8 characters with a lower-case
//! letter, an upper-case letter, a digit and a special character. A practice may instead
//! choose NIST SP 800-63B's length-only rule (at least 15 characters, no composition
//! rules). Beyond the seed, both refuse passwords from a bundled list of 150,000 common and
//! breached passwords, passwords containing the user's e-mail name, name or the practice's
//! name, and more than 128 characters (never truncated). Passwords are compared and hashed
//! in Unicode NFKC form, so the same password typed on different systems matches. Every
//! broken rule is reported at once.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// A password as typed. Its `Debug` never shows the content, so it cannot end up in a log.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The secret as typed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret in NFKC form: what the policy judges and what is hashed.
    pub fn normalized(&self) -> String {
        self.0.nfkc().collect()
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
    CommonPassword,
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
            Violation::CommonPassword => "common_password",
            Violation::ContainsPersonalData => "contains_personal_data",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Violation::TooShort => "is too short",
            Violation::TooLong => "must have at most 128 characters",
            Violation::NoUppercase => "must contain an upper-case letter",
            Violation::NoLowercase => "must contain a lower-case letter",
            Violation::NoDigit => "must contain a digit",
            Violation::NoSpecial => "must contain a special character",
            Violation::CommonPassword => "is a commonly used or leaked password",
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

/// Which rule set a practice uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswordPolicy {
    /// The seed's rule: ≥ 8 characters, upper, lower, digit, special (the default).
    #[default]
    Composition,
    /// NIST SP 800-63B: ≥ 15 characters, no composition rules.
    LengthOnly,
}

/// Most characters accepted; longer passwords are refused, never cut.
pub const MAX_CHARS: usize = 128;

impl PasswordPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordPolicy::Composition => "composition",
            PasswordPolicy::LengthOnly => "length_only",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "composition" => Some(PasswordPolicy::Composition),
            "length_only" => Some(PasswordPolicy::LengthOnly),
            _ => None,
        }
    }

    pub fn min_chars(self) -> usize {
        match self {
            PasswordPolicy::Composition => 8,
            PasswordPolicy::LengthOnly => 15,
        }
    }

    /// Checks `password` against every policy that applies to the user (one per practice
    /// they belong to): every rule any of them breaks, each once, in a stable order.
    pub fn check_all(
        policies: &[PasswordPolicy],
        password: &Password,
        personal: &PersonalData<'_>,
    ) -> Result<(), Vec<Violation>> {
        let mut all: Vec<Violation> = Vec::new();
        for policy in policies {
            if let Err(violations) = policy.check(password, personal) {
                for v in violations {
                    if !all.contains(&v) {
                        all.push(v);
                    }
                }
            }
        }
        if all.is_empty() { Ok(()) } else { Err(all) }
    }

    /// Checks `password` and returns every rule it breaks, in a stable order.
    pub fn check(
        &self,
        password: &Password,
        personal: &PersonalData<'_>,
    ) -> Result<(), Vec<Violation>> {
        let pw = password.normalized();
        let count = pw.chars().count();
        let mut violations = Vec::new();
        if count < self.min_chars() {
            violations.push(Violation::TooShort);
        }
        if count > MAX_CHARS {
            violations.push(Violation::TooLong);
        }
        if *self == PasswordPolicy::Composition {
            if !pw.chars().any(char::is_uppercase) {
                violations.push(Violation::NoUppercase);
            }
            if !pw.chars().any(char::is_lowercase) {
                violations.push(Violation::NoLowercase);
            }
            if !pw.chars().any(|c| c.is_ascii_digit()) {
                violations.push(Violation::NoDigit);
            }
            if !pw
                .chars()
                .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
            {
                violations.push(Violation::NoSpecial);
            }
        }
        if is_common(&pw) {
            violations.push(Violation::CommonPassword);
        }
        if contains_personal_data(&pw, personal) {
            violations.push(Violation::ContainsPersonalData);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

const COMMON: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().collect())
}

/// Whether the (normalised) password is on the bundled list, ignoring letter case.
fn is_common(normalized: &str) -> bool {
    common_passwords().contains(normalized.to_lowercase().as_str())
}

/// How many passwords the bundled list holds.
pub fn common_password_count() -> usize {
    common_passwords().len()
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
    use proptest::prelude::*;

    fn check(pw: &str) -> Result<(), Vec<Violation>> {
        PasswordPolicy::Composition.check(&Password::new(pw), &PersonalData::default())
    }

    fn check_length_only(pw: &str) -> Result<(), Vec<Violation>> {
        PasswordPolicy::LengthOnly.check(&Password::new(pw), &PersonalData::default())
    }

    #[test]
    fn a_user_in_several_practices_meets_every_policy_at_once() {
        use PasswordPolicy::{Composition, LengthOnly};
        let none = PersonalData::default();
        let check_all = |policies: &[PasswordPolicy], pw: &str| {
            PasswordPolicy::check_all(policies, &Password::new(pw), &none)
        };
        // A long passphrase without composition passes length-only alone...
        assert_eq!(check_all(&[LengthOnly], "wolken ueber dem see"), Ok(()));
        // ...but not beside a practice on the seed's rule.
        assert_eq!(
            check_all(&[LengthOnly, Composition], "wolken ueber dem see"),
            Err(vec![
                Violation::NoUppercase,
                Violation::NoDigit,
                Violation::NoSpecial
            ])
        );
        // A short composed password breaks only the length of the length-only policy.
        assert_eq!(
            check_all(&[Composition, LengthOnly], "Kx7!mPq2"),
            Err(vec![Violation::TooShort])
        );
        // Rules broken under both are listed once.
        assert_eq!(
            check_all(&[Composition, LengthOnly], "abc"),
            check_all(&[Composition], "abc")
        );
        assert_eq!(check_all(&[], "anything"), Ok(()));
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
    fn each_composition_rule_is_enforced_on_its_own() {
        assert_eq!(check("kx7!vbnq"), Err(vec![Violation::NoUppercase]));
        assert_eq!(check("KX7!VBNQ"), Err(vec![Violation::NoLowercase]));
        assert_eq!(check("Kxy!vbnq"), Err(vec![Violation::NoDigit]));
        assert_eq!(check("Kx7yvbnq"), Err(vec![Violation::NoSpecial]));
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
    fn common_and_breached_passwords_are_refused_in_any_letter_case() {
        assert!(
            common_password_count() >= 100_000,
            "{}",
            common_password_count()
        );
        assert_eq!(
            check_length_only("AllYouNeedIsLove"),
            Err(vec![Violation::CommonPassword])
        );
        assert_eq!(check("Password1!"), Err(vec![Violation::CommonPassword]));
        assert_eq!(
            check("PASSWORD1"),
            Err(vec![
                Violation::NoLowercase,
                Violation::NoSpecial,
                Violation::CommonPassword
            ])
        );
        assert_eq!(
            check("Qwertyuiop1"),
            Err(vec![Violation::NoSpecial, Violation::CommonPassword])
        );
    }

    #[test]
    fn length_only_needs_fifteen_characters_and_nothing_else() {
        assert_eq!(
            check_length_only("correcthorsebat"),
            Ok(()),
            "15 lower-case letters"
        );
        assert_eq!(
            check_length_only("correcthorseba"),
            Err(vec![Violation::TooShort])
        );
        assert_eq!(
            check_length_only(&"ä".repeat(129)),
            Err(vec![Violation::TooLong])
        );
    }

    #[test]
    fn passwords_are_judged_and_hashed_in_nfkc_form() {
        // "Å" as one code point and as A + combining ring: the same password.
        let composed = Password::new("K\u{00C5}7!vbnq");
        let decomposed = Password::new("KA\u{030A}7!vbnq");
        assert_eq!(composed.normalized(), decomposed.normalized());
        // Full-width letters and digits fold to ASCII.
        assert_eq!(Password::new("ＡＢ１").normalized(), "AB1");
        // Normalising first: 8 visible characters count as 8, not 9.
        assert_eq!(
            PasswordPolicy::Composition.check(&decomposed, &PersonalData::default()),
            Ok(())
        );
    }

    #[test]
    fn personal_data_is_refused_case_insensitively() {
        let personal = PersonalData {
            words: vec!["mueller", "Praxis am See"],
        };
        let policy = PasswordPolicy::Composition;
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

    #[test]
    fn policies_round_trip_by_name() {
        for p in [PasswordPolicy::Composition, PasswordPolicy::LengthOnly] {
            assert_eq!(PasswordPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(PasswordPolicy::default(), PasswordPolicy::Composition);
    }

    proptest! {
        /// A password built from one of each class plus filler passes exactly when it has
        /// 8–128 characters (and is not on the list, which such random strings never are).
        #[test]
        fn composed_passwords_pass_exactly_within_the_length_bounds(
            filler in "[a-z]{0,130}", upper in "[A-Z]", digit in "[0-9]", special in "[!#%&*+?@^~-]"
        ) {
            let pw = format!("{upper}{digit}{special}x{filler}");
            let len = pw.chars().count();
            let result = check(&pw);
            if (8..=128).contains(&len) && !is_common(&pw) {
                prop_assert_eq!(result, Ok(()));
            } else if len < 8 {
                prop_assert!(result.unwrap_err().contains(&Violation::TooShort));
            } else if len > 128 {
                prop_assert!(result.unwrap_err().contains(&Violation::TooLong));
            }
        }

        /// Removing a class from a valid password yields exactly that class's violation.
        #[test]
        fn a_missing_class_is_reported_as_exactly_that(filler in "[a-z]{5,20}") {
            let no_upper = format!("7!{filler}");
            prop_assert!(check(&no_upper).unwrap_err().contains(&Violation::NoUppercase));
            let no_digit = format!("Q!{filler}");
            prop_assert!(check(&no_digit).unwrap_err().contains(&Violation::NoDigit));
            let no_special = format!("Q7{filler}");
            prop_assert!(check(&no_special).unwrap_err().contains(&Violation::NoSpecial));
        }

        #[test]
        fn the_check_never_panics(raw in "\\PC{0,200}") {
            let _ = check(&raw);
            let _ = check_length_only(&raw);
        }
    }
}
