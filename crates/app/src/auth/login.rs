//! Step one of a login: e-mail and password.

use termin_domain::DomainError;
use termin_domain::guard::LoginSubject;
use termin_domain::ids::UserId;
use termin_domain::otp::CodePurpose;
use termin_domain::password::Password;
use termin_domain::session::SessionStage;
use termin_domain::token::SecretToken;
use termin_domain::user::{Email, UserStatus};
use termin_storage::{FailureKind, NewSession, UserRecord};

use super::{ClientInfo, LoginStatus, LoginStep, Method};
use crate::Services;

/// What the client presents to log in.
#[derive(Debug)]
pub struct LoginRequest<'a> {
    pub email: &'a str,
    pub password: Password,
    /// The trusted-device cookie, if the browser has one.
    pub device_token: Option<&'a str>,
    pub client: ClientInfo,
}

/// Which contacts of an unverified account still need their code.
pub(crate) fn pending_contacts(user: &UserRecord) -> Vec<&'static str> {
    let mut pending = Vec::new();
    if user.email_verified_at.is_none() {
        pending.push("email");
    }
    if user.phone_verified_at.is_none() {
        pending.push("phone");
    }
    pending
}

impl Services {
    /// Checks the password and starts the login. A wrong e-mail address, a wrong password
    /// and a disabled account all answer [`DomainError::InvalidCredentials`], and an unknown
    /// address costs the same hashing time as a known one.
    pub async fn login(&self, request: LoginRequest<'_>) -> Result<LoginStep, DomainError> {
        let user = match Email::parse(request.email) {
            Ok(email) => self.store.find_user_by_email(&email).await?,
            Err(_) => None,
        };
        // Known or not, the address is counted, delayed and locked alike, and every answer
        // below costs one password hash: nothing tells whether the account exists.
        let subject = LoginSubject::for_email(request.email);
        let attempt = self
            .begin_attempt(subject, user.as_ref(), &request.client)
            .await?;
        let password_ok = match &user {
            Some(user) if attempt.admitted => {
                self.hasher
                    .verify(&request.password, &user.password_hash)
                    .await?
            }
            _ => {
                self.hasher
                    .verify(&request.password, &self.dummy_hash().await?)
                    .await?;
                false
            }
        };
        let user = match user {
            Some(user) if password_ok => user,
            other => {
                // Unknown, wrong or refused: the same failure record, the same answer.
                self.attempt_failed(&attempt, other.as_ref(), FailureKind::Password)
                    .await?;
                return Err(DomainError::InvalidCredentials);
            }
        };
        // The password was right. Unless the login completes here, the attempt is taken
        // back, whatever happens next (the second step counts on its own).
        let result = self.open_session(&request, &user).await;
        if !matches!(&result, Ok(step) if step.status == LoginStatus::Authenticated) {
            self.attempt_passed(&attempt).await?;
        }
        result
    }

    /// The session of a login whose password was right: authenticated on a trusted device,
    /// otherwise pending with the codes it needs sent.
    async fn open_session(
        &self,
        request: &LoginRequest<'_>,
        user: &UserRecord,
    ) -> Result<LoginStep, DomainError> {
        if user.status == UserStatus::Disabled
            // After "this wasn't me" the password is considered known to an intruder.
            || self.store.password_reset_required(user.id).await?
        {
            return Err(DomainError::InvalidCredentials);
        }
        let now = self.clock.now();
        if self.hasher.needs_rehash(&user.password_hash) {
            let phc = self.hasher.hash(&request.password).await?;
            self.store.set_password_hash(user.id, &phc, now).await?;
            tracing::info!(user_id = %user.id, "password hash upgraded to the current parameters");
        }

        let trusted = match request
            .device_token
            .and_then(|t| SecretToken::parse(t).ok())
        {
            Some(token) => self
                .store
                .use_trusted_device(&token.hash(), user.id, now, &request.client.ip)
                .await?
                .is_some(),
            None => false,
        };
        let (stage, status, codes) = if user.status == UserStatus::VerificationPending {
            let pending = pending_contacts(user);
            let codes: Vec<CodePurpose> = pending
                .iter()
                .map(|c| {
                    if *c == "email" {
                        CodePurpose::VerifyEmail
                    } else {
                        CodePurpose::VerifyPhone
                    }
                })
                .collect();
            (
                SessionStage::Pending,
                LoginStatus::VerificationRequired { pending },
                codes,
            )
        } else if trusted {
            (
                SessionStage::Authenticated,
                LoginStatus::Authenticated,
                Vec::new(),
            )
        } else {
            let methods = self.second_factors(user.id).await?;
            // The SMS code goes out at once, unless SMS is not one of the methods.
            let codes = if methods.contains(&Method::Sms) {
                vec![CodePurpose::NewDevice]
            } else {
                Vec::new()
            };
            (
                SessionStage::Pending,
                LoginStatus::SecondFactorRequired { methods },
                codes,
            )
        };

        let session_token = SecretToken::generate().map_err(DomainError::internal)?;
        // The CSRF token is derived from the session token, so pages can render it from
        // the cookie while only hashes are stored.
        let csrf_token = session_token.derive("csrf");
        let session_id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.store.begin().await?;
        // Every code sent counts against the user's hourly cap, logins included.
        tx.lock_user(user.id).await?;
        for purpose in &codes {
            self.check_code_limits(&mut tx, user, None, *purpose, now)
                .await?;
        }
        tx.insert_session(&NewSession {
            id: session_id.clone(),
            token_hash: session_token.hash(),
            csrf_hash: csrf_token.hash(),
            user_id: user.id,
            stage,
            now,
            ip: request.client.ip.clone(),
            user_agent: request.client.user_agent.chars().take(300).collect(),
        })
        .await?;
        for purpose in codes {
            self.send_code(&mut tx, user, &session_id, purpose, now)
                .await?;
        }
        if stage == SessionStage::Authenticated {
            self.forget_failures(&mut tx, user, now).await?;
            tx.insert_security_event(&termin_storage::NewSecurityEvent {
                kind: "login_succeeded",
                org_id: None,
                user_id: Some(user.id),
                actor_id: Some(user.id),
                source: Some(&request.client.ip),
                detail: "on a trusted device".to_owned(),
                at: now,
            })
            .await?;
        }
        tx.commit().await?;
        log_login(user.id, &status);
        Ok(LoginStep {
            status,
            session_token,
            csrf_token,
            device_token: None,
        })
    }

    /// Ends the session a browser still holds when it logs in again (it is replaced, not
    /// left to time out).
    pub async fn end_replaced_session(&self, cookie: Option<&str>) -> Result<(), DomainError> {
        if let Some(token) = cookie.and_then(|c| SecretToken::parse(c).ok()) {
            self.store.delete_session_by_token(&token.hash()).await?;
        }
        Ok(())
    }

    /// A hash to verify against when the account does not exist, made once with the
    /// current parameters so that it takes exactly as long as a real one.
    async fn dummy_hash(&self) -> Result<String, DomainError> {
        self.dummy_hash
            .get_or_try_init(|| async {
                self.hasher
                    .hash(&Password::new("not a real password"))
                    .await
            })
            .await
            .cloned()
    }
}

fn log_login(user: UserId, status: &LoginStatus) {
    let step = match status {
        LoginStatus::Authenticated => "authenticated on a trusted device",
        LoginStatus::SecondFactorRequired { .. } => "new device: second factor required",
        LoginStatus::VerificationRequired { .. } => "account not verified: codes sent",
    };
    tracing::info!(user_id = %user, step, "password accepted");
}
