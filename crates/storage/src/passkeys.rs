//! Passkeys (WebAuthn credentials) and the server-side state of a WebAuthn ceremony. The
//! storage layer keeps both as opaque JSON: what they mean is webauthn-rs's business.

use jiff::Timestamp;
use sqlx::Row;
use termin_domain::ids::UserId;

use crate::time::{from_db, to_db};
use crate::{Store, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewPasskey<'a> {
    pub user_id: UserId,
    /// The credential id, base64url.
    pub credential_id: &'a str,
    pub name: &'a str,
    /// The credential as JSON.
    pub credential: &'a str,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub id: String,
    pub credential_id: String,
    pub name: String,
    pub credential: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Which WebAuthn ceremony a stored challenge belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Register,
    Authenticate,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Ceremony::Register => "register",
            Ceremony::Authenticate => "authenticate",
        }
    }
}

impl Store {
    pub async fn insert_passkey(&self, passkey: &NewPasskey<'_>) -> StoreResult<String> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO passkeys (id, user_id, credential_id, name, credential, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(passkey.user_id.to_string())
        .bind(passkey.credential_id)
        .bind(passkey.name)
        .bind(passkey.credential)
        .bind(to_db(passkey.now))
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys_of(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, credential_id, name, credential, created_at, last_used_at \
             FROM passkeys WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let last_used: Option<i64> = row.try_get("last_used_at")?;
                Ok(PasskeyRecord {
                    id: row.try_get("id")?,
                    credential_id: row.try_get("credential_id")?,
                    name: row.try_get("name")?,
                    credential: row.try_get("credential")?,
                    created_at: from_db(row.try_get("created_at")?)?,
                    last_used_at: last_used.map(from_db).transpose()?,
                })
            })
            .collect()
    }

    /// Records a use of the user's passkey, with its credential as updated by the
    /// authentication (signature counter, backup state); `false` if it is not theirs.
    pub async fn record_passkey_use(
        &self,
        user: UserId,
        credential_id: &str,
        credential: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE passkeys SET credential = $1, last_used_at = $2 \
             WHERE user_id = $3 AND credential_id = $4",
        )
        .bind(credential)
        .bind(to_db(now))
        .bind(user.to_string())
        .bind(credential_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn has_passkeys(&self, user: UserId) -> StoreResult<bool> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }

    /// Keeps the state of a started ceremony for this session, replacing an earlier one of
    /// the same kind (only the latest challenge can be answered).
    pub async fn put_ceremony(
        &self,
        session_id: &str,
        kind: Ceremony,
        state: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (session_id, kind, state, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, kind) \
             DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at",
        )
        .bind(session_id)
        .bind(kind.as_str())
        .bind(state)
        .bind(to_db(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the state of the session's ceremony: it is removed, so a challenge is answered
    /// at most once; `None` when there is none or it expired.
    pub async fn take_ceremony(
        &self,
        session_id: &str,
        kind: Ceremony,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM webauthn_ceremonies WHERE session_id = $1 AND kind = $2 \
             RETURNING state, expires_at",
        )
        .bind(session_id)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(state, expires)| (expires > to_db(now)).then_some(state)))
    }
}

impl Tx {
    /// Removes one of `user`'s passkeys and returns how many strong factors (passkeys and an
    /// active authenticator app) they have left, or `None` if it is not theirs or unknown.
    /// Call it after `lock_user`, so that two removals cannot both see a factor left.
    pub async fn delete_passkey_counting_rest(
        &mut self,
        user: UserId,
        id: &str,
    ) -> StoreResult<Option<i64>> {
        let deleted = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        if deleted.rows_affected() != 1 {
            return Ok(None);
        }
        let passkeys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_one(&mut *self.inner)
            .await?;
        let totp: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE id = $1 AND totp_secret IS NOT NULL",
        )
        .bind(user.to_string())
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(Some(passkeys + totp))
    }
}
