//! Inviting staff (seed promise S3): an administrator invites by e-mail; the link is
//! single-use, hashed at rest and valid 72 hours; the new account, like the owner's, becomes
//! active only after its e-mail address and mobile number are verified at first login.

use jiff::SignedDuration;
use termin_domain::delivery::Message;
use termin_domain::ids::UserId;
use termin_domain::password::{Password, PersonalData};
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
        errors.into_result()?;
        let (Some(email), Some(phone), Some(role)) = (email, phone, role) else {
            return Err(DomainError::internal("validated fields missing"));
        };
        if !acting.may_give(role, &termin_domain::rights::Adjustments::default()) {
            return Err(DomainError::Forbidden);
        }
        if self.store.find_user_by_email(&email).await?.is_some() {
            return Err(DomainError::Conflict {
                code: "email_taken",
                message: "an account with this e-mail address already exists".into(),
            });
        }
        let token = SecretToken::generate().map_err(DomainError::internal)?;
        let now = self.clock.now();
        let id = uuid::Uuid::new_v4().to_string();
        let link = format!("{}/invite/{}", self.public_origin, token.reveal());
        let message = Message::email(
            &email,
            format!("Einladung zu Termin: {} / Invitation", membership.org_name),
            format!(
                "Sie wurden eingeladen, im Kalender von {org} mitzuarbeiten.\n\
                 Legen Sie hier Ihr Passwort fest (der Link gilt 72 Stunden und einmal):\n{link}\n\n\
                 You have been invited to work in the calendar of {org}.\n\
                 Set your password here (the link is valid for 72 hours, once):\n{link}\n",
                org = membership.org_name
            ),
        );
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
        })
        .await?;
        tx.enqueue_message(&message, now).await?;
        tx.commit().await?;
        tracing::info!(org_id = %membership.org_id, invitation_id = %id, role = role.as_str(), "user invited");
        Ok(id)
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
        tx.commit().await?;
        tracing::info!(org_id = %invitation.org_id, user_id = %user_id, "invitation accepted");
        Ok(user_id)
    }
}
