//! Sending one-time codes, within the limits that keep SMS costs and guessing in check.

use jiff::{SignedDuration, Timestamp};
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::otp::{
    CODE_VALIDITY, CodePurpose, MAX_CODES_PER_HOUR, OneTimeCode, RESEND_INTERVAL,
};
use termin_storage::{NewCode, Tx, UserRecord};

use crate::Services;

impl Services {
    /// Refuses a new code when the last one for this login went out less than 30 s ago or
    /// when the user already got 5 of this kind within the hour. Runs inside `tx` after
    /// [`Tx::lock_user`], so that concurrent requests cannot all pass the count.
    pub(crate) async fn check_code_limits(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        session_id: Option<&str>,
        purpose: CodePurpose,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        if let Some(session_id) = session_id
            && let Some(last) = tx.latest_code_at(session_id, purpose).await?
        {
            let wait = RESEND_INTERVAL - now.duration_since(last);
            if wait > SignedDuration::ZERO {
                return Err(DomainError::Throttled {
                    retry_after_secs: u32::try_from(wait.as_secs().max(1)).unwrap_or(30),
                });
            }
        }
        let hour_ago = now
            .checked_sub(SignedDuration::from_hours(1))
            .unwrap_or(now);
        let sent = tx.count_codes_since(user.id, purpose, hour_ago).await?;
        if sent >= i64::from(MAX_CODES_PER_HOUR) {
            return Err(DomainError::Throttled {
                retry_after_secs: 3600,
            });
        }
        Ok(())
    }

    /// Draws a code for `purpose`, stores its hash bound to this login and puts the message
    /// carrying it into the outbox — all in `tx`.
    pub(crate) async fn send_code(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        session_id: &str,
        purpose: CodePurpose,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let code = OneTimeCode::generate().map_err(DomainError::internal)?;
        let hash = code.hash().map_err(DomainError::internal)?;
        tx.insert_code(&NewCode {
            user_id: user.id,
            session_id: session_id.to_owned(),
            purpose,
            hash,
            now,
            expires_at: now.checked_add(CODE_VALIDITY).unwrap_or(now),
        })
        .await?;
        tx.enqueue_message(&code_message(user, purpose, &code), now)
            .await?;
        Ok(())
    }
}

/// The message carrying a code, in German and English (the user's language is not known
/// before login).
fn code_message(user: &UserRecord, purpose: CodePurpose, code: &OneTimeCode) -> Message {
    let code = code.reveal();
    match purpose {
        CodePurpose::VerifyEmail => Message::email(
            &user.email,
            "Termin: Bestätigungscode / verification code",
            format!(
                "Ihr Code zur Bestätigung Ihrer E-Mail-Adresse: {code}\n\
                 Er gilt 10 Minuten. Wenn Sie kein Konto eingerichtet haben, ignorieren Sie diese E-Mail.\n\n\
                 Your code to confirm your e-mail address: {code}\n\
                 It is valid for 10 minutes. If you did not set up an account, ignore this e-mail.\n"
            ),
        ),
        CodePurpose::VerifyPhone => Message::sms(
            &user.phone,
            format!(
                "Termin: Ihr Code zur Bestätigung Ihrer Mobilnummer / your verification code: {code}"
            ),
        ),
        CodePurpose::NewDevice => Message::sms(
            &user.phone,
            format!(
                "Termin: Anmeldung auf einem neuen Gerät. Ihr Code / your login code: {code}. Nicht Sie? Passwort ändern."
            ),
        ),
    }
}
