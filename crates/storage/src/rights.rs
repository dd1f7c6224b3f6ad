//! Members' rights (S7): their role and the adjustments of its preset, per practice. The
//! effective rights are computed by `termin_domain::rights` from what is stored here.

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;
use termin_domain::ids::{OrgId, PractitionerId, UserId};
use termin_domain::rights::{Adjustment, Adjustments, Permission, Scope};
use termin_domain::user::Role;

use crate::{StorageError, Store, StoreResult, Tx};

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("membership_rights.{what}"))
}

fn adjustment_from(mode: &str, practitioners: &str) -> StoreResult<Adjustment> {
    match mode {
        "remove" => Ok(Adjustment::Remove),
        "grant" if practitioners.is_empty() => Ok(Adjustment::Grant(Scope::All)),
        "grant" => practitioners
            .split(',')
            .map(|id| {
                id.parse::<PractitionerId>()
                    .map_err(|_| corrupt("practitioner_ids"))
            })
            .collect::<StoreResult<BTreeSet<_>>>()
            .map(|set| Adjustment::Grant(Scope::Practitioners(set))),
        _ => Err(corrupt("mode")),
    }
}

/// Rows of `membership_rights` grouped by (org, user).
fn group(rows: &[sqlx::any::AnyRow]) -> StoreResult<HashMap<(OrgId, UserId), Adjustments>> {
    let mut grouped: HashMap<(OrgId, UserId), Adjustments> = HashMap::new();
    for row in rows {
        let org: OrgId = row
            .try_get::<String, _>("org_id")?
            .parse()
            .map_err(|_| corrupt("org_id"))?;
        let user: UserId = row
            .try_get::<String, _>("user_id")?
            .parse()
            .map_err(|_| corrupt("user_id"))?;
        let permission = Permission::parse(&row.try_get::<String, _>("permission")?)
            .ok_or_else(|| corrupt("permission"))?;
        let adjustment = adjustment_from(
            &row.try_get::<String, _>("mode")?,
            &row.try_get::<String, _>("practitioner_ids")?,
        )?;
        grouped
            .entry((org, user))
            .or_default()
            .insert(permission, adjustment);
    }
    Ok(grouped)
}

const COLUMNS: &str = "org_id, user_id, permission, mode, practitioner_ids";

impl Store {
    /// The adjustments of every membership of `user`, by practice.
    pub async fn adjustments_of_user(
        &self,
        user: UserId,
    ) -> StoreResult<HashMap<OrgId, Adjustments>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM membership_rights WHERE user_id = $1"
        )))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(group(&rows)?
            .into_iter()
            .map(|((org, _), adjustments)| (org, adjustments))
            .collect())
    }

    /// The adjustments of every member of `org`, by user.
    pub async fn adjustments_in(&self, org: OrgId) -> StoreResult<HashMap<UserId, Adjustments>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM membership_rights WHERE org_id = $1"
        )))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(group(&rows)?
            .into_iter()
            .map(|((_, user), adjustments)| (user, adjustments))
            .collect())
    }
}

impl Tx {
    /// Serialises changes to one practice's memberships (the last-owner rule counts owners
    /// and then writes). SQLite's write transactions are exclusive already.
    pub async fn lock_org(&mut self, org: OrgId) -> StoreResult<()> {
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
                .bind(org.to_string())
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    pub async fn count_owners(&mut self, org: OrgId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'owner'",
        )
        .bind(org.to_string())
        .fetch_one(&mut *self.inner)
        .await?)
    }

    /// `false` if `user` is not a member of `org`.
    pub async fn set_role(&mut self, org: OrgId, user: UserId, role: Role) -> StoreResult<bool> {
        let result =
            sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
                .bind(role.as_str())
                .bind(org.to_string())
                .bind(user.to_string())
                .execute(&mut *self.inner)
                .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Replaces the member's adjustments.
    pub async fn set_adjustments(
        &mut self,
        org: OrgId,
        user: UserId,
        adjustments: &Adjustments,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM membership_rights WHERE org_id = $1 AND user_id = $2")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        for (permission, adjustment) in adjustments.iter() {
            let (mode, practitioners) = match adjustment {
                Adjustment::Remove => ("remove", String::new()),
                Adjustment::Grant(Scope::All) => ("grant", String::new()),
                Adjustment::Grant(Scope::Practitioners(set)) => (
                    "grant",
                    set.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            };
            sqlx::query(
                "INSERT INTO membership_rights (org_id, user_id, permission, mode, \
                 practitioner_ids) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org.to_string())
            .bind(user.to_string())
            .bind(permission.as_str())
            .bind(mode)
            .bind(practitioners)
            .execute(&mut *self.inner)
            .await?;
        }
        Ok(())
    }

    /// Removes `user` from `org` (their adjustments go with it); `false` if not a member.
    pub async fn remove_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
