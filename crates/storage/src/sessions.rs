//! Sessions (logins). The cookie's token and the CSRF token are stored only as hashes.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::UserId;
use termin_domain::session::{SessionLimits, SessionStage};
use termin_domain::token::TokenHash;

use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub token_hash: TokenHash,
    pub csrf_hash: TokenHash,
    pub user_id: UserId,
    pub stage: SessionStage,
    pub now: Timestamp,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: UserId,
    pub stage: SessionStage,
    pub csrf_hash: TokenHash,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub authenticated_at: Option<Timestamp>,
    pub ip: String,
    pub user_agent: String,
    /// The strictest session limits of the user's practices (the defaults without any).
    pub limits: SessionLimits,
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("sessions.{what}"))
}

fn session_from_row(row: &AnyRow) -> StoreResult<SessionRecord> {
    let authenticated_at: Option<i64> = row.try_get("authenticated_at")?;
    Ok(SessionRecord {
        id: row.try_get("id")?,
        user_id: row
            .try_get::<String, _>("user_id")?
            .parse()
            .map_err(|_| corrupt("user_id"))?,
        stage: SessionStage::parse(&row.try_get::<String, _>("stage")?)
            .ok_or_else(|| corrupt("stage"))?,
        csrf_hash: TokenHash::from_hex(&row.try_get::<String, _>("csrf_hash")?)
            .map_err(|_| corrupt("csrf_hash"))?,
        created_at: from_db(row.try_get("created_at")?)?,
        last_seen_at: from_db(row.try_get("last_seen_at")?)?,
        authenticated_at: authenticated_at.map(from_db).transpose()?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        limits: {
            let defaults = SessionLimits::default();
            let idle: Option<i64> = row.try_get("idle_limit")?;
            let max: Option<i64> = row.try_get("max_limit")?;
            SessionLimits::from_stored(
                idle.unwrap_or(defaults.idle_minutes()),
                max.unwrap_or(defaults.absolute_hours()),
            )
            .ok_or_else(|| corrupt("session limits"))?
        },
    })
}

/// A session's columns, with the strictest limits of its user's practices.
const COLUMNS: &str = "s.id, s.user_id, s.stage, s.csrf_hash, s.created_at, s.last_seen_at, \
    s.authenticated_at, s.ip, s.user_agent, \
    (SELECT MIN(o.session_idle_minutes) FROM memberships m JOIN organizations o \
     ON o.id = m.org_id WHERE m.user_id = s.user_id) AS idle_limit, \
    (SELECT MIN(o.session_max_hours) FROM memberships m JOIN organizations o \
     ON o.id = m.org_id WHERE m.user_id = s.user_id) AS max_limit";

impl Store {
    pub async fn find_session_by_token(
        &self,
        token: &TokenHash,
    ) -> StoreResult<Option<SessionRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions s WHERE s.token_hash = $1"
        )))
        .bind(token.to_hex())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    pub async fn touch_session(&self, id: &str, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(to_db(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A signed-in session whose password was just confirmed again: new tokens, and
    /// `authenticated_at` now. `false` if it is gone or not signed in.
    pub async fn reauthenticate_session(
        &self,
        id: &str,
        new_token: &TokenHash,
        new_csrf: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE sessions SET token_hash = $1, csrf_hash = $2, authenticated_at = $3, \
             last_seen_at = $3 WHERE id = $4 AND stage = 'authenticated'",
        )
        .bind(new_token.to_hex())
        .bind(new_csrf.to_hex())
        .bind(to_db(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Ends the session with this token, whatever its stage.
    pub async fn delete_session_by_token(&self, token: &TokenHash) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token.to_hex())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a session: the row is deleted, not flagged.
    pub async fn delete_session(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Tx {
    /// Ends every session of `user` except `keep`; how many ended.
    pub async fn delete_sessions_of(
        &mut self,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<u64> {
        delete_sessions_of(&mut *self.inner, user, keep).await
    }

    pub async fn insert_session(&mut self, s: &NewSession) -> StoreResult<()> {
        let authenticated_at = (s.stage == SessionStage::Authenticated).then(|| to_db(s.now));
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, csrf_hash, user_id, stage, created_at, \
             last_seen_at, authenticated_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)",
        )
        .bind(&s.id)
        .bind(s.token_hash.to_hex())
        .bind(s.csrf_hash.to_hex())
        .bind(s.user_id.to_string())
        .bind(s.stage.as_str())
        .bind(to_db(s.now))
        .bind(authenticated_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Moves a pending login on with fresh tokens, to `stage` (still pending, or
    /// authenticated). `false` if the session is gone or no longer pending.
    pub async fn advance_session(
        &mut self,
        id: &str,
        new_token: &TokenHash,
        new_csrf: &TokenHash,
        stage: SessionStage,
        now: Timestamp,
    ) -> StoreResult<bool> {
        // The fresh-authentication window runs from the password (when the pending login
        // started), not from the second step.
        let result = sqlx::query(
            "UPDATE sessions SET stage = $1, token_hash = $2, csrf_hash = $3, \
             authenticated_at = CASE WHEN $1 = 'authenticated' THEN created_at ELSE NULL END, \
             last_seen_at = $4 WHERE id = $5 AND stage = 'pending'",
        )
        .bind(stage.as_str())
        .bind(new_token.to_hex())
        .bind(new_csrf.to_hex())
        .bind(to_db(now))
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

impl Store {
    /// Every session of `user`, most recently active first.
    pub async fn sessions_of(&self, user: UserId) -> StoreResult<Vec<SessionRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions s WHERE s.user_id = $1 \
             ORDER BY s.last_seen_at DESC, s.id"
        )))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_from_row)
        .collect()
    }

    /// Ends one of `user`'s sessions (the row is deleted); `false` if it is not theirs.
    pub async fn delete_session_of(&self, user: UserId, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Ends every session of `user` except `keep` (the current one, when it should stay).
    pub async fn delete_sessions_of(&self, user: UserId, keep: Option<&str>) -> StoreResult<u64> {
        delete_sessions_of(&self.pool, user, keep).await
    }
}

/// The one statement that ends a user's sessions but `keep`, on the pool or in a
/// transaction.
async fn delete_sessions_of<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user: UserId,
    keep: Option<&str>,
) -> StoreResult<u64> {
    let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user.to_string())
        .bind(keep.unwrap_or(""))
        .execute(executor)
        .await?;
    Ok(result.rows_affected())
}
