//! TOTP secrets, recovery codes and the per-login count of wrong second factors.

use jiff::Timestamp;
use termin_domain::ids::UserId;
use termin_domain::otp::CodeHash;

use crate::time::to_db;
use crate::{Store, StoreResult, Tx};

/// A user's TOTP secrets (base32): the active one and one being enrolled.
#[derive(Clone, Default)]
pub struct TotpSecrets {
    pub active: Option<String>,
    pub pending: Option<String>,
}

impl std::fmt::Debug for TotpSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpSecrets")
            .field("active", &self.active.is_some())
            .field("pending", &self.pending.is_some())
            .finish()
    }
}

impl Store {
    /// Ends a login whose second factor was guessed at too often.
    pub async fn end_login(&self, session_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND stage = 'pending'")
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn totp_secrets(&self, user: UserId) -> StoreResult<TotpSecrets> {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT totp_secret, totp_pending_secret FROM users WHERE id = $1")
                .bind(user.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(
            row.map_or_else(TotpSecrets::default, |(active, pending)| TotpSecrets {
                active,
                pending,
            }),
        )
    }

    /// Starts (or restarts) an enrolment; the active secret, if any, stays until confirmed.
    pub async fn set_pending_totp(&self, user: UserId, secret: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many unused recovery codes the user has.
    pub async fn unused_recovery_codes(&self, user: UserId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Counts one second-factor attempt of a pending login; `false` once five were made.
    pub async fn take_factor_attempt(&self, session_id: &str, max: u32) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE sessions SET factor_failures = factor_failures + 1 \
             WHERE id = $1 AND factor_failures < $2 AND stage = 'pending'",
        )
        .bind(session_id)
        .bind(i64::from(max))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

impl Tx {
    /// Makes the enrolled secret the active one and records `step` as used — only if the
    /// pending secret is still `checked` (an enrolment restarted meanwhile wins nothing).
    pub async fn activate_totp(
        &mut self,
        user: UserId,
        checked: &str,
        step: u64,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
             totp_last_step = $1 WHERE id = $2 AND totp_pending_secret = $3",
        )
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(user.to_string())
        .bind(checked)
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Accepts a TOTP step once: `false` if it (or a later one) was accepted before.
    pub async fn accept_totp_step(&mut self, user: UserId, step: u64) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(user.to_string())
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Replaces the user's recovery codes with new ones (given as salted hashes).
    pub async fn replace_recovery_codes(
        &mut self,
        user: UserId,
        hashes: &[CodeHash],
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(user.to_string())
            .bind(hash.to_stored())
            .bind(to_db(now))
            .execute(&mut *self.inner)
            .await?;
        }
        Ok(())
    }

    /// Uses the recovery code `canonical` once; `false` if no unused code matches or another
    /// request used it first. Each stored code has its own salt, so the user's (at most ten)
    /// unused codes are compared one by one, in constant time each.
    pub async fn use_recovery_code(
        &mut self,
        user: UserId,
        canonical: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        let matching = rows.into_iter().find(|(_, stored)| {
            CodeHash::from_stored(stored).is_some_and(|hash| hash.matches(canonical))
        });
        let Some((id, _)) = matching else {
            return Ok(false);
        };
        let result =
            sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(to_db(now))
                .bind(id)
                .execute(&mut *self.inner)
                .await?;
        Ok(result.rows_affected() == 1)
    }
}
