//! Getting back into an account, and throwing an intruder out of it.
//!
//! - Password reset: an e-mail link (30 minutes, once) *plus* a second factor (an SMS code
//!   sent with it, or the authenticator app). Afterwards every session and trusted device of
//!   the user is gone.
//! - New-device notice: every login completed with a second factor on a new device sends an
//!   e-mail with a "this wasn't me" link. It ends every session, removes every trusted device
//!   and requires a password reset before the next login.

use jiff::{SignedDuration, Timestamp};
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::guard::LoginSubject;
use termin_domain::otp::{MAX_CODE_ATTEMPTS, OneTimeCode, normalize_presented};
use termin_domain::password::Password;
use termin_domain::token::SecretToken;
use termin_domain::totp::TotpSecret;
use termin_domain::user::{Email, UserStatus};
use termin_storage::{FailureKind, LinkKind, NewLink, NewSecurityEvent, Tx, UserRecord};

fn address_of(user: &UserRecord) -> LoginSubject {
    LoginSubject::for_email(user.email.as_str())
}

use super::{ClientInfo, Method};
use crate::Services;

pub const RESET_VALIDITY: SignedDuration = SignedDuration::from_mins(30);
pub const NOT_ME_VALIDITY: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Reset e-mails per user and hour; more requests are silently ignored.
const MAX_RESETS_PER_HOUR: i64 = 5;
/// Every reset request is answered after this long, known address or not.
pub const RESET_ANSWER_TIME: std::time::Duration = std::time::Duration::from_millis(300);

impl Services {
    /// Starts a password reset. Answers the same whether or not the address is known, and
    /// in the same time: the answer waits until [`RESET_ANSWER_TIME`] has passed, so that the
    /// extra work for a known address does not show.
    pub async fn request_password_reset(
        &self,
        raw_email: &str,
        client: &ClientInfo,
    ) -> Result<(), DomainError> {
        self.refuse_blocked_source(client).await?;
        let started = tokio::time::Instant::now();
        let result = self.start_reset(raw_email).await;
        let elapsed = started.elapsed();
        if elapsed > RESET_ANSWER_TIME {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                "a password reset request took longer than its fixed answer time"
            );
        }
        tokio::time::sleep_until(started + RESET_ANSWER_TIME).await;
        result
    }

    async fn start_reset(&self, raw_email: &str) -> Result<(), DomainError> {
        let Ok(email) = Email::parse(raw_email) else {
            return Ok(());
        };
        let Some(user) = self.store.find_user_by_email(&email).await? else {
            return Ok(());
        };
        if user.status == UserStatus::Disabled {
            return Ok(());
        }
        let now = self.clock.now();
        let hour_ago = now
            .checked_sub(SignedDuration::from_hours(1))
            .unwrap_or(now);
        let mut tx = self.store.begin().await?;
        tx.lock_user(user.id).await?;
        if tx
            .count_links_since(user.id, LinkKind::Reset, hour_ago)
            .await?
            >= MAX_RESETS_PER_HOUR
        {
            tracing::warn!(user_id = %user.id, "password reset requests over the hourly cap; ignored");
            return Ok(());
        }
        self.send_reset(&mut tx, &user, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a reset link (e-mail) and its SMS code into `tx`.
    async fn send_reset(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let token = SecretToken::generate().map_err(DomainError::internal)?;
        let code = OneTimeCode::generate().map_err(DomainError::internal)?;
        tx.insert_link(&NewLink {
            user_id: user.id,
            kind: LinkKind::Reset,
            token_hash: token.hash(),
            code_hash: Some(code.hash().map_err(DomainError::internal)?),
            now,
            expires_at: now.checked_add(RESET_VALIDITY).unwrap_or(now),
        })
        .await?;
        let link = format!("{}/reset/{}", self.public_origin, token.reveal());
        let email = Message::email(
            &user.email,
            "Termin: Passwort zurücksetzen / reset your password",
            format!(
                "Mit diesem Link setzen Sie Ihr Passwort neu (30 Minuten gültig, einmal):\n{link}\n\
                 Sie brauchen dazu zusätzlich den Code aus der SMS oder Ihrer Authenticator-App.\n\
                 Haben Sie das nicht angefordert, ignorieren Sie diese E-Mail.\n\n\
                 Use this link to set a new password (valid 30 minutes, once):\n{link}\n\
                 You will also need the code from the SMS or your authenticator app.\n\
                 If you did not ask for this, ignore this e-mail.\n"
            ),
        );
        let sms = Message::sms(
            &user.phone,
            format!(
                "Termin: Code zum Zurücksetzen Ihres Passworts / password reset code: {}",
                code.reveal()
            ),
        );
        tx.enqueue_message(&email, now).await?;
        tx.enqueue_message(&sms, now).await?;
        Ok(())
    }

    pub async fn reset_link_is_open(&self, raw_token: &str) -> Result<bool, DomainError> {
        let Ok(token) = SecretToken::parse(raw_token) else {
            return Ok(false);
        };
        Ok(self
            .store
            .link_is_open(&token.hash(), LinkKind::Reset, self.clock.now())
            .await?)
    }

    /// Sets a new password with a reset link and a second factor (the SMS code sent with the
    /// link, or a TOTP code). Five wrong factors use the link up. Afterwards the user is
    /// signed out everywhere and no device is trusted any more.
    pub async fn complete_password_reset(
        &self,
        raw_token: &str,
        method: Method,
        code: &str,
        new_password: &Password,
        client: &ClientInfo,
    ) -> Result<(), DomainError> {
        self.refuse_blocked_source(client).await?;
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        let now = self.clock.now();
        let user_id = self
            .store
            .open_link_user(&token.hash(), LinkKind::Reset, now)
            .await?
            .ok_or(DomainError::NotFound)?;
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if user.status == UserStatus::Disabled {
            return Err(DomainError::NotFound);
        }
        self.check_new_password(&user, new_password).await?;

        let attempt = self
            .store
            .take_link_attempt(&token.hash(), LinkKind::Reset, now, MAX_CODE_ATTEMPTS)
            .await?
            .ok_or(DomainError::InvalidCode)?;
        // Hash before the transaction: the expensive part must not hold the write lock.
        let phc = self.hasher.hash(new_password).await?;
        // Read before the transaction: a pool read while holding a write transaction can
        // starve the pool (every connection waiting for the lock this one holds).
        let totp = if method == Method::Totp {
            self.store.totp_secrets(user.id).await?.active
        } else {
            None
        };
        let mut tx = self.store.begin().await?;
        let factor_ok = match method {
            Method::Sms => match (&attempt.code_hash, normalize_presented(code)) {
                (Some(hash), Some(code)) => hash.matches(&code),
                _ => false,
            },
            Method::Totp => match totp {
                Some(secret) => {
                    let secret = TotpSecret::from_base32(&secret).map_err(DomainError::internal)?;
                    match secret.matching_step(code, now) {
                        Some(step) => tx.accept_totp_step(user.id, step).await?,
                        None => false,
                    }
                }
                None => false,
            },
            Method::Email | Method::RecoveryCode | Method::Passkey => false,
        };
        if !factor_ok {
            drop(tx);
            // Not refused by the account's lock (a reset is the way out of one), but counted
            // like any wrong code: guessing here locks the account and blocks the source too.
            let attempt = self
                .begin_attempt(address_of(&user), Some(&user), client)
                .await?;
            self.attempt_failed(&attempt, Some(&user), FailureKind::SecondFactor)
                .await?;
            return Err(DomainError::InvalidCode);
        }
        if !tx.use_link(&attempt.link_id, now).await? {
            return Err(DomainError::NotFound);
        }
        tx.set_password_hash(user.id, &phc, now).await?;
        tx.set_password_reset_required(user.id, false).await?;
        // Other reset links still in mailboxes are moot now.
        tx.retire_links(user.id, LinkKind::Reset, now).await?;
        tx.sign_out_everywhere(user.id).await?;
        tx.insert_security_event(&NewSecurityEvent {
            kind: "password_reset",
            org_id: None,
            user_id: Some(user.id),
            actor_id: Some(user.id),
            source: Some(&client.ip),
            detail: "signed out everywhere".to_owned(),
            at: now,
        })
        .await?;
        // A reset proves the account's owner: it lifts a lock, even a permanent one.
        if tx.reset_guards_of(user.id, &address_of(&user), now).await? {
            tx.insert_security_event(&NewSecurityEvent {
                kind: "account_unlocked",
                org_id: None,
                user_id: Some(user.id),
                actor_id: Some(user.id),
                source: None,
                detail: "password reset".to_owned(),
                at: now,
            })
            .await?;
        }
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "password reset; signed out everywhere");
        Ok(())
    }

    /// Writes the new-device notice with its "this wasn't me" link into `tx`.
    pub(crate) async fn send_new_device_notice(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        device: &str,
        ip: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let token = SecretToken::generate().map_err(DomainError::internal)?;
        tx.insert_link(&NewLink {
            user_id: user.id,
            kind: LinkKind::NotMe,
            token_hash: token.hash(),
            code_hash: None,
            now,
            expires_at: now.checked_add(NOT_ME_VALIDITY).unwrap_or(now),
        })
        .await?;
        let link = format!("{}/not-me/{}", self.public_origin, token.reveal());
        let message = Message::email(
            &user.email,
            "Termin: Anmeldung auf einem neuen Gerät / sign-in on a new device",
            format!(
                "Soeben hat sich jemand mit Ihrem Konto auf einem neuen Gerät angemeldet: {device} (IP {ip}), {now}.\n\
                 Waren Sie das nicht? Dann öffnen Sie diesen Link: Er beendet alle Sitzungen, entfernt alle \
                 vertrauten Geräte und verlangt ein neues Passwort.\n{link}\n\n\
                 Someone just signed in to your account on a new device: {device} (IP {ip}), {now}.\n\
                 Wasn't you? Open this link: it ends every session, removes every trusted device and \
                 requires a new password.\n{link}\n"
            ),
        );
        tx.enqueue_message(&message, now).await?;
        Ok(())
    }

    /// "This wasn't me": signs the user out everywhere, forgets all trusted devices, blocks
    /// logins until the password is reset, and sends a reset link right away.
    pub async fn not_me(&self, raw_token: &str) -> Result<(), DomainError> {
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        let now = self.clock.now();
        let attempt = self
            .store
            .take_link_attempt(&token.hash(), LinkKind::NotMe, now, 1)
            .await?
            .ok_or(DomainError::NotFound)?;
        let user = self
            .store
            .find_user(attempt.user_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let mut tx = self.store.begin().await?;
        if !tx.use_link(&attempt.link_id, now).await? {
            return Err(DomainError::NotFound);
        }
        tx.sign_out_everywhere(user.id).await?;
        tx.set_password_reset_required(user.id, true).await?;
        self.send_reset(&mut tx, &user, now).await?;
        tx.commit().await?;
        tracing::warn!(user_id = %user.id, "'this wasn't me': signed out everywhere, reset required");
        Ok(())
    }

    pub async fn not_me_link_is_open(&self, raw_token: &str) -> Result<bool, DomainError> {
        let Ok(token) = SecretToken::parse(raw_token) else {
            return Ok(false);
        };
        Ok(self
            .store
            .link_is_open(&token.hash(), LinkKind::NotMe, self.clock.now())
            .await?)
    }
}
