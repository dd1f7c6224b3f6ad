//! Acting in a practice, and the practice's account-security settings (seed promise S5 and
//! the strong-factor rule of S4): which password policy its staff follow, and which roles
//! must use an authenticator app or a passkey instead of SMS.

use termin_domain::DomainError;
use termin_domain::ids::UserId;
use termin_domain::password::{Password, PasswordPolicy, PersonalData};
use termin_domain::security::SecuritySettings;
use termin_storage::Membership;

use crate::Services;
use crate::auth::CurrentSession;

impl Services {
    /// The practice a request acts in: the one named by `X-Termin-Org`, or the user's only
    /// one. A practice the user does not belong to is "not found". A member whose role the
    /// practice requires a strong second factor for, and who has none yet, is refused until
    /// they set one up.
    pub async fn acting_membership(
        &self,
        user: UserId,
        slug: Option<&str>,
    ) -> Result<Membership, DomainError> {
        let memberships = self.store.memberships_of(user).await?;
        let membership = match slug {
            Some(slug) => memberships
                .into_iter()
                .find(|m| m.org_slug.as_str() == slug)
                .ok_or(DomainError::NotFound)?,
            None if memberships.len() == 1 => memberships
                .into_iter()
                .next()
                .ok_or(DomainError::NotFound)?,
            None => {
                return Err(DomainError::invalid(
                    "X-Termin-Org",
                    "you belong to several practices: name one with the X-Termin-Org header",
                ));
            }
        };
        if membership.security.requires_strong_factor(membership.role)
            && !self.has_strong_factor(user).await?
        {
            return Err(DomainError::StrongFactorRequired);
        }
        Ok(membership)
    }

    /// Whether the user has an authenticator app or a passkey.
    pub async fn has_strong_factor(&self, user: UserId) -> Result<bool, DomainError> {
        Ok(self.store.totp_secrets(user).await?.active.is_some()
            || self.store.has_passkeys(user).await?)
    }

    /// Whether any practice the user belongs to requires a strong factor of them.
    pub(crate) async fn strong_factor_required(&self, user: UserId) -> Result<bool, DomainError> {
        Ok(self
            .store
            .memberships_of(user)
            .await?
            .iter()
            .any(|m| m.security.requires_strong_factor(m.role)))
    }

    /// The acting practice's security settings; for those who manage its users.
    pub async fn security_settings(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<(Membership, SecuritySettings), DomainError> {
        let membership = self
            .acting_with(
                session,
                org,
                termin_domain::rights::Permission::ManageSettings,
            )
            .await?
            .membership;
        let settings = membership.security.clone();
        Ok((membership, settings))
    }

    /// Replaces the acting practice's security settings. Refused when it would require a
    /// strong factor of the admin saving it who has none yet: they set one up first.
    pub async fn update_security_settings(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        settings: SecuritySettings,
    ) -> Result<SecuritySettings, DomainError> {
        let (membership, _) = self.security_settings(session, org).await?;
        self.require_fresh(session)?;
        if settings.requires_strong_factor(membership.role)
            && !self.has_strong_factor(session.user_id).await?
        {
            return Err(DomainError::invalid(
                "strong_factor_roles",
                "includes your own role, but you have no authenticator app or passkey yet: set one up first",
            ));
        }
        self.store
            .set_security_settings(membership.org_id, &settings)
            .await?;
        tracing::info!(
            user_id = %session.user_id,
            org_id = %membership.org_id,
            password_policy = settings.password_policy.as_str(),
            strong_factor_roles = %settings.roles_text(),
            "practice security settings changed"
        );
        Ok(settings)
    }

    /// Checks a new password of an existing user against the policy of every practice they
    /// belong to (the seed's rule when they belong to none), and their personal data.
    pub(crate) async fn check_new_password(
        &self,
        user: &termin_storage::UserRecord,
        password: &Password,
    ) -> Result<(), DomainError> {
        let memberships = self.store.memberships_of(user.id).await?;
        let mut personal = PersonalData::default();
        personal.words.push(user.email.local_part());
        personal
            .words
            .extend(memberships.iter().map(|m| m.org_name.as_str()));
        let mut policies: Vec<PasswordPolicy> = memberships
            .iter()
            .map(|m| m.security.password_policy)
            .collect();
        if policies.is_empty() {
            policies.push(self.password_policy);
        }
        PasswordPolicy::check_all(&policies, password, &personal)
            .map_err(|violations| DomainError::PasswordPolicy { violations })
    }
}
