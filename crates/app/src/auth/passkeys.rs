//! Passkeys (WebAuthn, via webauthn-rs): enrolment on the account page and the second factor
//! of a new-device login. A passkey is the strongest factor Termin offers: bound to the
//! origin, so it cannot be phished, and verified on the device (PIN or biometrics).
//!
//! Each ceremony is two requests. The challenge state lives in the database for the session,
//! so any instance can finish it, and it is taken (deleted) when answered: a challenge is
//! answered at most once.

use jiff::SignedDuration;
use termin_domain::DomainError;
use termin_domain::ids::UserId;
use termin_domain::session::SessionStage;
use termin_domain::user::UserStatus;
use termin_storage::{Ceremony, NewPasskey};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{ClientInfo, CurrentSession, LoginStep, Method};
use crate::Services;

/// How long a started ceremony may be answered.
const CEREMONY_VALIDITY: SignedDuration = SignedDuration::from_mins(5);
/// Names are shown in lists; longer ones are refused rather than cut.
const MAX_NAME_CHARS: usize = 60;

/// A passkey as the account page lists it.
#[derive(Debug, Clone)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: jiff::Timestamp,
    pub last_used_at: Option<jiff::Timestamp>,
}

impl Services {
    /// The relying party: Termin at its public origin, whose host is the RP ID.
    fn webauthn(&self) -> Result<Webauthn, DomainError> {
        let origin = Url::parse(&self.public_origin).map_err(DomainError::internal)?;
        let rp_id = origin
            .host_str()
            .ok_or_else(|| DomainError::internal("the public origin has no host"))?
            .to_owned();
        WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|b| b.rp_name("Termin").build())
            .map_err(DomainError::internal)
    }

    /// The user's passkeys as webauthn-rs credentials.
    async fn user_passkeys(&self, user: UserId) -> Result<Vec<Passkey>, DomainError> {
        self.store
            .passkeys_of(user)
            .await?
            .iter()
            .map(|r| serde_json::from_str(&r.credential).map_err(DomainError::internal))
            .collect()
    }

    /// Starts enrolling a passkey: the options for `navigator.credentials.create`.
    pub async fn start_passkey_enrolment(
        &self,
        session: &CurrentSession,
    ) -> Result<serde_json::Value, DomainError> {
        self.require_fresh(session)?;
        let user = self.session_user(session).await?;
        let existing = self.user_passkeys(user.id).await?;
        // The same authenticator cannot be registered twice.
        let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
        let user_handle = Uuid::parse_str(&user.id.to_string()).map_err(DomainError::internal)?;
        let (options, state) = self
            .webauthn()?
            .start_passkey_registration(
                user_handle,
                user.email.as_str(),
                user.email.as_str(),
                Some(exclude),
            )
            .map_err(DomainError::internal)?;
        self.keep_ceremony(session, Ceremony::Register, &state)
            .await?;
        serde_json::to_value(options).map_err(DomainError::internal)
    }

    /// Finishes an enrolment with the authenticator's answer and keeps the passkey.
    pub async fn finish_passkey_enrolment(
        &self,
        session: &CurrentSession,
        name: &str,
        credential: serde_json::Value,
    ) -> Result<String, DomainError> {
        self.require_fresh(session)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::invalid(
                "name",
                format!("give the passkey a name of 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential)
            .map_err(|_| DomainError::invalid("credential", "is not a WebAuthn registration"))?;
        let now = self.clock.now();
        let state: PasskeyRegistration = self
            .take_ceremony(session, Ceremony::Register)
            .await?
            .ok_or_else(|| DomainError::invalid("credential", "start the enrolment first"))?;
        let passkey = self
            .webauthn()?
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| {
                tracing::info!(user_id = %session.user_id, error = %e, "passkey registration refused");
                DomainError::invalid("credential", "the authenticator's answer was not accepted")
            })?;
        let credential_id = credential_id_text(&passkey);
        let stored = serde_json::to_string(&passkey).map_err(DomainError::internal)?;
        let id = self
            .store
            .insert_passkey(&NewPasskey {
                user_id: session.user_id,
                credential_id: &credential_id,
                name,
                credential: &stored,
                now,
            })
            .await?;
        tracing::info!(user_id = %session.user_id, "passkey enrolled");
        self.account_event(
            "passkey_added",
            session.user_id,
            session.client_ip.map(|ip| ip.to_string()).as_deref(),
            String::new(),
        )
        .await?;
        Ok(id)
    }

    pub async fn passkeys(
        &self,
        session: &CurrentSession,
    ) -> Result<Vec<PasskeyView>, DomainError> {
        Ok(self
            .store
            .passkeys_of(session.user_id)
            .await?
            .into_iter()
            .map(|r| PasskeyView {
                id: r.id,
                name: r.name,
                created_at: r.created_at,
                last_used_at: r.last_used_at,
            })
            .collect())
    }

    /// Removes one of the user's passkeys (another user's id is "not found"). The last
    /// strong factor of someone a practice requires one of stays: they add another first.
    pub async fn remove_passkey(
        &self,
        session: &CurrentSession,
        id: &str,
    ) -> Result<(), DomainError> {
        self.require_fresh(session)?;
        let required = self.strong_factor_required(session.user_id).await?;
        let mut tx = self.store.begin().await?;
        tx.lock_user(session.user_id).await?;
        let left = tx
            .delete_passkey_counting_rest(session.user_id, id)
            .await?
            .ok_or(DomainError::NotFound)?;
        if required && left == 0 {
            // Dropping the transaction rolls the removal back.
            return Err(DomainError::Conflict {
                code: "strong_factor_required",
                message: "your practice requires an authenticator app or a passkey: add another before removing this one".to_owned(),
            });
        }
        tx.commit().await?;
        tracing::info!(user_id = %session.user_id, "passkey removed");
        self.account_event(
            "passkey_removed",
            session.user_id,
            session.client_ip.map(|ip| ip.to_string()).as_deref(),
            String::new(),
        )
        .await?;
        Ok(())
    }

    /// Starts a passkey login for a pending login on a new device: the options for
    /// `navigator.credentials.get`, limited to this user's passkeys.
    pub async fn start_passkey_login(
        &self,
        session: &CurrentSession,
    ) -> Result<serde_json::Value, DomainError> {
        self.pending_active_user(session).await?;
        let passkeys = self.user_passkeys(session.user_id).await?;
        if passkeys.is_empty() {
            return Err(not_available());
        }
        let (options, state) = self
            .webauthn()?
            .start_passkey_authentication(&passkeys)
            .map_err(DomainError::internal)?;
        self.keep_ceremony(session, Ceremony::Authenticate, &state)
            .await?;
        serde_json::to_value(options).map_err(DomainError::internal)
    }

    /// Finishes a passkey login. Counts as a second-factor attempt (five wrong ones end the
    /// login, as for TOTP); the challenge is used once.
    pub async fn finish_passkey_login(
        &self,
        session: &CurrentSession,
        credential: serde_json::Value,
        client: &ClientInfo,
    ) -> Result<LoginStep, DomainError> {
        let user = self.pending_active_user(session).await?;
        let credential: PublicKeyCredential = serde_json::from_value(credential)
            .map_err(|_| DomainError::invalid("credential", "is not a WebAuthn assertion"))?;
        let attempt = self.begin_factor_attempt(&user, client).await?;
        let result = self
            .check_passkey_assertion(session, &user, &credential, client)
            .await;
        self.settle_factor_attempt(&attempt, &user, result).await
    }

    /// The assertion of a passkey login, checked against the ceremony's state.
    async fn check_passkey_assertion(
        &self,
        session: &CurrentSession,
        user: &termin_storage::UserRecord,
        credential: &PublicKeyCredential,
        client: &ClientInfo,
    ) -> Result<LoginStep, DomainError> {
        self.count_factor_attempt(session).await?;
        let now = self.clock.now();
        let state: PasskeyAuthentication = self
            .take_ceremony(session, Ceremony::Authenticate)
            .await?
            .ok_or(DomainError::InvalidCode)?;
        let result = self
            .webauthn()?
            .finish_passkey_authentication(credential, &state)
            .map_err(|e| {
                tracing::info!(user_id = %user.id, error = %e, "passkey assertion refused");
                DomainError::InvalidCode
            })?;
        // The state only allowed this user's credentials; find the one used and keep its
        // updated counter.
        let records = self.store.passkeys_of(user.id).await?;
        let mut used = None;
        for record in &records {
            let mut passkey: Passkey =
                serde_json::from_str(&record.credential).map_err(DomainError::internal)?;
            if passkey.cred_id() == result.cred_id() {
                passkey.update_credential(&result);
                used = Some((record.credential_id.clone(), passkey));
                break;
            }
        }
        let (credential_id, passkey) = used.ok_or(DomainError::InvalidCode)?;
        let stored = serde_json::to_string(&passkey).map_err(DomainError::internal)?;
        if !self
            .store
            .record_passkey_use(user.id, &credential_id, &stored, now)
            .await?
        {
            // Removed between the challenge and the answer.
            return Err(DomainError::InvalidCode);
        }
        let tx = self.store.begin().await?;
        self.finish_step(
            tx,
            session,
            user,
            Vec::new(),
            client,
            now,
            Method::Passkey.as_str(),
        )
        .await
    }

    /// Keeps a started ceremony's state for the session (the latest one counts).
    async fn keep_ceremony(
        &self,
        session: &CurrentSession,
        kind: Ceremony,
        state: &impl serde::Serialize,
    ) -> Result<(), DomainError> {
        let state = serde_json::to_string(state).map_err(DomainError::internal)?;
        let expires = self.clock.now() + CEREMONY_VALIDITY;
        self.store
            .put_ceremony(&session.session_id, kind, &state, expires)
            .await?;
        Ok(())
    }

    /// Takes the session's ceremony state (it is gone afterwards); `None` when there is
    /// none or it expired.
    async fn take_ceremony<T: serde::de::DeserializeOwned>(
        &self,
        session: &CurrentSession,
        kind: Ceremony,
    ) -> Result<Option<T>, DomainError> {
        self.store
            .take_ceremony(&session.session_id, kind, self.clock.now())
            .await?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(DomainError::internal)
    }

    /// The user of a login waiting for its second factor on a new device.
    pub(super) async fn pending_active_user(
        &self,
        session: &CurrentSession,
    ) -> Result<termin_storage::UserRecord, DomainError> {
        let user = self.session_user(session).await?;
        if user.status != UserStatus::Active || session.stage != SessionStage::Pending {
            return Err(not_available());
        }
        Ok(user)
    }
}

fn not_available() -> DomainError {
    DomainError::invalid("method", "is not available for this login")
}

/// The credential id as base64url text, as the browser reports it.
fn credential_id_text(passkey: &Passkey) -> String {
    use base64::Engine as _;
    let id: &[u8] = passkey.cred_id().as_ref();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}
