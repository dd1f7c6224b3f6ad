//! Inviting staff (seed promise S3): an administrator invites by e-mail; the link is
//! single-use, hashed at rest and valid 72 hours; the new account, like the owner's, becomes
//! active only after its e-mail address and mobile number are verified at first login.

use jiff::SignedDuration;
use std::collections::BTreeSet;
use termin_domain::delivery::Message;

use termin_domain::ids::{PractitionerId, UserId};
use termin_domain::password::{Password, PersonalData};
use termin_domain::rights;
use termin_domain::token::SecretToken;
use termin_domain::user::{Email, PhoneNumber, Role, UserStatus};
use termin_domain::{DomainError, FieldErrors};
use termin_storage::{NewInvitation, NewUser};

use crate::Services;
use crate::auth::CurrentSession;

pub const INVITATION_VALIDITY: SignedDuration = SignedDuration::from_hours(72);

/// An invitation as the inviter sends it.
#[derive(Debug)]
pub struct InvitationRequest<'a> {
    pub email: &'a str,
    pub phone: &'a str,
    pub role: &'a str,
    /// Calendars the member's calendar permissions are narrowed to (none: all).
    pub practitioner_ids: &'a [String],
}

impl Services {
    /// Invites a new user into the acting practice; returns the invitation's id. The e-mail
    /// with the link is written in the same transaction.
    pub async fn invite(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        request: InvitationRequest<'_>,
    ) -> Result<String, DomainError> {
        let acting = self
            .acting_with(session, org, termin_domain::rights::Permission::ManageUsers)
            .await?;
        let membership = &acting.membership;
        self.require_fresh(session)?;
        let mut errors = FieldErrors::new();
        let email = errors.take("email", Email::parse(request.email));
        let phone = errors.take("phone", PhoneNumber::parse(request.phone));
        let role = errors.take("role", Role::parse(request.role));
        let practitioner_ids = self
            .invited_calendars(membership.org_id, request.practitioner_ids, &mut errors)
            .await?;
        errors.into_result()?;
        let (Some(email), Some(phone), Some(role)) = (email, phone, role) else {
            return Err(DomainError::internal("validated fields missing"));
        };
        if !acting.may_give(role, &rights::narrowed_to(role, &practitioner_ids)) {
            return Err(DomainError::Forbidden);
        }
        // An address that has an account already is invited to join with it: the answer is
        // the same (nobody learns whether an address has an account); only the e-mail differs.
        let existing = self.store.find_user_by_email(&email).await?;
        let token = SecretToken::generate().map_err(DomainError::internal)?;
        let now = self.clock.now();
        let id = uuid::Uuid::new_v4().to_string();
        let link = format!("{}/invite/{}", self.public_origin, token.reveal());
        let message = if existing.is_some() {
            Message::email(
                &email,
                format!("Einladung zu Termin: {} / Invitation", membership.org_name),
                format!(
                    "Sie wurden eingeladen, auch im Kalender von {org} mitzuarbeiten.\n\
                     Melden Sie sich mit Ihrem Konto an und öffnen Sie dann diesen Link \
                     (72 Stunden gültig, einmal):\n{link}\n\n\
                     You have been invited to work in the calendar of {org} too.\n\
                     Sign in with your account, then open this link (valid for 72 hours, \
                     once):\n{link}\n",
                    org = membership.org_name
                ),
            )
        } else {
            Message::email(
                &email,
                format!("Einladung zu Termin: {} / Invitation", membership.org_name),
                format!(
                    "Sie wurden eingeladen, im Kalender von {org} mitzuarbeiten.\n\
                     Legen Sie hier Ihr Passwort fest (der Link gilt 72 Stunden und einmal):\n{link}\n\n\
                     You have been invited to work in the calendar of {org}.\n\
                     Set your password here (the link is valid for 72 hours, once):\n{link}\n",
                    org = membership.org_name
                ),
            )
        };
        let mut tx = self.store.begin().await?;
        tx.insert_invitation(&NewInvitation {
            id: id.clone(),
            org_id: membership.org_id,
            email,
            phone,
            role,
            token_hash: token.hash(),
            invited_by: session.user_id,
            now,
            expires_at: now.checked_add(INVITATION_VALIDITY).unwrap_or(now),
            practitioner_ids,
        })
        .await?;
        tx.enqueue_message(&message, now).await?;
        tx.commit().await?;
        tracing::info!(org_id = %membership.org_id, invitation_id = %id, role = role.as_str(), "user invited");
        Ok(id)
    }

    /// The practitioners an invitation names, each checked to be the practice's.
    async fn invited_calendars(
        &self,
        org: termin_domain::ids::OrgId,
        raw: &[String],
        errors: &mut FieldErrors,
    ) -> Result<BTreeSet<PractitionerId>, DomainError> {
        let known: BTreeSet<PractitionerId> = self
            .store
            .practice(org)
            .practitioners()
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        let mut chosen = BTreeSet::new();
        for (i, value) in raw.iter().enumerate() {
            match value.parse::<PractitionerId>() {
                Ok(id) if known.contains(&id) => {
                    chosen.insert(id);
                }
                _ => errors.add(
                    &format!("practitioner_ids[{i}]"),
                    "is not a practitioner of this practice",
                ),
            }
        }
        Ok(chosen)
    }

    /// Whether an invitation link can still be used (for its page).
    pub async fn invitation_is_open(&self, raw_token: &str) -> Result<bool, DomainError> {
        let Ok(token) = SecretToken::parse(raw_token) else {
            return Ok(false);
        };
        Ok(self
            .store
            .find_open_invitation(&token.hash(), self.clock.now())
            .await?
            .is_some())
    }

    /// Accepts an invitation with the new user's password: creates the account (verification
    /// pending) and its membership. An unknown, used or expired link is "not found".
    pub async fn accept_invitation(
        &self,
        raw_token: &str,
        password: &Password,
    ) -> Result<UserId, DomainError> {
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        let now = self.clock.now();
        let invitation = self
            .store
            .find_open_invitation(&token.hash(), now)
            .await?
            .ok_or(DomainError::NotFound)?;
        // The inviter must still be allowed to grant the role (they may have been demoted
        // or removed since); otherwise the invitation is void.
        if !invitation
            .inviter_role
            .is_some_and(|r| r.may_grant(invitation.role))
        {
            return Err(DomainError::NotFound);
        }
        let personal = PersonalData {
            words: vec![invitation.email.local_part(), invitation.org_name.as_str()],
        };
        invitation
            .password_policy
            .check(password, &personal)
            .map_err(|violations| DomainError::PasswordPolicy { violations })?;
        if self
            .store
            .find_user_by_email(&invitation.email)
            .await?
            .is_some()
        {
            return Err(DomainError::Conflict {
                code: "sign_in_to_join",
                message: "This address has an account already: sign in, then open the invitation link again to join."
                    .into(),
            });
        }
        let password_hash = self.hasher.hash(password).await?;
        let user_id = UserId::random();
        let mut tx = self.store.begin().await?;
        if !tx.accept_invitation(&token.hash(), now).await? {
            return Err(DomainError::NotFound);
        }
        tx.insert_user(&NewUser {
            id: user_id,
            email: invitation.email.clone(),
            phone: invitation.phone.clone(),
            password_hash,
            status: UserStatus::VerificationPending,
            created_at: now,
        })
        .await?;
        tx.insert_membership(invitation.org_id, user_id, invitation.role, now)
            .await?;
        tx.set_adjustments(
            invitation.org_id,
            user_id,
            &rights::narrowed_to(invitation.role, &invitation.practitioner_ids),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(org_id = %invitation.org_id, user_id = %user_id, "invitation accepted");
        Ok(user_id)
    }

    /// A signed-in user joins the practice of an invitation to their own address (a member
    /// of several practices switches between them). Returns the practice's slug. An
    /// invitation for another address, used or expired, is "not found".
    pub async fn join_practice(
        &self,
        session: &CurrentSession,
        raw_token: &str,
    ) -> Result<String, DomainError> {
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        let user = self.session_user(session).await?;
        let now = self.clock.now();
        let invitation = self
            .store
            .find_open_invitation(&token.hash(), now)
            .await?
            .filter(|i| i.email.normalized() == user.email.normalized())
            .ok_or(DomainError::NotFound)?;
        if !invitation
            .inviter_role
            .is_some_and(|r| r.may_grant(invitation.role))
        {
            return Err(DomainError::NotFound);
        }
        let memberships = self.store.memberships_of(user.id).await?;
        let Some(slug) = self.store.slug_of(invitation.org_id).await? else {
            return Err(DomainError::NotFound);
        };
        if memberships.iter().any(|m| m.org_id == invitation.org_id) {
            return Err(DomainError::Conflict {
                code: "already_member",
                message: "You belong to this practice already.".into(),
            });
        }
        let mut tx = self.store.begin().await?;
        if !tx.accept_invitation(&token.hash(), now).await? {
            return Err(DomainError::NotFound);
        }
        tx.insert_membership(invitation.org_id, user.id, invitation.role, now)
            .await?;
        tx.set_adjustments(
            invitation.org_id,
            user.id,
            &rights::narrowed_to(invitation.role, &invitation.practitioner_ids),
        )
        .await?;
        tx.insert_security_event(&termin_storage::NewSecurityEvent {
            kind: "member_joined",
            org_id: Some(invitation.org_id),
            user_id: Some(user.id),
            actor_id: Some(user.id),
            source: None,
            detail: format!("as {}", invitation.role.as_str()),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(org_id = %invitation.org_id, user_id = %user.id, "joined a further practice");
        Ok(slug)
    }
}
