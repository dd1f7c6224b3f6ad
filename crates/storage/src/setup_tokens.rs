//! One-time set-up links (first run). Stored hashed; "used once" is a single conditional
//! UPDATE, so two requests (on one instance or several) can never both use a token.

use jiff::Timestamp;
use termin_domain::token::TokenHash;

use crate::time::to_db;
use crate::{Store, StoreResult, Tx};

impl Store {
    pub async fn insert_setup_token(
        &self,
        hash: &TokenHash,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(hash.to_hex())
        .bind(to_db(created_at))
        .bind(to_db(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the token exists, is unused and has not expired at `now`.
    pub async fn setup_token_is_usable(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM setup_tokens \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash.to_hex())
        .bind(to_db(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}

impl Tx {
    /// Marks the token used; `false` when it is unknown, used or expired.
    pub async fn consume_setup_token(
        &mut self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE setup_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(to_db(now))
        .bind(hash.to_hex())
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Marks every outstanding set-up token used: once a practice exists, no other link
    /// printed earlier (by this or another instance) may create one.
    pub async fn retire_setup_tokens(&mut self, now: Timestamp) -> StoreResult<u64> {
        let result = sqlx::query("UPDATE setup_tokens SET used_at = $1 WHERE used_at IS NULL")
            .bind(to_db(now))
            .execute(&mut *self.inner)
            .await?;
        Ok(result.rows_affected())
    }
}
