//! Telling people that a backup failed: the operator's addresses and the owners of every
//! practice on this installation (it is their patients' data that is unprotected), by
//! e-mail through the outbox. The status page shows the same from `backup_runs`.

use termin_domain::backup::BackupId;
use termin_domain::delivery::Message;
use termin_domain::user::Email;

use crate::Backups;
use crate::run::TargetOutcome;

/// `- target: code` for each failed target.
fn failure_lines(outcomes: &[TargetOutcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|f| format!("- {}: {}", o.target, f.code))
        })
        .collect()
}

impl Backups {
    pub(crate) async fn alert_failures(
        &self,
        id: &BackupId,
        outcomes: &[TargetOutcome],
        what: &str,
    ) {
        let failed = failure_lines(outcomes);
        let fine: Vec<String> = outcomes
            .iter()
            .filter(|o| o.result.is_ok())
            .map(|o| format!("- {}", o.target))
            .collect();
        let subject = format!("Termin: {what} {id} failed on {} target(s)", failed.len());
        let body = format!(
            "The {what} {id} could not be completed on:\n{}\n\n{}\n\nTermin tried {} time(s) per target. \
             Check the target, then run `termin backup run` (see docs/OPERATIONS.md). \
             Until every target has a current backup, the installation is not protected.\n\n\
             Das Backup {id} konnte auf den oben genannten Zielen nicht abgeschlossen werden. \
             Bitte prüfen Sie die Ziele und starten Sie `termin backup run`.\n",
            failed.join("\n"),
            if fine.is_empty() {
                "No target holds this backup.".to_owned()
            } else {
                format!("These targets hold it:\n{}", fine.join("\n"))
            },
            self.settings.retry_delays.len() + 1,
        );
        self.send_alert(&subject, &body).await;
    }

    pub(crate) async fn alert_verify_failures(
        &self,
        id: Option<&BackupId>,
        failed: &[TargetOutcome],
    ) {
        let lines = failure_lines(failed);
        let subject = format!("Termin: backup check failed on {} target(s)", lines.len());
        let body = format!(
            "The check of the newest backup{} failed on:\n{}\n\nA backup that fails its check cannot \
             be relied on. Run `termin backup run` for a fresh one and look at the target \
             (see docs/OPERATIONS.md).\n\nDie Prüfung des neuesten Backups ist fehlgeschlagen.\n",
            id.map(|id| format!(" ({id})")).unwrap_or_default(),
            lines.join("\n"),
        );
        self.send_alert(&subject, &body).await;
    }

    async fn send_alert(&self, subject: &str, body: &str) {
        let mut recipients: Vec<String> = self.settings.alert_emails.clone();
        match self.store.owner_emails().await {
            Ok(owners) => recipients.extend(owners),
            Err(err) => {
                tracing::error!(error = %err, "cannot read the practice owners for a backup alert")
            }
        }
        recipients.sort();
        recipients.dedup();
        let now = self.clock.now();
        let result = async {
            let mut tx = self.store.begin().await?;
            for recipient in &recipients {
                let Ok(to) = Email::parse(recipient) else {
                    continue;
                };
                tx.enqueue_message(&Message::email(&to, subject, body), now)
                    .await?;
            }
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => tracing::warn!(recipients = recipients.len(), "{subject}"),
            Err(err) => tracing::error!(error = %err, "cannot queue the backup alert"),
        }
    }
}
