//! What backups did (per target) and which instance runs a scheduled job. The backups
//! themselves live on their targets; this is the record the status page and alerts read.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;

use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult};

/// Whether a run made a backup or checked one again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupRunKind {
    Backup,
    Verify,
}

impl BackupRunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupRunKind::Backup => "backup",
            BackupRunKind::Verify => "verify",
        }
    }

    fn parse(raw: &str) -> StoreResult<Self> {
        match raw {
            "backup" => Ok(BackupRunKind::Backup),
            "verify" => Ok(BackupRunKind::Verify),
            other => Err(StorageError::Corrupt(format!("backup_runs.kind {other}"))),
        }
    }
}

/// One target's outcome of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRun {
    pub backup_id: String,
    pub target: String,
    pub kind: BackupRunKind,
    pub finished_at: Timestamp,
    pub ok: bool,
    pub bytes: Option<u64>,
    /// A short code such as `unreachable` or `hash_mismatch`.
    pub error: Option<String>,
}

/// The newest success and the newest failure of a target's backups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetHistory {
    pub last_success: Option<Timestamp>,
    pub last_failure: Option<(Timestamp, String)>,
}

impl Store {
    pub async fn record_backup_run(&self, run: &BackupRun) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO backup_runs (id, backup_id, target, kind, finished_at, ok, bytes, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&run.backup_id)
        .bind(&run.target)
        .bind(run.kind.as_str())
        .bind(to_db(run.finished_at))
        .bind(i64::from(run.ok))
        .bind(run.bytes.map(|b| b as i64))
        .bind(run.error.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest success and failure of `target`'s backups (not of later checks).
    pub async fn backup_target_history(&self, target: &str) -> StoreResult<TargetHistory> {
        let success: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(finished_at) FROM backup_runs \
             WHERE target = $1 AND kind = 'backup' AND ok = 1",
        )
        .bind(target)
        .fetch_one(&self.pool)
        .await?;
        let failure = sqlx::query(
            "SELECT finished_at, error FROM backup_runs \
             WHERE target = $1 AND ok = 0 ORDER BY finished_at DESC LIMIT 1",
        )
        .bind(target)
        .fetch_optional(&self.pool)
        .await?;
        let last_failure = match failure {
            Some(row) => Some((
                from_db(row.try_get("finished_at")?)?,
                row.try_get::<Option<String>, _>("error")?
                    .unwrap_or_else(|| "failed".into()),
            )),
            None => None,
        };
        Ok(TargetHistory {
            last_success: success.map(from_db).transpose()?,
            last_failure,
        })
    }

    /// The newest runs, newest first (the status page).
    pub async fn recent_backup_runs(&self, limit: u32) -> StoreResult<Vec<BackupRun>> {
        let rows = sqlx::query(
            "SELECT backup_id, target, kind, finished_at, ok, bytes, error FROM backup_runs \
             ORDER BY finished_at DESC, target LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BackupRun {
                    backup_id: row.try_get("backup_id")?,
                    target: row.try_get("target")?,
                    kind: BackupRunKind::parse(&row.try_get::<String, _>("kind")?)?,
                    finished_at: from_db(row.try_get("finished_at")?)?,
                    ok: row.try_get::<i64, _>("ok")? == 1,
                    bytes: row.try_get::<Option<i64>, _>("bytes")?.map(|b| b as u64),
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    /// Takes the job `name` for the due time `slot` if it has not run for it and nobody
    /// holds it: one conditional UPDATE, so of several instances exactly one wins. The lease
    /// lets another instance take over when the holder dies.
    pub async fn claim_scheduled_job(
        &self,
        name: &str,
        slot: Timestamp,
        owner: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> StoreResult<bool> {
        sqlx::query("INSERT INTO scheduled_jobs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&self.pool)
            .await?;
        let claimed = sqlx::query(
            "UPDATE scheduled_jobs SET lease_owner = $2, lease_until = $3 \
             WHERE name = $1 AND (done_slot IS NULL OR done_slot < $4) \
             AND (lease_until IS NULL OR lease_until <= $5)",
        )
        .bind(name)
        .bind(owner)
        .bind(to_db(now.saturating_add(lease).unwrap_or(now)))
        .bind(to_db(slot))
        .bind(to_db(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Marks the job done for `slot` and releases the lease (only the holder can).
    pub async fn finish_scheduled_job(
        &self,
        name: &str,
        slot: Timestamp,
        owner: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE scheduled_jobs SET done_slot = $2, lease_owner = NULL, lease_until = NULL \
             WHERE name = $1 AND lease_owner = $3",
        )
        .bind(name)
        .bind(to_db(slot))
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The signing key pair (private PKCS#8 hex, public hex), made once: of several instances
    /// making one at the same moment, the first insert wins and everyone reads it back.
    pub async fn backup_signing_key(
        &self,
        candidate: (&str, &str),
        now: Timestamp,
    ) -> StoreResult<(String, String)> {
        sqlx::query(
            "INSERT INTO backup_signing_key (id, private_key, public_key, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate.0)
        .bind(candidate.1)
        .bind(to_db(now))
        .execute(&self.pool)
        .await?;
        let row =
            sqlx::query("SELECT private_key, public_key FROM backup_signing_key WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok((row.try_get("private_key")?, row.try_get("public_key")?))
    }

    /// The public half of the signing key, if this database has one.
    pub async fn backup_signing_public_key(&self) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT public_key FROM backup_signing_key WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Gives up the leases `owner` holds (an instance shutting down in the middle of a job):
    /// the job was not done, so the next instance to ask runs it at once.
    pub async fn release_scheduled_jobs(&self, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE scheduled_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The e-mail addresses of every practice's owners (they are told when backups fail).
    pub async fn owner_emails(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT u.email FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.role = 'owner' ORDER BY u.email",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
