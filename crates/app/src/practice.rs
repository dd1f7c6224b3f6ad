//! Acting in a practice, and the practice's account-security settings (seed promise S5 and
//! the strong-factor rule of S4): which password policy its staff follow, and which roles
//! must use an authenticator app or a passkey instead of SMS.

use termin_domain::DomainError;
use termin_domain::ids::UserId;
use termin_domain::password::{Password, PasswordPolicy, PersonalData};
use termin_domain::security::SecuritySettings;
use termin_storage::Membership;

use termin_domain::network::NetworkRule;
use termin_domain::rights::Permission;

use crate::Services;

/// The security event of a refused staff request from outside the practice's networks.
const NETWORK_DENIED: &str = "network_denied";
use crate::auth::CurrentSession;

impl Services {
    /// The practice a request acts in: the one named by `X-Termin-Org`, or the user's only
    /// one. A practice the user does not belong to is "not found". A member whose role the
    /// practice requires a strong second factor for, and who has none yet, is refused until
    /// they set one up.
    pub async fn acting_membership(
        &self,
        session: &CurrentSession,
        slug: Option<&str>,
    ) -> Result<Membership, DomainError> {
        let user = session.user_id;
        let memberships = self.store.memberships_of(user).await?;
        let membership = match slug {
            Some(slug) => memberships
                .into_iter()
                .find(|m| m.org_slug.as_str() == slug)
                .ok_or(DomainError::NotFound)?,
            // No practice at all: there is nothing to act in.
            None if memberships.len() <= 1 => memberships
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
        if !membership
            .network
            .allows(membership.role, session.client_ip)
        {
            self.record_network_denial(session, &membership).await?;
            return Err(DomainError::NetworkNotAllowed);
        }
        if membership.security.requires_strong_factor(membership.role)
            && !self.has_strong_factor(user).await?
        {
            return Err(DomainError::StrongFactorRequired);
        }
        Ok(membership)
    }

    /// A staff request from outside the practice's networks, recorded for its administrators.
    async fn record_network_denial(
        &self,
        session: &CurrentSession,
        membership: &Membership,
    ) -> Result<(), DomainError> {
        let source = session
            .client_ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let mut tx = self.store.begin().await?;
        tx.insert_security_event(&termin_storage::NewSecurityEvent {
            kind: NETWORK_DENIED,
            org_id: Some(membership.org_id),
            user_id: Some(session.user_id),
            actor_id: Some(session.user_id),
            source: Some(&source),
            detail: format!("role {}", membership.role.as_str()),
            at: self.clock.now(),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %session.user_id, org_id = %membership.org_id, "staff request from outside the practice's networks refused");
        Ok(())
    }

    /// The acting practice's network rule; for those who manage its settings.
    pub async fn network_rule(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<(Membership, NetworkRule), DomainError> {
        let membership = self
            .acting_with(session, org, Permission::ManageSettings)
            .await?
            .membership;
        let rule = membership.network.clone();
        Ok((membership, rule))
    }

    /// Replaces the acting practice's network rule. Refused when it would lock out the
    /// administrator saving it (their current address and role): they would lose the page
    /// they save it on.
    pub async fn update_network_rule(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        rule: NetworkRule,
    ) -> Result<NetworkRule, DomainError> {
        let (membership, _) = self.network_rule(session, org).await?;
        self.require_fresh(session)?;
        if !rule.allows(membership.role, session.client_ip) {
            let from = session
                .client_ip
                .map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
            return Err(DomainError::invalid(
                "allowed_networks",
                format!(
                    "would lock you out: you are connected from {from}, which none of the networks contains"
                ),
            ));
        }
        self.store
            .set_network_rule(membership.org_id, &rule)
            .await?;
        let mut tx = self.store.begin().await?;
        tx.insert_security_event(&termin_storage::NewSecurityEvent {
            kind: "network_rule_changed",
            org_id: Some(membership.org_id),
            user_id: None,
            actor_id: Some(session.user_id),
            source: None,
            detail: format!(
                "networks [{}] for roles [{}]",
                rule.networks_text(),
                rule.roles_text()
            ),
            at: self.clock.now(),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %session.user_id, org_id = %membership.org_id, "network rule changed");
        Ok(rule)
    }

    /// The operator lifts a practice's network rule (`termin network clear`): the way back
    /// when a rule shuts out everybody, e.g. after the practice's address changed. `false`
    /// if there is no such practice.
    pub async fn operator_clear_network_rule(&self, slug: &str) -> Result<bool, DomainError> {
        let Ok(slug) = termin_domain::org::OrgSlug::parse(slug) else {
            return Ok(false);
        };
        let Some(org) = self.store.find_organization_by_slug(&slug).await? else {
            return Ok(false);
        };
        self.store
            .set_network_rule(org.id, &NetworkRule::default())
            .await?;
        let mut tx = self.store.begin().await?;
        tx.insert_security_event(&termin_storage::NewSecurityEvent {
            kind: "network_rule_changed",
            org_id: Some(org.id),
            user_id: None,
            actor_id: None,
            source: None,
            detail: "cleared by the operator".to_owned(),
            at: self.clock.now(),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(org_id = %org.id, "network rule cleared by the operator");
        Ok(true)
    }

    /// Staff requests refused by the network rule in the last week, newest first.
    pub async fn network_denials(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<Vec<termin_storage::SecurityEvent>, DomainError> {
        let (membership, _) = self.network_rule(session, org).await?;
        let now = self.clock.now();
        let since = now
            .checked_sub(jiff::SignedDuration::from_hours(7 * 24))
            .unwrap_or(now);
        Ok(self
            .store
            .org_events(membership.org_id, NETWORK_DENIED, since, 100)
            .await?)
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
