//! The audit log: one append-only hash chain per practice (`termin_domain::audit` holds the
//! rule). Appending locks the practice's row, reads the chain's head and writes the next
//! entry; the primary key (practice, sequence number) makes a fork impossible even across
//! instances.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::audit::{EntryFields, GENESIS, StoredEntry, entry_hash};
use termin_domain::ids::{OrgId, UserId};

use crate::time::{from_db, to_db};
use crate::{Store, StoreResult, Tx};

/// What happened, as one audit entry records it.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub action: &'a str,
    /// The ids acted on (`user:…`, `appointment:…`), never content.
    pub target: String,
    /// Where the request came from.
    pub source: &'a str,
    pub outcome: &'a str,
}

/// An entry as administrators read and export it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub source: String,
    pub outcome: String,
    pub hash: String,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub actor: Option<UserId>,
    pub action: Option<String>,
}

fn stored(row: &AnyRow) -> StoreResult<StoredEntry> {
    Ok(StoredEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_id: row
            .try_get::<Option<String>, _>("actor_id")?
            .unwrap_or_default(),
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        source: row.try_get("source")?,
        outcome: row.try_get("outcome")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

pub(crate) const COLUMNS: &str =
    "seq, at, actor_id, action, target, source, outcome, prev_hash, hash";

/// An entry as read back (selected with [`COLUMNS`]).
pub(crate) fn entry(row: &AnyRow) -> StoreResult<AuditEntry> {
    let entry = stored(row)?;
    Ok(AuditEntry {
        seq: entry.seq,
        at: from_db(entry.at)?,
        actor_id: entry.actor_id,
        action: entry.action,
        target: entry.target,
        source: entry.source,
        outcome: entry.outcome,
        hash: entry.hash,
    })
}

impl Tx {
    /// Appends an entry to `org`'s chain.
    pub async fn append_audit(&mut self, org: OrgId, entry: &NewAuditEntry<'_>) -> StoreResult<()> {
        self.lock_org(org).await?;
        let head: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE org_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(org.to_string())
        .fetch_optional(&mut *self.inner)
        .await?;
        let (last_seq, prev_hash) = match head {
            Some(head) => head,
            None => sqlx::query_as("SELECT seq, hash FROM audit_anchors WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(&mut *self.inner)
                .await?
                .unwrap_or((0, GENESIS.to_owned())),
        };
        let org_text = org.to_string();
        let actor = entry.actor_id.map(|a| a.to_string()).unwrap_or_default();
        let seq = last_seq + 1;
        let at = to_db(entry.at);
        let hash = entry_hash(
            &prev_hash,
            &EntryFields {
                org_id: &org_text,
                seq,
                at,
                actor_id: &actor,
                action: entry.action,
                target: &entry.target,
                source: entry.source,
                outcome: entry.outcome,
            },
        );
        sqlx::query(
            "INSERT INTO audit_log (org_id, seq, at, actor_id, action, target, source, outcome, \
             prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&org_text)
        .bind(seq)
        .bind(at)
        .bind(&actor)
        .bind(entry.action)
        .bind(&entry.target)
        .bind(entry.source)
        .bind(entry.outcome)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Appends an entry about a user to the chain of every practice they belong to.
    pub async fn append_audit_for_user(
        &mut self,
        user: UserId,
        entry: &NewAuditEntry<'_>,
    ) -> StoreResult<()> {
        let orgs: Vec<String> =
            sqlx::query_scalar("SELECT org_id FROM memberships WHERE user_id = $1 ORDER BY org_id")
                .bind(user.to_string())
                .fetch_all(&mut *self.inner)
                .await?;
        for org in orgs {
            if let Ok(org) = org.parse() {
                self.append_audit(org, entry).await?;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Every practice that has an audit chain (or had one).
    pub async fn audited_orgs(&self) -> StoreResult<Vec<(OrgId, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, slug FROM organizations ORDER BY slug")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, slug)| id.parse().ok().map(|id| (id, slug)))
            .collect())
    }

    /// A practice's whole chain with its anchor, for verification.
    pub async fn audit_chain(&self, org: OrgId) -> StoreResult<((i64, String), Vec<StoredEntry>)> {
        let anchor: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_anchors WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(&self.pool)
                .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 ORDER BY seq"
        )))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        let entries = rows.iter().map(stored).collect::<StoreResult<Vec<_>>>()?;
        Ok((anchor.unwrap_or((0, GENESIS.to_owned())), entries))
    }

    /// Entries of `org` matching `filter`, oldest first, at most `limit`.
    pub async fn audit_entries(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE org_id = $1 AND at >= $2 AND at < $3 \
             AND ($4 = '' OR actor_id = $4) AND ($5 = '' OR action = $5) ORDER BY seq LIMIT $6"
        )))
        .bind(org.to_string())
        .bind(filter.from.map_or(i64::MIN, to_db))
        .bind(filter.to.map_or(i64::MAX, to_db))
        .bind(filter.actor.map(|a| a.to_string()).unwrap_or_default())
        .bind(filter.action.clone().unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }

    /// Removes `org`'s entries older than `before`, whole from the start of the chain, and
    /// keeps the last removed entry's number and hash as the chain's anchor. How many went.
    pub async fn prune_audit(&self, org: OrgId, before: Timestamp) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        tx.lock_org(org).await?;
        // The chain is in time order, so the old entries are a prefix of it.
        let last_old: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE org_id = $1 AND at < $2 \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(org.to_string())
        .bind(to_db(before))
        .fetch_optional(&mut *tx.inner)
        .await?;
        let Some((seq, hash)) = last_old else {
            return Ok(0);
        };
        let removed = sqlx::query("DELETE FROM audit_log WHERE org_id = $1 AND seq <= $2")
            .bind(org.to_string())
            .bind(seq)
            .execute(&mut *tx.inner)
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO audit_anchors (org_id, seq, hash) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(org.to_string())
        .bind(seq)
        .bind(&hash)
        .execute(&mut *tx.inner)
        .await?;
        tx.commit().await?;
        Ok(removed)
    }
}
