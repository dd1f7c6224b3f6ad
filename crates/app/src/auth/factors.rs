//! TOTP enrolment and the stronger second factors at login: TOTP codes and recovery codes.

use termin_domain::DomainError;
use termin_domain::totp::{RECOVERY_CODE_COUNT, RecoveryCode, TotpSecret};

use super::{ClientInfo, CurrentSession, LoginStep, MAX_FACTOR_ATTEMPTS, Method};
use crate::Services;

/// What the enrolment page shows once: the secret as QR code and as text.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
    /// The otpauth URL as an SVG QR code.
    pub qr_svg: String,
}

impl Services {
    /// Starts TOTP enrolment with a fresh secret. It becomes active only when a code from
    /// the app confirms it.
    pub async fn start_totp_enrolment(
        &self,
        session: &CurrentSession,
    ) -> Result<TotpEnrolment, DomainError> {
        self.require_fresh(session)?;
        let user = self.session_user(session).await?;
        let secret = TotpSecret::generate().map_err(DomainError::internal)?;
        let otpauth_url = secret
            .otpauth_url(user.email.as_str())
            .ok_or_else(|| DomainError::internal("cannot build the otpauth URL"))?;
        let qr_svg = qrcode::QrCode::new(otpauth_url.as_bytes())
            .map_err(DomainError::internal)?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build();
        self.store
            .set_pending_totp(user.id, &secret.to_base32())
            .await?;
        Ok(TotpEnrolment {
            secret_base32: secret.to_base32(),
            otpauth_url,
            qr_svg,
        })
    }

    /// Confirms the enrolment with a code from the app, activates TOTP and returns ten new
    /// recovery codes (shown once; only their hashes are kept).
    pub async fn confirm_totp(
        &self,
        session: &CurrentSession,
        code: &str,
    ) -> Result<Vec<RecoveryCode>, DomainError> {
        self.require_fresh(session)?;
        let pending = self
            .store
            .totp_secrets(session.user_id)
            .await?
            .pending
            .ok_or_else(|| DomainError::invalid("code", "start the enrolment first"))?;
        let secret = TotpSecret::from_base32(&pending).map_err(DomainError::internal)?;
        let now = self.clock.now();
        let step = secret
            .matching_step(code, now)
            .ok_or(DomainError::InvalidCode)?;
        let codes: Vec<RecoveryCode> = (0..RECOVERY_CODE_COUNT)
            .map(|_| RecoveryCode::generate())
            .collect::<Result<_, _>>()
            .map_err(DomainError::internal)?;
        let hashes = codes
            .iter()
            .map(RecoveryCode::hash)
            .collect::<Result<Vec<_>, _>>()
            .map_err(DomainError::internal)?;
        let mut tx = self.store.begin().await?;
        if !tx.activate_totp(session.user_id, &pending, step).await? {
            return Err(DomainError::invalid("code", "start the enrolment first"));
        }
        tx.replace_recovery_codes(session.user_id, &hashes, now)
            .await?;
        tx.commit().await?;
        tracing::info!(user_id = %session.user_id, "TOTP enabled; recovery codes issued");
        self.account_event(
            "totp_enabled",
            session.user_id,
            session.client_ip.map(|ip| ip.to_string()).as_deref(),
            String::new(),
        )
        .await?;
        Ok(codes)
    }

    /// The second factors this user may use on a new device, weakest (SMS) first. SMS is
    /// left out when a practice of theirs requires a strong factor and they have one.
    pub(crate) async fn second_factors(
        &self,
        user: termin_domain::ids::UserId,
    ) -> Result<Vec<Method>, DomainError> {
        let mut strong = Vec::new();
        if self.store.totp_secrets(user).await?.active.is_some() {
            strong.push(Method::Totp);
        }
        if self.store.has_passkeys(user).await? {
            strong.push(Method::Passkey);
        }
        let mut methods = Vec::new();
        if strong.is_empty() || !self.strong_factor_required(user).await? {
            methods.push(Method::Sms);
        }
        methods.extend(strong);
        if self.store.unused_recovery_codes(user).await? > 0 {
            methods.push(Method::RecoveryCode);
        }
        Ok(methods)
    }

    /// A TOTP or recovery code for a new-device login. Five wrong tries end the login; a TOTP
    /// step and a recovery code are each accepted once.
    async fn verify_factor(
        &self,
        session: &CurrentSession,
        method: Method,
        presented: &str,
        client: &ClientInfo,
    ) -> Result<LoginStep, DomainError> {
        let user = self.pending_active_user(session).await?;
        self.count_factor_attempt(session).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let accepted = match method {
            Method::Totp => {
                let secret = self
                    .store
                    .totp_secrets(user.id)
                    .await?
                    .active
                    .ok_or_else(|| DomainError::invalid("method", "TOTP is not set up"))?;
                let secret = TotpSecret::from_base32(&secret).map_err(DomainError::internal)?;
                match secret.matching_step(presented, now) {
                    Some(step) => tx.accept_totp_step(user.id, step).await?,
                    None => false,
                }
            }
            Method::RecoveryCode => {
                tx.use_recovery_code(user.id, &RecoveryCode::canonical(presented), now)
                    .await?
            }
            Method::Sms | Method::Email | Method::Passkey => false,
        };
        if !accepted {
            tracing::info!(user_id = %user.id, method = method.as_str(), "wrong second factor");
            return Err(DomainError::InvalidCode);
        }
        self.finish_step(tx, session, &user, Vec::new(), client, now, method.as_str())
            .await
    }

    /// Counts one TOTP, recovery-code or passkey attempt of a pending login, before anything
    /// is compared. The sixth ends the login: a new one starts with the password.
    pub(crate) async fn count_factor_attempt(
        &self,
        session: &CurrentSession,
    ) -> Result<(), DomainError> {
        if self
            .store
            .take_factor_attempt(&session.session_id, MAX_FACTOR_ATTEMPTS)
            .await?
        {
            return Ok(());
        }
        self.store.end_login(&session.session_id).await?;
        Err(DomainError::InvalidCode)
    }

    /// The second step of a login, by whichever method the user chose. Each try also
    /// counts against the account (S8): wrong codes lock it like wrong passwords.
    pub async fn verify(
        &self,
        session: &CurrentSession,
        method: Method,
        presented: &str,
        client: &ClientInfo,
    ) -> Result<LoginStep, DomainError> {
        let user = self.session_user(session).await?;
        let attempt = self.begin_factor_attempt(&user, client).await?;
        let result = match method {
            Method::Sms | Method::Email => {
                self.verify_code(session, method, presented, client).await
            }
            Method::Totp | Method::RecoveryCode => {
                self.verify_factor(session, method, presented, client).await
            }
            // A passkey answers with a credential, not a code: see `finish_passkey_login`.
            Method::Passkey => Err(DomainError::invalid(
                "credential",
                "a passkey login sends the authenticator's answer",
            )),
        };
        self.settle_factor_attempt(&attempt, &user, result).await
    }
}

impl Services {
    /// Whether the user has an active authenticator app.
    pub async fn totp_active(&self, session: &CurrentSession) -> Result<bool, DomainError> {
        Ok(self
            .store
            .totp_secrets(session.user_id)
            .await?
            .active
            .is_some())
    }
}
