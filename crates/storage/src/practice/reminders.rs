//! Appointment reminders: scheduled with the appointment, claimed when due by one instance
//! with a conditional `UPDATE` in the transaction that also writes the outbox message — so
//! a reminder reaches the outbox exactly once, however many instances look for due ones.

use jiff::Timestamp;
use sqlx::Row;
use termin_domain::delivery::Channel;
use termin_domain::ids::{AppointmentId, OrgId};
use termin_domain::schedule::reminders::ReminderPolicy;

use super::{PracticeData, PracticeTx, corrupt, id};
use crate::outbox::DeliveryStatus;
use crate::time::{from_db, to_db};
use crate::{Store, StoreResult, Tx};

/// A reminder whose time has come.
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub id: String,
    pub org_id: OrgId,
    pub appointment_id: AppointmentId,
    pub channel: Channel,
}

/// A reminder as the appointment view shows it.
#[derive(Debug, Clone)]
pub struct ReminderState {
    pub channel: Channel,
    pub due_at: Timestamp,
    /// `pending`, `queued` or `skipped`.
    pub status: String,
    /// The outbox's state once queued.
    pub delivery: Option<DeliveryStatus>,
}

fn channel(raw: &str) -> StoreResult<Channel> {
    Channel::parse(raw).ok_or_else(|| corrupt("reminders.channel"))
}

impl PracticeData<'_> {
    /// The practice's reminder rule.
    pub async fn reminder_policy(&self) -> StoreResult<ReminderPolicy> {
        let raw: String =
            sqlx::query_scalar("SELECT reminder_policy FROM organizations WHERE id = $1")
                .bind(self.org.to_string())
                .fetch_one(self.pool)
                .await?;
        if raw.is_empty() {
            return Ok(ReminderPolicy::default());
        }
        serde_json::from_str(&raw).map_err(|_| corrupt("organizations.reminder_policy"))
    }

    /// An appointment's reminders with their delivery state, earliest first.
    pub async fn reminders_of(
        &self,
        appointment: AppointmentId,
    ) -> StoreResult<Vec<ReminderState>> {
        sqlx::query(
            "SELECT r.channel, r.due_at, r.status, o.status AS delivery FROM reminders r \
             LEFT JOIN outbox o ON o.id = r.outbox_id \
             WHERE r.org_id = $1 AND r.appointment_id = $2 ORDER BY r.due_at, r.channel",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(ReminderState {
                channel: channel(&row.try_get::<String, _>("channel")?)?,
                due_at: from_db(row.try_get("due_at")?)?,
                status: row.try_get("status")?,
                delivery: row
                    .try_get::<Option<String>, _>("delivery")?
                    .map(|d| DeliveryStatus::parse(&d))
                    .transpose()?,
            })
        })
        .collect()
    }
}

impl PracticeTx<'_> {
    /// Replaces the practice's reminder rule.
    pub async fn set_reminder_policy(&mut self, policy: &ReminderPolicy) -> StoreResult<()> {
        let json = serde_json::to_string(policy).map_err(|_| corrupt("reminder policy"))?;
        sqlx::query("UPDATE organizations SET reminder_policy = $2 WHERE id = $1")
            .bind(self.org.to_string())
            .bind(json)
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(())
    }

    /// Schedules an appointment's reminders (after dropping its pending ones: a moved
    /// appointment is reminded of its new time).
    pub async fn schedule_reminders(
        &mut self,
        appointment: AppointmentId,
        due: &[(Channel, Timestamp)],
        now: Timestamp,
    ) -> StoreResult<()> {
        self.drop_pending_reminders(appointment).await?;
        for (channel, at) in due {
            sqlx::query(
                "INSERT INTO reminders (id, org_id, appointment_id, channel, due_at, status, \
                 created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(self.org.to_string())
            .bind(appointment.to_string())
            .bind(channel.as_str())
            .bind(to_db(*at))
            .bind(to_db(now))
            .execute(&mut *self.tx.inner)
            .await?;
        }
        Ok(())
    }

    /// Drops an appointment's reminders not yet sent (cancelled or moved).
    pub async fn drop_pending_reminders(&mut self, appointment: AppointmentId) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM reminders WHERE org_id = $1 AND appointment_id = $2 AND status = 'pending'",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Reminders due at `now`, oldest first (not claimed: see [`Tx::claim_reminder`]).
    pub async fn due_reminders(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueReminder>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, org_id, appointment_id, channel FROM reminders \
             WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .bind(to_db(now))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(DueReminder {
                id: row.try_get("id")?,
                org_id: id(row, "org_id")?,
                appointment_id: id(row, "appointment_id")?,
                channel: channel(&row.try_get::<String, _>("channel")?)?,
            })
        })
        .collect()
    }
}

impl Tx {
    /// Claims a due reminder for this transaction: true for exactly one of any number of
    /// concurrent claimants (PostgreSQL re-checks the condition after the row lock; SQLite
    /// writes one at a time).
    pub async fn claim_reminder(
        &mut self,
        reminder: &str,
        outcome: ReminderOutcome<'_>,
    ) -> StoreResult<bool> {
        let (status, outbox) = match outcome {
            ReminderOutcome::Queued(outbox) => ("queued", Some(outbox)),
            ReminderOutcome::Skipped => ("skipped", None),
        };
        let done = sqlx::query(
            "UPDATE reminders SET status = $2, outbox_id = $3 WHERE id = $1 AND status = 'pending'",
        )
        .bind(reminder)
        .bind(status)
        .bind(outbox)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// What became of a due reminder.
#[derive(Debug, Clone, Copy)]
pub enum ReminderOutcome<'a> {
    /// Written to the outbox as this message.
    Queued(&'a str),
    /// Nothing to send (the appointment was cancelled, the contact removed).
    Skipped,
}
