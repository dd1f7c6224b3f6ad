//! The backup status as practices and load balancers see it. Backups themselves are made by
//! `termin-backup` (scheduled in `termin serve`, or `termin backup run`); this reads what
//! they recorded and judges it against the configured targets (seed promise S11: two
//! independent servers).

use termin_domain::DomainError;
use termin_domain::backup::{BackupHealth, TargetFacts, assess};
use termin_domain::rights::Permission;
use termin_storage::{BackupRun, Membership};

use crate::Services;
use crate::auth::CurrentSession;

/// What the practice's backup page shows.
#[derive(Debug, Clone)]
pub struct BackupOverview {
    pub health: BackupHealth,
    pub targets: Vec<TargetFacts>,
    pub recent: Vec<BackupRun>,
}

impl Services {
    /// Protected or not, and why (for `/readyz` and the status page).
    pub async fn backup_health(&self) -> Result<(BackupHealth, Vec<TargetFacts>), DomainError> {
        let mut facts = Vec::with_capacity(self.backup_targets.len());
        for name in self.backup_targets.iter() {
            let history = self.store.backup_target_history(name.as_str()).await?;
            facts.push(TargetFacts {
                name: name.clone(),
                last_success: history.last_success,
                last_failure: history.last_failure,
            });
        }
        Ok((assess(&facts, self.clock.now()), facts))
    }

    /// The installation's backups, for those who manage a practice's settings: their
    /// patients' data is in every backup.
    pub async fn backup_overview(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<(Membership, BackupOverview), DomainError> {
        let membership = self
            .acting_with(session, org, Permission::ManageSettings)
            .await?
            .membership;
        let (health, targets) = self.backup_health().await?;
        let recent = self.store.recent_backup_runs(20).await?;
        Ok((
            membership,
            BackupOverview {
                health,
                targets,
                recent,
            },
        ))
    }
}
