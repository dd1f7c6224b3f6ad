//! The durable outbox. Messages are inserted in the caller's transaction (so a message
//! exists exactly when what caused it was committed) and handed to workers by lease:
//! claiming is one conditional UPDATE, so two workers — on one instance or several — never
//! hold the same message at once. A lease that runs out (a worker died mid-send) makes the
//! message claimable again.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::delivery::{Channel, Message};

use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult, Tx};

/// A message's place in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn parse(raw: &str) -> StoreResult<Self> {
        Ok(match raw {
            "pending" => Self::Pending,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            other => return Err(StorageError::Corrupt(format!("outbox.status {other}"))),
        })
    }
}

/// A message a worker holds a lease on.
#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    pub id: String,
    pub message: Message,
    /// Failed attempts before this one.
    pub attempts: u32,
    pub created_at: Timestamp,
}

/// What is known about one message's delivery (for status pages and tests).
#[derive(Debug, Clone)]
pub struct DeliveryState {
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

fn claimed_from_row(row: &AnyRow) -> StoreResult<ClaimedMessage> {
    let channel: String = row.try_get("channel")?;
    let channel = Channel::parse(&channel)
        .ok_or_else(|| StorageError::Corrupt(format!("outbox.channel {channel}")))?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(ClaimedMessage {
        id: row.try_get("id")?,
        message: Message::from_parts(
            channel,
            row.try_get("recipient")?,
            row.try_get("subject")?,
            row.try_get("body")?,
        ),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: from_db(row.try_get("created_at")?)?,
    })
}

impl Tx {
    /// Puts a message into the outbox as part of this transaction; returns its id.
    pub async fn enqueue_message(
        &mut self,
        message: &Message,
        now: Timestamp,
    ) -> StoreResult<String> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO outbox (id, channel, recipient, subject, body, status, attempts, \
             created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
        )
        .bind(&id)
        .bind(message.channel().as_str())
        .bind(message.recipient())
        .bind(message.subject())
        .bind(message.body())
        .bind(to_db(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(id)
    }
}

impl Store {
    /// Leases up to `limit` due messages to `owner` until `now + lease`: pending ones whose
    /// time has come, and ones whose previous lease ran out.
    pub async fn claim_due_messages(
        &self,
        owner: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedMessage>> {
        let until = now.checked_add(lease).unwrap_or(now);
        // The outer condition repeats the inner one: under PostgreSQL's READ COMMITTED a
        // concurrent claimer re-checks it against the row it waited for, and skips it. On
        // PostgreSQL the inner select also locks its rows and skips those another claimer
        // holds: without that, two claimers locking overlapping rows in different orders
        // deadlock (found by the online-booking benchmark). SQLite writes one at a time.
        let skip_locked = if self.backend() == crate::Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM outbox \
                 WHERE (status = 'pending' AND next_attempt_at <= $3) \
                    OR (status = 'sending' AND lease_until <= $3) \
                 ORDER BY next_attempt_at LIMIT $4{skip_locked}) \
               AND ((status = 'pending' AND next_attempt_at <= $3) \
                    OR (status = 'sending' AND lease_until <= $3)) \
             RETURNING id, channel, recipient, subject, body, attempts, created_at"
        )))
        .bind(owner)
        .bind(to_db(until))
        .bind(to_db(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(claimed_from_row).collect()
    }

    /// Records a successful send and erases the text (it may hold a code or link); only
    /// the fact of delivery is kept. `false` if the lease was lost meanwhile.
    pub async fn mark_message_sent(
        &self,
        id: &str,
        owner: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, body = '', subject = NULL, \
             lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND lease_owner = $3 AND status = 'sending'",
        )
        .bind(to_db(now))
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Records a failed attempt: back to `pending` until `retry_at`, or `failed` for good
    /// (text erased) when `retry_at` is `None`.
    pub async fn mark_message_attempt_failed(
        &self,
        id: &str,
        owner: &str,
        retry_at: Option<Timestamp>,
        error: &str,
    ) -> StoreResult<bool> {
        let error: String = error.chars().take(300).collect();
        let result = match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE outbox SET status = 'pending', attempts = attempts + 1, \
                     next_attempt_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2 \
                     WHERE id = $3 AND lease_owner = $4 AND status = 'sending'",
                )
                .bind(to_db(at))
                .bind(error)
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, body = '', \
                     subject = NULL, lease_owner = NULL, lease_until = NULL, last_error = $1 \
                     WHERE id = $2 AND lease_owner = $3 AND status = 'sending'",
                )
                .bind(error)
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(result.rows_affected() == 1)
    }

    pub async fn delivery_state(&self, id: &str) -> StoreResult<Option<DeliveryState>> {
        let row = sqlx::query(
            "SELECT channel, status, attempts, next_attempt_at, sent_at, last_error \
             FROM outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let channel: String = row.try_get("channel")?;
        let attempts: i64 = row.try_get("attempts")?;
        let sent_at: Option<i64> = row.try_get("sent_at")?;
        Ok(Some(DeliveryState {
            channel: Channel::parse(&channel)
                .ok_or_else(|| StorageError::Corrupt("outbox.channel".into()))?,
            status: DeliveryStatus::parse(&row.try_get::<String, _>("status")?)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_attempt_at: from_db(row.try_get("next_attempt_at")?)?,
            sent_at: sent_at.map(from_db).transpose()?,
            last_error: row.try_get("last_error")?,
        }))
    }
}
