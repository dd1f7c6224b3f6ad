//! Sign-in failures, account locks and blocked sources (S8). Every count is read and written
//! inside the caller's write transaction with the guard row locked, so that concurrent
//! attempts on any instance are counted one after the other.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::guard::{AccountGuard, LoginSubject, SourceCounts, SourceKind};
use termin_domain::ids::{OrgId, UserId};

use crate::audit::NewAuditEntry;
use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult, Tx};

/// What kind of attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Password,
    SecondFactor,
    /// Refused unchecked: the account was locked or within its delay.
    Refused,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Password => "password",
            FailureKind::SecondFactor => "second_factor",
            FailureKind::Refused => "refused",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "password" => Some(FailureKind::Password),
            "second_factor" => Some(FailureKind::SecondFactor),
            "refused" => Some(FailureKind::Refused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewFailure<'a> {
    pub subject: &'a LoginSubject,
    pub user_id: Option<UserId>,
    pub ip: &'a str,
    pub network: &'a str,
    pub kind: FailureKind,
    pub at: Timestamp,
}

/// A failure as administrators see it.
#[derive(Debug, Clone)]
pub struct FailureRecord {
    pub at: Timestamp,
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub ip: String,
    pub kind: FailureKind,
}

/// A locked account as administrators see it.
#[derive(Debug, Clone)]
pub struct LockedAccount {
    pub user_id: UserId,
    pub email: String,
    pub failures: u32,
    /// `None`: locked until unlocked by hand or a password reset.
    pub locked_until: Option<Timestamp>,
}

/// A blocked source.
#[derive(Debug, Clone)]
pub struct SourceBlock {
    pub source: String,
    pub kind: SourceKind,
    pub reason: String,
    pub level: u32,
    pub blocked_at: Timestamp,
    pub blocked_until: Timestamp,
}

/// A blocked source as one practice's administrators see it.
#[derive(Debug, Clone)]
pub struct SeenBlock {
    pub block: SourceBlock,
    /// Every recent failure from the source was against this practice's members, so its
    /// administrators may lift the block; otherwise it is the operator's to lift.
    pub only_ours: bool,
}

/// A security event: a lock, block, unlock or unblock.
#[derive(Debug, Clone)]
pub struct NewSecurityEvent<'a> {
    pub kind: &'a str,
    /// The practice concerned, if the event concerns one.
    pub org_id: Option<OrgId>,
    pub user_id: Option<UserId>,
    pub actor_id: Option<UserId>,
    pub source: Option<&'a str>,
    pub detail: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct SecurityEvent {
    pub at: Timestamp,
    pub kind: String,
    pub user_id: Option<UserId>,
    pub actor_id: Option<UserId>,
    pub source: Option<String>,
    pub detail: String,
}

/// The outcome an audit entry records for a kind of security event.
fn outcome_of(kind: &str) -> &'static str {
    if kind.ends_with("_denied") {
        "denied"
    } else if kind.ends_with("_failed") {
        "failed"
    } else {
        "ok"
    }
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(what.to_owned())
}

fn count(raw: i64) -> u32 {
    u32::try_from(raw.max(0)).unwrap_or(u32::MAX)
}

fn user_id(raw: Option<String>, what: &str) -> StoreResult<Option<UserId>> {
    raw.map(|id| id.parse().map_err(|_| corrupt(what)))
        .transpose()
}

fn guard_from_row(row: &AnyRow) -> StoreResult<AccountGuard> {
    Ok(AccountGuard {
        failures: count(row.try_get("failures")?),
        last_attempt_at: row
            .try_get::<Option<i64>, _>("last_attempt_at")?
            .map(from_db)
            .transpose()?,
        locked_until: row
            .try_get::<Option<i64>, _>("locked_until")?
            .map(from_db)
            .transpose()?,
        locked_permanently: row.try_get::<i64, _>("locked_permanently")? != 0,
    })
}

fn event_from_row(row: &AnyRow) -> StoreResult<SecurityEvent> {
    Ok(SecurityEvent {
        at: from_db(row.try_get("at")?)?,
        kind: row.try_get("kind")?,
        user_id: user_id(row.try_get("user_id")?, "security_events.user_id")?,
        actor_id: user_id(row.try_get("actor_id")?, "security_events.actor_id")?,
        source: row.try_get("source")?,
        detail: row.try_get("detail")?,
    })
}

fn block_from_row(row: &AnyRow) -> StoreResult<SourceBlock> {
    Ok(SourceBlock {
        source: row.try_get("source")?,
        kind: SourceKind::parse(&row.try_get::<String, _>("kind")?)
            .ok_or_else(|| corrupt("source_blocks.kind"))?,
        reason: row.try_get("reason")?,
        level: count(row.try_get("level")?),
        blocked_at: from_db(row.try_get("blocked_at")?)?,
        blocked_until: from_db(row.try_get("blocked_until")?)?,
    })
}

const GUARD_COLUMNS: &str = "failures, last_attempt_at, locked_until, locked_permanently";

impl Tx {
    /// The guard of `subject`, created if new, and locked for the rest of the transaction
    /// (the upsert writes the row; SQLite's write transactions are exclusive anyway).
    pub async fn lock_guard(
        &mut self,
        subject: &LoginSubject,
        user: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<AccountGuard> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO login_guards (subject, user_id, counted_since) VALUES ($1, $2, $3) \
             ON CONFLICT (subject) DO UPDATE SET \
             user_id = COALESCE(excluded.user_id, login_guards.user_id) \
             RETURNING {GUARD_COLUMNS}"
        )))
        .bind(subject.as_str())
        .bind(user.map(|u| u.to_string()))
        .bind(to_db(now))
        .fetch_one(&mut *self.inner)
        .await?;
        guard_from_row(&row)
    }

    pub async fn save_guard(
        &mut self,
        subject: &LoginSubject,
        guard: &AccountGuard,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE login_guards SET failures = $1, last_attempt_at = $2, locked_until = $3, \
             locked_permanently = $4 WHERE subject = $5",
        )
        .bind(i64::from(guard.failures))
        .bind(guard.last_attempt_at.map(to_db))
        .bind(guard.locked_until.map(to_db))
        .bind(i64::from(guard.locked_permanently))
        .bind(subject.as_str())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Forgets every failure of `subject` before `now`: a completed login, an unlock or a
    /// password reset.
    pub async fn reset_guard(&mut self, subject: &LoginSubject, now: Timestamp) -> StoreResult<()> {
        sqlx::query(
            "UPDATE login_guards SET failures = 0, last_attempt_at = NULL, locked_until = NULL, \
             locked_permanently = 0, counted_since = $1 WHERE subject = $2",
        )
        .bind(to_db(now))
        .bind(subject.as_str())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// [`Tx::reset_guard`] for every guard of an account: those linked to it and the one
    /// of its current address (which may predate the account); `true` if one was locked.
    pub async fn reset_guards_of(
        &mut self,
        user: UserId,
        address: &LoginSubject,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let locked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_guards WHERE (user_id = $1 OR subject = $3) \
             AND (locked_permanently <> 0 OR locked_until > $2)",
        )
        .bind(user.to_string())
        .bind(to_db(now))
        .bind(address.as_str())
        .fetch_one(&mut *self.inner)
        .await?;
        sqlx::query(
            "UPDATE login_guards SET failures = 0, last_attempt_at = NULL, locked_until = NULL, \
             locked_permanently = 0, counted_since = $1 WHERE user_id = $2 OR subject = $3",
        )
        .bind(to_db(now))
        .bind(user.to_string())
        .bind(address.as_str())
        .execute(&mut *self.inner)
        .await?;
        Ok(locked > 0)
    }

    pub async fn record_failure(&mut self, failure: &NewFailure<'_>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_failures (id, at, subject, user_id, ip, network, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(to_db(failure.at))
        .bind(failure.subject.as_str())
        .bind(failure.user_id.map(|u| u.to_string()))
        .bind(failure.ip)
        .bind(failure.network)
        .bind(failure.kind.as_str())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Checked failures of `subject` since `since` that still count (none from before the
    /// last reset; refused attempts cost the attacker nothing and do not count).
    pub async fn failures_of_subject_since(
        &mut self,
        subject: &LoginSubject,
        since: Timestamp,
    ) -> StoreResult<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM auth_failures f WHERE f.subject = $1 AND f.at >= $2 \
             AND f.kind <> 'refused' \
             AND f.at >= (SELECT g.counted_since FROM login_guards g WHERE g.subject = $1)",
        )
        .bind(subject.as_str())
        .bind(to_db(since))
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(count(n))
    }

    /// Failures from a source since `since`, and how many different addresses they tried.
    pub async fn source_counts(
        &mut self,
        kind: SourceKind,
        source: &str,
        since: Timestamp,
    ) -> StoreResult<SourceCounts> {
        let column = match kind {
            SourceKind::Ip => "ip",
            SourceKind::Network => "network",
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS failures, COUNT(DISTINCT subject) AS accounts \
             FROM auth_failures WHERE {column} = $1 AND at >= $2"
        )))
        .bind(source)
        .bind(to_db(since))
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(SourceCounts {
            failures: count(row.try_get("failures")?),
            accounts: count(row.try_get("accounts")?),
        })
    }

    /// The source's block, current or past (its level tells how often it was blocked).
    pub async fn source_block(&mut self, source: &str) -> StoreResult<Option<SourceBlock>> {
        sqlx::query(
            "SELECT source, kind, reason, level, blocked_at, blocked_until \
             FROM source_blocks WHERE source = $1",
        )
        .bind(source)
        .fetch_optional(&mut *self.inner)
        .await?
        .as_ref()
        .map(block_from_row)
        .transpose()
    }

    pub async fn put_source_block(&mut self, block: &SourceBlock) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO source_blocks (source, kind, reason, level, blocked_at, blocked_until) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source) DO UPDATE SET \
             kind = excluded.kind, reason = excluded.reason, level = excluded.level, \
             blocked_at = excluded.blocked_at, blocked_until = excluded.blocked_until",
        )
        .bind(&block.source)
        .bind(block.kind.as_str())
        .bind(&block.reason)
        .bind(i64::from(block.level))
        .bind(to_db(block.blocked_at))
        .bind(to_db(block.blocked_until))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Lifts a block now; `false` if the source was not blocked. The row stays (ended), so
    /// that a new block soon after still lasts longer.
    pub async fn end_source_block(&mut self, source: &str, now: Timestamp) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE source_blocks SET blocked_until = $1 WHERE source = $2 AND blocked_until > $1",
        )
        .bind(to_db(now))
        .bind(source)
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn insert_security_event(&mut self, event: &NewSecurityEvent<'_>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO security_events (id, at, kind, user_id, actor_id, source, detail, \
             org_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(to_db(event.at))
        .bind(event.kind)
        .bind(event.user_id.map(|u| u.to_string()))
        .bind(event.actor_id.map(|u| u.to_string()))
        .bind(event.source)
        .bind(&event.detail)
        .bind(event.org_id.map(|o| o.to_string()))
        .execute(&mut *self.inner)
        .await?;
        // Every security event about a practice or a person also goes into the audit log:
        // the practice's chain, or the chain of every practice the person belongs to.
        let entry = NewAuditEntry {
            at: event.at,
            actor_id: event.actor_id.or(event.user_id),
            action: event.kind,
            target: event
                .user_id
                .map(|u| format!("user:{u}"))
                .unwrap_or_default(),
            source: event.source.unwrap_or_default(),
            outcome: outcome_of(event.kind),
        };
        match (event.org_id, event.user_id) {
            (Some(org), _) => self.append_audit(org, &entry).await,
            (None, Some(user)) => self.append_audit_for_user(user, &entry).await,
            (None, None) => Ok(()),
        }
    }
}

impl Store {
    /// When the later of the blocks on `ip` and `network` ends, if either is blocked now.
    pub async fn blocked_until(
        &self,
        ip: &str,
        network: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(blocked_until) FROM source_blocks \
             WHERE source IN ($1, $2) AND blocked_until > $3",
        )
        .bind(ip)
        .bind(network)
        .bind(to_db(now))
        .fetch_one(&self.pool)
        .await?;
        until.map(from_db).transpose()
    }

    /// The account guard of `subject` as it stands (for tests and the admin view).
    pub async fn guard_of(&self, subject: &LoginSubject) -> StoreResult<Option<AccountGuard>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GUARD_COLUMNS} FROM login_guards WHERE subject = $1"
        )))
        .bind(subject.as_str())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(guard_from_row)
        .transpose()
    }

    /// Members of `org` whose accounts are locked at `now`.
    pub async fn locked_members(
        &self,
        org: OrgId,
        now: Timestamp,
    ) -> StoreResult<Vec<LockedAccount>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, g.failures, g.locked_until, g.locked_permanently \
             FROM login_guards g JOIN users u ON u.id = g.user_id \
             JOIN memberships m ON m.user_id = u.id AND m.org_id = $1 \
             WHERE g.locked_permanently <> 0 OR g.locked_until > $2 ORDER BY u.email",
        )
        .bind(org.to_string())
        .bind(to_db(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let permanent = row.try_get::<i64, _>("locked_permanently")? != 0;
                let until: Option<i64> = row.try_get("locked_until")?;
                Ok(LockedAccount {
                    user_id: row
                        .try_get::<String, _>("id")?
                        .parse()
                        .map_err(|_| corrupt("users.id"))?,
                    email: row.try_get("email")?,
                    failures: count(row.try_get("failures")?),
                    locked_until: if permanent {
                        None
                    } else {
                        until.map(from_db).transpose()?
                    },
                })
            })
            .collect()
    }

    /// Sources blocked at `now` that failed against members of `org` within the last
    /// `since`: what the practice's administrators see and may unblock.
    pub async fn blocks_seen_by(
        &self,
        org: OrgId,
        since: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<SeenBlock>> {
        sqlx::query(
            "SELECT b.source, b.kind, b.reason, b.level, b.blocked_at, b.blocked_until, \
             CAST(CASE WHEN EXISTS ( \
               SELECT 1 FROM auth_failures o WHERE o.at >= $3 \
               AND (o.ip = b.source OR o.network = b.source) \
               AND (o.user_id IS NULL OR o.user_id NOT IN \
                 (SELECT m2.user_id FROM memberships m2 WHERE m2.org_id = $2))) \
             THEN 0 ELSE 1 END AS BIGINT) AS only_ours \
             FROM source_blocks b WHERE b.blocked_until > $1 AND EXISTS ( \
               SELECT 1 FROM auth_failures f JOIN memberships m ON m.user_id = f.user_id \
               WHERE m.org_id = $2 AND f.at >= $3 AND (f.ip = b.source OR f.network = b.source)) \
             ORDER BY b.blocked_until DESC",
        )
        .bind(to_db(now))
        .bind(org.to_string())
        .bind(to_db(since))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(SeenBlock {
                block: block_from_row(row)?,
                only_ours: row.try_get::<i64, _>("only_ours")? != 0,
            })
        })
        .collect()
    }

    /// The latest failures against members of `org`, newest first.
    pub async fn failures_of_members(
        &self,
        org: OrgId,
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<FailureRecord>> {
        let rows = sqlx::query(
            "SELECT f.at, f.user_id, u.email, f.ip, f.kind FROM auth_failures f \
             JOIN memberships m ON m.user_id = f.user_id AND m.org_id = $1 \
             JOIN users u ON u.id = f.user_id \
             WHERE f.at >= $2 ORDER BY f.at DESC, f.id LIMIT $3",
        )
        .bind(org.to_string())
        .bind(to_db(since))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FailureRecord {
                    at: from_db(row.try_get("at")?)?,
                    user_id: user_id(row.try_get("user_id")?, "auth_failures.user_id")?,
                    email: row.try_get("email")?,
                    ip: row.try_get("ip")?,
                    kind: FailureKind::parse(&row.try_get::<String, _>("kind")?)
                        .ok_or_else(|| corrupt("auth_failures.kind"))?,
                })
            })
            .collect()
    }

    /// A practice's security events of `kind`, newest first.
    pub async fn org_events(
        &self,
        org: OrgId,
        kind: &str,
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<SecurityEvent>> {
        let rows = sqlx::query(
            "SELECT at, kind, user_id, actor_id, source, detail FROM security_events \
             WHERE org_id = $1 AND kind = $2 AND at >= $3 ORDER BY at DESC, id LIMIT $4",
        )
        .bind(org.to_string())
        .bind(kind)
        .bind(to_db(since))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Removes failures older than `before` and guards with nothing left to remember.
    pub async fn prune_failures(&self, before: Timestamp) -> StoreResult<u64> {
        let removed = sqlx::query("DELETE FROM auth_failures WHERE at < $1")
            .bind(to_db(before))
            .execute(&self.pool)
            .await?
            .rows_affected();
        sqlx::query(
            "DELETE FROM login_guards WHERE locked_permanently = 0 \
             AND (locked_until IS NULL OR locked_until < $1) \
             AND (last_attempt_at IS NULL OR last_attempt_at < $1)",
        )
        .bind(to_db(before))
        .execute(&self.pool)
        .await?;
        Ok(removed)
    }
}
