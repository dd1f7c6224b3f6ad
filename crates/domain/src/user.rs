//! User accounts: e-mail address, mobile number, role and status.

use std::fmt;

/// An e-mail address, trimmed; compared case-insensitively through [`Email::normalized`].
///
/// Deliberately conservative: one `@`, a dotted domain, no spaces or control characters,
/// at most 254 characters (RFC 5321's path limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid e-mail address")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let email = raw.trim();
        let (local, domain) = email.split_once('@').ok_or(InvalidEmail)?;
        let local_ok = !local.is_empty() && local.len() <= 64;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let chars_ok = !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if local_ok && domain_ok && chars_ok && !local.contains('@') && email.len() <= 254 {
            Ok(Self(email.to_owned()))
        } else {
            Err(InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and look-up: lower case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part before the `@`, used by the password policy's personal-data rule.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(&self.0, |(local, _)| local)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form: `+`, a country code not starting with 0, 8–15 digits in
/// all. Spaces, dashes, dots and parentheses typed by people are removed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a phone number in international form, e.g. +49 151 23456789")]
pub struct InvalidPhoneNumber;

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or(InvalidPhoneNumber)?;
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(compact))
        } else {
            Err(InvalidPhoneNumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Built-in roles, as named in the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Administrator,
    Practitioner,
    Assistant,
    Reception,
    ReadOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a role (owner, administrator, practitioner, assistant, reception, read_only)")]
pub struct UnknownRole;

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Administrator,
        Role::Practitioner,
        Role::Assistant,
        Role::Reception,
        Role::ReadOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Administrator => "administrator",
            Role::Practitioner => "practitioner",
            Role::Assistant => "assistant",
            Role::Reception => "reception",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownRole> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or(UnknownRole)
    }

    /// Whether this role manages the practice's users (invites, changes roles).
    pub fn manages_users(self) -> bool {
        matches!(self, Role::Owner | Role::Administrator)
    }

    /// Whether a user with this role may give `other` to someone: nobody grants more than
    /// they hold, so only owners make owners.
    pub fn may_grant(self, other: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Administrator => other != Role::Owner,
            _ => false,
        }
    }
}

/// Where an account stands. A new account is `VerificationPending` until both its e-mail
/// address and its mobile number are verified (seed promise S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    VerificationPending,
    Active,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown user status")]
pub struct UnknownUserStatus;

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::VerificationPending => "verification_pending",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownUserStatus> {
        match raw {
            "verification_pending" => Ok(UserStatus::VerificationPending),
            "active" => Ok(UserStatus::Active),
            "disabled" => Ok(UserStatus::Disabled),
            _ => Err(UnknownUserStatus),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_normalized_for_lookup() {
        let email = Email::parse("  Dr.Mueller@Praxis.Example ").unwrap();
        assert_eq!(email.as_str(), "Dr.Mueller@Praxis.Example");
        assert_eq!(email.normalized(), "dr.mueller@praxis.example");
        assert_eq!(email.local_part(), "Dr.Mueller");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "a",
            "a@b",
            "@b.de",
            "a@.de",
            "a@b.de.",
            "a b@c.de",
            "a@b@c.de",
            "a@b..de",
            "a\u{0}b@c.de",
            "a\nb@c.de",
            "<a@b.de>",
            "a@b_c.de",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn phone_numbers_are_stored_as_e164() {
        assert_eq!(
            PhoneNumber::parse("+49 (151) 234-567 89").unwrap().as_str(),
            "+4915123456789"
        );
        for bad in [
            "015123456789",
            "+0151234567",
            "+49",
            "+49151abc4567",
            "+1234567890123456",
        ] {
            assert_eq!(PhoneNumber::parse(bad), Err(InvalidPhoneNumber), "{bad:?}");
        }
    }

    #[test]
    fn roles_round_trip_by_contract_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("root"), Err(UnknownRole));
    }

    #[test]
    fn only_owners_make_owners_and_only_managers_grant_at_all() {
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(Role::Administrator.may_grant(Role::Administrator));
        assert!(!Role::Administrator.may_grant(Role::Owner));
        for role in [
            Role::Practitioner,
            Role::Assistant,
            Role::Reception,
            Role::ReadOnly,
        ] {
            assert!(!role.manages_users());
            assert!(Role::ALL.iter().all(|other| !role.may_grant(*other)));
        }
    }

    proptest! {
        #[test]
        fn parsed_phone_numbers_are_canonical(digits in "[1-9][0-9]{7,14}") {
            let phone = PhoneNumber::parse(&format!("+{digits}")).unwrap();
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone.clone());
            prop_assert!(phone.as_str().len() <= 16);
        }

        #[test]
        fn email_parse_never_panics(raw in "\\PC{0,300}") {
            let _ = Email::parse(&raw);
        }
    }
}
