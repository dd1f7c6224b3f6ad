//! One-time codes. Trying a code is one conditional UPDATE that counts the attempt first:
//! however many requests race, a code is evaluated at most `max_attempts` times.

use jiff::Timestamp;
use sqlx::Row;
use termin_domain::ids::UserId;
use termin_domain::otp::{CodeHash, CodePurpose};

use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewCode {
    pub user_id: UserId,
    pub session_id: String,
    pub purpose: CodePurpose,
    pub hash: CodeHash,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// A code whose attempt was counted and which may now be compared.
#[derive(Debug, Clone)]
pub struct CodeAttempt {
    pub code_id: String,
    pub hash: CodeHash,
}

impl Tx {
    pub async fn insert_code(&mut self, code: &NewCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO one_time_codes (id, user_id, session_id, purpose, code_hash, created_at, \
             expires_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(code.user_id.to_string())
        .bind(&code.session_id)
        .bind(code.purpose.as_str())
        .bind(code.hash.to_stored())
        .bind(to_db(code.now))
        .bind(to_db(code.expires_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Counts one attempt on the newest live code of `purpose` for this login and returns
    /// it for comparison; `None` when there is no such code, it expired, was used, or its
    /// attempts are exhausted. Only the newest code counts: sending a new one retires the
    /// old.
    pub async fn take_code_attempt(
        &self,
        session_id: &str,
        purpose: CodePurpose,
        now: Timestamp,
        max_attempts: u32,
    ) -> StoreResult<Option<CodeAttempt>> {
        let row = sqlx::query(
            "UPDATE one_time_codes SET attempts = attempts + 1 \
             WHERE id = (SELECT id FROM one_time_codes WHERE session_id = $1 AND purpose = $2 \
                         ORDER BY created_at DESC, id DESC LIMIT 1) \
               AND attempts < $3 AND used_at IS NULL AND expires_at >= $4 \
             RETURNING id, code_hash",
        )
        .bind(session_id)
        .bind(purpose.as_str())
        .bind(i64::from(max_attempts))
        .bind(to_db(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let stored: String = row.try_get("code_hash")?;
            Ok(CodeAttempt {
                code_id: row.try_get("id")?,
                hash: CodeHash::from_stored(&stored)
                    .ok_or_else(|| StorageError::Corrupt("one_time_codes.code_hash".into()))?,
            })
        })
        .transpose()
    }
}

impl Tx {
    /// How many codes of `purpose` were sent to `user` since `since` (for the hourly cap).
    pub async fn count_codes_since(
        &mut self,
        user: UserId,
        purpose: CodePurpose,
        since: Timestamp,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_time_codes WHERE user_id = $1 AND purpose = $2 AND created_at >= $3",
        )
        .bind(user.to_string())
        .bind(purpose.as_str())
        .bind(to_db(since))
        .fetch_one(&mut *self.inner)
        .await?)
    }

    /// When the newest code of `purpose` for this login was sent.
    pub async fn latest_code_at(
        &mut self,
        session_id: &str,
        purpose: CodePurpose,
    ) -> StoreResult<Option<Timestamp>> {
        let latest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(created_at) FROM one_time_codes WHERE session_id = $1 AND purpose = $2",
        )
        .bind(session_id)
        .bind(purpose.as_str())
        .fetch_one(&mut *self.inner)
        .await?;
        latest.map(from_db).transpose()
    }

    /// Uses the code up; `false` if another request used it first.
    pub async fn mark_code_used(&mut self, code_id: &str, now: Timestamp) -> StoreResult<bool> {
        let result =
            sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(to_db(now))
                .bind(code_id)
                .execute(&mut *self.inner)
                .await?;
        Ok(result.rows_affected() == 1)
    }
}
