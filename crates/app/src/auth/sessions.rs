//! The user's own sessions (seed promise S6): see every signed-in browser and device, end
//! one, every other, or all. Ending deletes the session row, so every instance refuses its
//! cookie from the next request on.

use termin_domain::DomainError;
use termin_domain::session::{SessionStage, device_name, session_alive};

use super::CurrentSession;
use crate::Services;

/// A session as the session list shows it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: String,
    pub created_at: jiff::Timestamp,
    pub last_seen_at: jiff::Timestamp,
    pub ip: String,
    pub user_agent: String,
    /// "Firefox on Linux", from the user agent.
    pub device: String,
    pub current: bool,
}

impl Services {
    /// The user's signed-in sessions (logins still waiting for a second step are not
    /// sessions yet), most recently active first.
    pub async fn sessions(
        &self,
        session: &CurrentSession,
    ) -> Result<Vec<SessionView>, DomainError> {
        let now = self.clock.now();
        Ok(self
            .store
            .sessions_of(session.user_id)
            .await?
            .into_iter()
            .filter(|s| {
                s.stage == SessionStage::Authenticated
                    && session_alive(s.stage, s.created_at, s.last_seen_at, now, s.limits)
            })
            .map(|s| SessionView {
                current: s.id == session.session_id,
                device: device_name(&s.user_agent),
                id: s.id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends one of the user's sessions; another user's session id is "not found".
    pub async fn end_session(&self, session: &CurrentSession, id: &str) -> Result<(), DomainError> {
        if self.store.delete_session_of(session.user_id, id).await? {
            tracing::info!(user_id = %session.user_id, "session ended by its user");
            self.account_event(
                "sessions_ended",
                session.user_id,
                session.client_ip.map(|ip| ip.to_string()).as_deref(),
                "1 session ended by its user".to_owned(),
            )
            .await?;
            Ok(())
        } else {
            Err(DomainError::NotFound)
        }
    }

    /// Ends all the user's sessions, or all but the current one.
    pub async fn end_all_sessions(
        &self,
        session: &CurrentSession,
        keep_current: bool,
    ) -> Result<u64, DomainError> {
        let keep = keep_current.then_some(session.session_id.as_str());
        let ended = self.store.delete_sessions_of(session.user_id, keep).await?;
        tracing::info!(user_id = %session.user_id, ended, keep_current, "sessions ended by their user");
        self.account_event(
            "sessions_ended",
            session.user_id,
            session.client_ip.map(|ip| ip.to_string()).as_deref(),
            format!("{ended} sessions ended by their user"),
        )
        .await?;
        Ok(ended)
    }
}
