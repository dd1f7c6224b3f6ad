//! Reading, exporting, verifying and pruning the audit log (the chain itself is kept by
//! storage, its rule is `termin_domain::audit`).

use jiff::SignedDuration;
use termin_domain::DomainError;
use termin_domain::audit::{Break, verify_chain};
use termin_domain::rights::Permission;
pub use termin_storage::{AuditEntry, AuditFilter};

use crate::Services;
use crate::auth::CurrentSession;

/// Entries are kept at least this long, whatever the configuration says.
pub const MIN_RETENTION: SignedDuration = SignedDuration::from_hours(365 * 24);
/// At most this many entries are read or exported at once.
pub const MAX_ENTRIES: u32 = 10_000;

/// The outcome of checking one practice's chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    pub slug: String,
    pub result: Result<usize, Break>,
}

impl Services {
    /// The acting practice's audit entries matching `filter`; for those with the right.
    pub async fn audit_log(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>, DomainError> {
        let acting = self
            .acting_with(session, org, Permission::ViewAuditLog)
            .await?;
        Ok(self
            .store
            .audit_entries(acting.membership.org_id, filter, MAX_ENTRIES)
            .await?)
    }

    /// Checks every practice's chain (or the one named); the first break of each is named.
    pub async fn verify_audit(&self, slug: Option<&str>) -> Result<Vec<ChainReport>, DomainError> {
        let mut reports = Vec::new();
        for (org, org_slug) in self.store.audited_orgs().await? {
            if slug.is_some_and(|s| s != org_slug) {
                continue;
            }
            let ((anchor_seq, anchor_hash), entries) = self.store.audit_chain(org).await?;
            reports.push(ChainReport {
                result: verify_chain(&org.to_string(), (anchor_seq, &anchor_hash), &entries),
                slug: org_slug,
            });
        }
        if let Some(slug) = slug
            && reports.is_empty()
        {
            return Err(DomainError::invalid("org", format!("no practice {slug}")));
        }
        Ok(reports)
    }

    /// Removes entries older than `retention` (never less than a year) from every chain,
    /// whole from the start. How many went.
    pub async fn prune_audit(&self, retention: SignedDuration) -> Result<u64, DomainError> {
        let now = self.clock.now();
        let before = now.checked_sub(retention.max(MIN_RETENTION)).unwrap_or(now);
        let mut removed = 0;
        for (org, _) in self.store.audited_orgs().await? {
            removed += self.store.prune_audit(org, before).await?;
        }
        Ok(removed)
    }
}
