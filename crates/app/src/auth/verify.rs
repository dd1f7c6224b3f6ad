//! Step two of a login: a code from the outbox (e-mail or SMS) for this login.

use termin_domain::DomainError;
use termin_domain::otp::{CodePurpose, MAX_CODE_ATTEMPTS, normalize_presented};
use termin_domain::session::{DEVICE_TRUST, SessionStage, device_name};
use termin_domain::token::SecretToken;
use termin_domain::user::UserStatus;
use termin_storage::NewDevice;

use super::{ClientInfo, CurrentSession, LoginStatus, LoginStep, Method};
use crate::Services;

impl Services {
    /// Which code a method answers for this user's login.
    fn purpose_for(&self, status: UserStatus, method: Method) -> Result<CodePurpose, DomainError> {
        match (status, method) {
            (UserStatus::VerificationPending, Method::Email) => Ok(CodePurpose::VerifyEmail),
            (UserStatus::VerificationPending, Method::Sms) => Ok(CodePurpose::VerifyPhone),
            (UserStatus::Active, Method::Sms) => Ok(CodePurpose::NewDevice),
            _ => Err(DomainError::invalid(
                "method",
                "is not available for this login",
            )),
        }
    }

    /// Checks a code for the pending login `session`. At most five attempts count per code
    /// (the attempt is counted in the database before comparing), a code works once, and
    /// only for the login it was sent for. When nothing is left pending the login completes:
    /// new session and CSRF tokens, and this device becomes trusted.
    pub(crate) async fn verify_code(
        &self,
        session: &CurrentSession,
        method: Method,
        presented: &str,
        client: &ClientInfo,
    ) -> Result<LoginStep, DomainError> {
        if session.stage != SessionStage::Pending {
            return Err(DomainError::invalid(
                "method",
                "this login needs no further step",
            ));
        }
        let user = self.session_user(session).await?;
        let purpose = self.purpose_for(user.status, method)?;
        let now = self.clock.now();
        let Some(code) = normalize_presented(presented) else {
            return Err(DomainError::InvalidCode);
        };
        let Some(attempt) = self
            .store
            .take_code_attempt(&session.session_id, purpose, now, MAX_CODE_ATTEMPTS)
            .await?
        else {
            return Err(DomainError::InvalidCode);
        };
        if !attempt.hash.matches(&code) {
            tracing::info!(user_id = %user.id, purpose = purpose.as_str(), "wrong one-time code");
            return Err(DomainError::InvalidCode);
        }

        let mut tx = self.store.begin().await?;
        if !tx.mark_code_used(&attempt.code_id, now).await? {
            return Err(DomainError::InvalidCode);
        }
        let mut still_pending = Vec::new();
        if purpose != CodePurpose::NewDevice {
            tx.mark_contact_verified(user.id, purpose == CodePurpose::VerifyEmail, now)
                .await?;
            // As this transaction sees it: a concurrent step may have verified the other.
            let (email_done, phone_done) = tx.contacts_verified(user.id).await?;
            if !email_done {
                still_pending.push("email");
            }
            if !phone_done {
                still_pending.push("phone");
            }
        }
        self.finish_step(
            tx,
            session,
            &user,
            still_pending,
            client,
            now,
            purpose.as_str(),
        )
        .await
    }

    /// Moves the login on after a successful step (inside `tx`): fresh tokens; when nothing
    /// is left pending, the login completes and this device becomes trusted.
    #[expect(
        clippy::too_many_arguments,
        reason = "one step's whole context; all needed"
    )]
    pub(crate) async fn finish_step(
        &self,
        mut tx: termin_storage::Tx,
        session: &CurrentSession,
        user: &termin_storage::UserRecord,
        still_pending: Vec<&'static str>,
        client: &ClientInfo,
        now: jiff::Timestamp,
        how: &str,
    ) -> Result<LoginStep, DomainError> {
        // Every successful step hands out fresh tokens, so a token seen before the step is
        // worthless after it.
        let session_token = SecretToken::generate().map_err(DomainError::internal)?;
        // The CSRF token is derived from the session token, so pages can render it from
        // the cookie while only hashes are stored.
        let csrf_token = session_token.derive("csrf");
        let stage = if still_pending.is_empty() {
            SessionStage::Authenticated
        } else {
            SessionStage::Pending
        };
        if !tx
            .advance_session(
                &session.session_id,
                &session_token.hash(),
                &csrf_token.hash(),
                stage,
                now,
            )
            .await?
        {
            return Err(DomainError::Unauthenticated);
        }
        if !still_pending.is_empty() {
            tx.commit().await?;
            return Ok(LoginStep {
                status: LoginStatus::VerificationRequired {
                    pending: still_pending,
                },
                session_token,
                csrf_token,
                device_token: None,
            });
        }
        self.forget_failures(&mut tx, user, now).await?;
        tx.insert_security_event(&termin_storage::NewSecurityEvent {
            kind: "login_succeeded",
            org_id: None,
            user_id: Some(user.id),
            actor_id: Some(user.id),
            source: Some(&client.ip),
            detail: format!("by {how}"),
            at: now,
        })
        .await?;
        let device_token = SecretToken::generate().map_err(DomainError::internal)?;
        let device = device_name(&client.user_agent);
        // The account's first login (its verification) is no news; later new devices are.
        if how != "verify_email" && how != "verify_phone" {
            self.send_new_device_notice(&mut tx, user, &device, &client.ip, now)
                .await?;
        }
        tx.insert_trusted_device(&NewDevice {
            user_id: user.id,
            token_hash: device_token.hash(),
            name: device,
            now,
            ip: client.ip.clone(),
            expires_at: now.checked_add(DEVICE_TRUST).unwrap_or(now),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, how, "login completed; device trusted");
        Ok(LoginStep {
            status: LoginStatus::Authenticated,
            session_token,
            csrf_token,
            device_token: Some(device_token),
        })
    }
}

impl Services {
    /// Sends a new code for the pending login (the previous one stops working). At most one
    /// every 30 seconds per login and five an hour per user and kind.
    pub async fn resend_code(
        &self,
        session: &CurrentSession,
        method: Method,
    ) -> Result<(), DomainError> {
        if session.stage != SessionStage::Pending {
            return Err(DomainError::invalid(
                "method",
                "this login needs no further step",
            ));
        }
        let user = self.session_user(session).await?;
        let purpose = self.purpose_for(user.status, method)?;
        if purpose == CodePurpose::NewDevice
            && !self.second_factors(user.id).await?.contains(&Method::Sms)
        {
            return Err(DomainError::invalid(
                "method",
                "is not available for this login",
            ));
        }
        let already_verified = match purpose {
            CodePurpose::VerifyEmail => user.email_verified_at.is_some(),
            CodePurpose::VerifyPhone => user.phone_verified_at.is_some(),
            CodePurpose::NewDevice => false,
        };
        if already_verified {
            return Err(DomainError::invalid("method", "is already verified"));
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.lock_user(user.id).await?;
        self.check_code_limits(&mut tx, &user, Some(&session.session_id), purpose, now)
            .await?;
        self.send_code(&mut tx, &user, &session.session_id, purpose, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
