//! Recognising the caller from the session cookie.

use jiff::SignedDuration;
use termin_domain::DomainError;
use termin_domain::ids::UserId;
use termin_domain::session::{SessionStage, freshly_authenticated, session_alive};
use termin_domain::token::SecretToken;
use termin_storage::SessionRecord;

use crate::Services;

/// The session a request belongs to.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub session_id: String,
    pub user_id: UserId,
    pub stage: SessionStage,
    /// The address this request comes from (behind trusted proxies: the client's).
    pub client_ip: Option<std::net::IpAddr>,
    record: SessionRecord,
}

impl CurrentSession {
    /// Constant-time check of the `X-CSRF-Token` header against this session's token.
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        let Some(token) = presented.and_then(|p| SecretToken::parse(p).ok()) else {
            return false;
        };
        token.hash().ct_eq(&self.record.csrf_hash)
    }
}

/// Last-seen times are written at most this often, to spare the database a write per request.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

impl Services {
    /// The live session for a cookie value, or `None`. An expired session is deleted.
    pub async fn resolve_session(
        &self,
        cookie: &str,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<Option<CurrentSession>, DomainError> {
        let Ok(token) = SecretToken::parse(cookie) else {
            return Ok(None);
        };
        let Some(record) = self.store.find_session_by_token(&token.hash()).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if !session_alive(
            record.stage,
            record.created_at,
            record.last_seen_at,
            now,
            record.limits,
        ) {
            self.store.delete_session(&record.id).await?;
            return Ok(None);
        }
        if now.duration_since(record.last_seen_at) >= TOUCH_EVERY {
            self.store.touch_session(&record.id, now).await?;
        }
        Ok(Some(CurrentSession {
            session_id: record.id.clone(),
            user_id: record.user_id,
            stage: record.stage,
            client_ip,
            record,
        }))
    }

    /// Refuses a sensitive action unless the password was entered within the last ten
    /// minutes (at the login or again since).
    pub fn require_fresh(&self, session: &CurrentSession) -> Result<(), DomainError> {
        if freshly_authenticated(session.record.authenticated_at, self.clock.now()) {
            Ok(())
        } else {
            Err(DomainError::ReauthenticationRequired)
        }
    }

    /// Confirms the password of a signed-in user for the sensitive actions of the next ten
    /// minutes. The session gets new tokens: its privileges changed. Wrong passwords count
    /// against the account like at the login.
    pub async fn reauthenticate(
        &self,
        session: &CurrentSession,
        password: &termin_domain::password::Password,
        client: &super::ClientInfo,
    ) -> Result<super::LoginStep, DomainError> {
        if session.stage != SessionStage::Authenticated {
            return Err(DomainError::Unauthenticated);
        }
        let user = self.session_user(session).await?;
        self.check_current_password(&user, password, client).await?;
        let session_token = SecretToken::generate().map_err(DomainError::internal)?;
        let csrf_token = session_token.derive("csrf");
        let now = self.clock.now();
        if !self
            .store
            .reauthenticate_session(
                &session.session_id,
                &session_token.hash(),
                &csrf_token.hash(),
                now,
            )
            .await?
        {
            return Err(DomainError::Unauthenticated);
        }
        tracing::info!(user_id = %user.id, "password confirmed for sensitive actions");
        Ok(super::LoginStep {
            status: super::LoginStatus::Authenticated,
            session_token,
            csrf_token,
            device_token: None,
        })
    }

    /// Ends the session (the row is deleted).
    pub async fn logout(&self, session: &CurrentSession) -> Result<(), DomainError> {
        Ok(self.store.delete_session(&session.session_id).await?)
    }
}

/// What `GET /api/v1/me` shows.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: termin_storage::UserRecord,
    pub memberships: Vec<termin_storage::Membership>,
}

impl Services {
    /// The account a session belongs to; a session whose user is gone is no session.
    pub(crate) async fn session_user(
        &self,
        session: &CurrentSession,
    ) -> Result<termin_storage::UserRecord, DomainError> {
        self.store
            .find_user(session.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)
    }

    pub async fn me(&self, session: &CurrentSession) -> Result<Me, DomainError> {
        let user = self.session_user(session).await?;
        let memberships = self.store.memberships_of(user.id).await?;
        Ok(Me { user, memberships })
    }
}

impl Services {
    /// What a pending login still needs (for the verification page).
    pub async fn pending_step(
        &self,
        session: &CurrentSession,
    ) -> Result<super::LoginStatus, DomainError> {
        let user = self.session_user(session).await?;
        Ok(match (session.stage, user.status) {
            (SessionStage::Authenticated, _) => super::LoginStatus::Authenticated,
            (_, termin_domain::user::UserStatus::VerificationPending) => {
                super::LoginStatus::VerificationRequired {
                    pending: super::login::pending_contacts(&user),
                }
            }
            _ => super::LoginStatus::SecondFactorRequired {
                methods: self.second_factors(user.id).await?,
            },
        })
    }
}
