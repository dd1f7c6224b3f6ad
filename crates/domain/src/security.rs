//! A practice's account-security settings: which password policy its staff follow and which
//! roles must use a strong second factor (an authenticator app or a passkey) instead of SMS.

use std::collections::BTreeSet;

use crate::error::{DomainError, FieldErrors};
use crate::password::PasswordPolicy;
use crate::user::Role;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecuritySettings {
    pub password_policy: PasswordPolicy,
    /// Members with these roles sign in on new devices with TOTP or a passkey; SMS is not
    /// offered to them once they have one, and they must set one up before they can work
    /// in the practice.
    pub strong_factor_roles: BTreeSet<Role>,
}

impl SecuritySettings {
    /// Parses the settings as an admin submits them; every bad field is reported.
    pub fn parse(policy: &str, roles: &[String]) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let password_policy = PasswordPolicy::parse(policy);
        if password_policy.is_none() {
            errors.add("password_policy", "must be composition or length_only");
        }
        let mut strong_factor_roles = BTreeSet::new();
        for raw in roles {
            if let Some(role) = errors.take("strong_factor_roles", Role::parse(raw)) {
                strong_factor_roles.insert(role);
            }
        }
        errors.into_result()?;
        Ok(Self {
            password_policy: password_policy.unwrap_or_default(),
            strong_factor_roles,
        })
    }

    pub fn requires_strong_factor(&self, role: Role) -> bool {
        self.strong_factor_roles.contains(&role)
    }

    /// The roles as stored: role names separated by commas.
    pub fn roles_text(&self) -> String {
        self.strong_factor_roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form back; `None` when it holds something that is not a role.
    pub fn from_stored(policy: &str, roles: &str) -> Option<Self> {
        let strong_factor_roles = roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| Role::parse(r).ok())
            .collect::<Option<BTreeSet<_>>>()?;
        Some(Self {
            password_policy: PasswordPolicy::parse(policy)?,
            strong_factor_roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_their_stored_form() {
        let settings = SecuritySettings::parse(
            "length_only",
            &["owner".to_owned(), "administrator".to_owned()],
        )
        .unwrap();
        assert_eq!(settings.roles_text(), "owner,administrator");
        assert_eq!(
            SecuritySettings::from_stored("length_only", &settings.roles_text()),
            Some(settings.clone())
        );
        assert!(settings.requires_strong_factor(Role::Owner));
        assert!(!settings.requires_strong_factor(Role::Reception));
        assert_eq!(
            SecuritySettings::from_stored("composition", ""),
            Some(SecuritySettings::default())
        );
        assert_eq!(
            SecuritySettings::from_stored("composition", "owner,chef"),
            None
        );
    }

    #[test]
    fn every_bad_field_is_reported() {
        let Err(DomainError::Invalid(fields)) =
            SecuritySettings::parse("short", &["owner".to_owned(), "boss".to_owned()])
        else {
            panic!("expected field errors");
        };
        assert!(fields.get("password_policy").is_some());
        assert!(fields.get("strong_factor_roles").is_some());
    }
}
