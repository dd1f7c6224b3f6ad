//! The signed-in user's own account: password change and trusted devices.

use termin_domain::DomainError;
use termin_domain::password::Password;
use termin_domain::token::SecretToken;
use termin_storage::DeviceRecord;

use super::{ClientInfo, CurrentSession};
use crate::Services;

/// A trusted device as shown to its owner.
#[derive(Debug, Clone)]
pub struct DeviceView {
    pub device: DeviceRecord,
    /// The device this request comes from.
    pub current: bool,
}

impl Services {
    /// Changes the password after checking the current one. With `end_other_sessions`,
    /// every other session of the user ends (this one stays).
    pub async fn change_password(
        &self,
        session: &CurrentSession,
        current: &Password,
        new: &Password,
        end_other_sessions: bool,
        client: &ClientInfo,
    ) -> Result<(), DomainError> {
        let user = self.session_user(session).await?;
        self.check_current_password(&user, current, client).await?;
        self.check_new_password(&user, new).await?;
        let phc = self.hasher.hash(new).await?;
        let now = self.clock.now();
        self.store.set_password_hash(user.id, &phc, now).await?;
        let ended = if end_other_sessions {
            self.store
                .delete_sessions_of(user.id, Some(&session.session_id))
                .await?
        } else {
            0
        };
        tracing::info!(user_id = %user.id, other_sessions_ended = ended, "password changed");
        self.account_event(
            "password_changed",
            user.id,
            Some(&client.ip),
            format!("{ended} other sessions ended"),
        )
        .await?;
        Ok(())
    }

    pub async fn trusted_devices(
        &self,
        session: &CurrentSession,
        device_cookie: Option<&str>,
    ) -> Result<Vec<DeviceView>, DomainError> {
        let current = match device_cookie.and_then(|c| SecretToken::parse(c).ok()) {
            Some(token) => {
                self.store
                    .trusted_device_id(&token.hash(), session.user_id)
                    .await?
            }
            None => None,
        };
        let devices = self
            .store
            .trusted_devices_of(session.user_id, self.clock.now())
            .await?;
        Ok(devices
            .into_iter()
            .map(|device| DeviceView {
                current: current.as_deref() == Some(device.id.as_str()),
                device,
            })
            .collect())
    }

    /// Removes one of the user's trusted devices; its next login needs a code again.
    pub async fn remove_trusted_device(
        &self,
        session: &CurrentSession,
        id: &str,
    ) -> Result<(), DomainError> {
        if self
            .store
            .delete_trusted_device(session.user_id, id)
            .await?
        {
            Ok(())
        } else {
            Err(DomainError::NotFound)
        }
    }
}
