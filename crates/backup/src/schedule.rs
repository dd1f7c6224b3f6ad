//! The schedule inside `termin serve`: the daily backup and the weekly check. Every instance
//! asks every minute; the database decides which one runs a due job (a conditional UPDATE on
//! its lease), so several instances on one database make one backup, and a job whose
//! instance died is taken over when its lease runs out. A job that was missed (the server
//! was off at 02:00) runs at the next start.

use jiff::SignedDuration;

use crate::crypto::Identities;
use crate::{BackupError, Backups};

pub const BACKUP_JOB: &str = "backup";
pub const VERIFY_JOB: &str = "backup-verify";
/// Longer than any backup takes; a holder that died frees the job after this.
pub const LEASE: SignedDuration = SignedDuration::from_hours(6);

/// What one tick of the schedule did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tick {
    pub backed_up: bool,
    pub verified: bool,
}

impl Backups {
    /// Runs whatever is due and not yet taken by another instance (`owner` names this one).
    pub async fn run_due(&self, owner: &str) -> Result<Tick, BackupError> {
        let mut tick = Tick::default();
        let zone = self.settings.time_zone.zone();
        let now = self.clock.now();
        let slot = self.settings.schedule.latest_slot(now, &zone);
        if self
            .store
            .claim_scheduled_job(BACKUP_JOB, slot, owner, now, LEASE)
            .await?
        {
            if let Err(err) = self.run().await {
                tracing::error!(error = %err, "the scheduled backup failed");
            }
            self.store
                .finish_scheduled_job(BACKUP_JOB, slot, owner)
                .await?;
            tick.backed_up = true;
        }
        let now = self.clock.now();
        let slot = self.settings.verify_schedule.latest_slot(now, &zone);
        if self
            .store
            .claim_scheduled_job(VERIFY_JOB, slot, owner, now, LEASE)
            .await?
        {
            let identities = match &self.settings.verify_identity {
                Some(path) => match Identities::from_file(path) {
                    Ok(identities) => Some(identities),
                    Err(err) => {
                        tracing::error!(error = %err, "the verification identity cannot be read; checking hashes only");
                        None
                    }
                },
                None => None,
            };
            self.verify(identities.as_ref()).await;
            self.store
                .finish_scheduled_job(VERIFY_JOB, slot, owner)
                .await?;
            tick.verified = true;
        }
        Ok(tick)
    }
}
