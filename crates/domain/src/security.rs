//! A practice's account-security settings: which password policy its staff follow and which
//! roles must use a strong second factor (an authenticator app or a passkey) instead of SMS.

use std::collections::BTreeSet;

use crate::error::{DomainError, FieldErrors};
use crate::password::PasswordPolicy;
use crate::session::SessionLimits;
use crate::user::Role;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecuritySettings {
    pub password_policy: PasswordPolicy,
    /// Members with these roles sign in on new devices with TOTP or a passkey; SMS is not
    /// offered to them once they have one, and they must set one up before they can work
    /// in the practice.
    pub strong_factor_roles: BTreeSet<Role>,
    /// How long the members' sessions live.
    pub sessions: SessionLimits,
}

impl SecuritySettings {
    /// Parses the settings as an admin submits them; every bad field is reported.
    pub fn parse(
        policy: &str,
        roles: &[String],
        session_idle_minutes: Option<i64>,
        session_max_hours: Option<i64>,
    ) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let defaults = SessionLimits::default();
        let sessions = match SessionLimits::parse(
            session_idle_minutes.unwrap_or(defaults.idle_minutes()),
            session_max_hours.unwrap_or(defaults.absolute_hours()),
        ) {
            Ok(limits) => limits,
            Err(DomainError::Invalid(fields)) => {
                for (field, messages) in fields.iter() {
                    for message in messages {
                        errors.add(field, message.clone());
                    }
                }
                defaults
            }
            Err(other) => return Err(other),
        };
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
            sessions,
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
    pub fn from_stored(
        policy: &str,
        roles: &str,
        session_idle_minutes: i64,
        session_max_hours: i64,
    ) -> Option<Self> {
        let strong_factor_roles = roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| Role::parse(r).ok())
            .collect::<Option<BTreeSet<_>>>()?;
        Some(Self {
            password_policy: PasswordPolicy::parse(policy)?,
            strong_factor_roles,
            sessions: SessionLimits::from_stored(session_idle_minutes, session_max_hours)?,
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
            Some(15),
            None,
        )
        .unwrap();
        assert_eq!(settings.roles_text(), "owner,administrator");
        assert_eq!(settings.sessions.idle_minutes(), 15);
        assert_eq!(settings.sessions.absolute_hours(), 12);
        assert_eq!(
            SecuritySettings::from_stored("length_only", &settings.roles_text(), 15, 12),
            Some(settings.clone())
        );
        assert!(settings.requires_strong_factor(Role::Owner));
        assert!(!settings.requires_strong_factor(Role::Reception));
        assert_eq!(
            SecuritySettings::from_stored("composition", "", 30, 12),
            Some(SecuritySettings::default())
        );
        assert_eq!(
            SecuritySettings::from_stored("composition", "owner,chef", 30, 12),
            None
        );
    }

    #[test]
    fn every_bad_field_is_reported() {
        let Err(DomainError::Invalid(fields)) = SecuritySettings::parse(
            "short",
            &["owner".to_owned(), "boss".to_owned()],
            Some(1),
            Some(48),
        ) else {
            panic!("expected field errors");
        };
        assert!(fields.get("password_policy").is_some());
        assert!(fields.get("strong_factor_roles").is_some());
        assert!(fields.get("session_idle_minutes").is_some());
        assert!(fields.get("session_max_hours").is_some());
    }
}
