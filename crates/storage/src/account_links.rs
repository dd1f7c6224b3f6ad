//! Links sent by e-mail that act on an account: password resets and "this wasn't me".
//! Tokens are stored as hashes; each link is used once.

use jiff::Timestamp;
use sqlx::Row;
use termin_domain::ids::UserId;
use termin_domain::otp::CodeHash;
use termin_domain::token::TokenHash;

use crate::time::to_db;
use crate::{StorageError, Store, StoreResult, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Reset,
    NotMe,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            LinkKind::Reset => "reset",
            LinkKind::NotMe => "not_me",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewLink {
    pub user_id: UserId,
    pub kind: LinkKind,
    pub token_hash: TokenHash,
    pub code_hash: Option<CodeHash>,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// A reset link whose attempt was counted, for comparing its code.
#[derive(Debug, Clone)]
pub struct LinkAttempt {
    pub link_id: String,
    pub user_id: UserId,
    pub code_hash: Option<CodeHash>,
}

impl Tx {
    pub async fn insert_link(&mut self, link: &NewLink) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO account_links (id, user_id, kind, token_hash, code_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(link.user_id.to_string())
        .bind(link.kind.as_str())
        .bind(link.token_hash.to_hex())
        .bind(link.code_hash.as_ref().map(CodeHash::to_stored))
        .bind(to_db(link.now))
        .bind(to_db(link.expires_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// How many links of `kind` the user got since `since` (for the hourly cap).
    pub async fn count_links_since(
        &mut self,
        user: UserId,
        kind: LinkKind,
        since: Timestamp,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_links WHERE user_id = $1 AND kind = $2 AND created_at >= $3",
        )
        .bind(user.to_string())
        .bind(kind.as_str())
        .bind(to_db(since))
        .fetch_one(&mut *self.inner)
        .await?)
    }

    /// Retires every open link of `kind` of the user (after a reset, the others are moot).
    pub async fn retire_links(
        &mut self,
        user: UserId,
        kind: LinkKind,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND kind = $3 AND used_at IS NULL")
            .bind(to_db(now))
            .bind(user.to_string())
            .bind(kind.as_str())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Uses a link up; `false` if another request used it first.
    pub async fn use_link(&mut self, link_id: &str, now: Timestamp) -> StoreResult<bool> {
        let result =
            sqlx::query("UPDATE account_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(to_db(now))
                .bind(link_id)
                .execute(&mut *self.inner)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Ends every session and forgets every trusted device of the user.
    pub async fn sign_out_everywhere(&mut self, user: UserId) -> StoreResult<()> {
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM trusted_devices WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(user.to_string())
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    pub async fn set_password_reset_required(
        &mut self,
        user: UserId,
        required: bool,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_reset_required = $1 WHERE id = $2")
            .bind(i64::from(required))
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Counts one attempt on an open link of `kind` (at most `max`) and returns it.
    pub async fn take_link_attempt(
        &self,
        token: &TokenHash,
        kind: LinkKind,
        now: Timestamp,
        max: u32,
    ) -> StoreResult<Option<LinkAttempt>> {
        let row = sqlx::query(
            "UPDATE account_links SET attempts = attempts + 1 \
             WHERE token_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4 \
             RETURNING id, user_id, code_hash",
        )
        .bind(token.to_hex())
        .bind(kind.as_str())
        .bind(to_db(now))
        .bind(i64::from(max))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let code: Option<String> = row.try_get("code_hash")?;
            Ok(LinkAttempt {
                link_id: row.try_get("id")?,
                user_id: row
                    .try_get::<String, _>("user_id")?
                    .parse()
                    .map_err(|_| StorageError::Corrupt("account_links.user_id".into()))?,
                code_hash: code.as_deref().and_then(CodeHash::from_stored),
            })
        })
        .transpose()
    }

    /// Whether a link of `kind` is open (for its page), without counting an attempt.
    pub async fn link_is_open(
        &self,
        token: &TokenHash,
        kind: LinkKind,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_links WHERE token_hash = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token.to_hex())
        .bind(kind.as_str())
        .bind(to_db(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    pub async fn password_reset_required(&self, user: UserId) -> StoreResult<bool> {
        let flag: i64 =
            sqlx::query_scalar("SELECT password_reset_required FROM users WHERE id = $1")
                .bind(user.to_string())
                .fetch_one(&self.pool)
                .await?;
        Ok(flag != 0)
    }
}

impl Store {
    /// The user an open link belongs to, without counting an attempt.
    pub async fn open_link_user(
        &self,
        token: &TokenHash,
        kind: LinkKind,
        now: Timestamp,
    ) -> StoreResult<Option<UserId>> {
        let user: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM account_links WHERE token_hash = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3 AND attempts < 5",
        )
        .bind(token.to_hex())
        .bind(kind.as_str())
        .bind(to_db(now))
        .fetch_optional(&self.pool)
        .await?;
        user.map(|u| {
            u.parse()
                .map_err(|_| StorageError::Corrupt("account_links.user_id".into()))
        })
        .transpose()
    }
}
