//! Practices (organisations).

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::OrgId;
use termin_domain::org::{OrgName, OrgSlug, TimeZoneName};
use termin_domain::security::SecuritySettings;

use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub id: OrgId,
    pub slug: OrgSlug,
    pub name: OrgName,
    pub time_zone: TimeZoneName,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub slug: OrgSlug,
    pub name: OrgName,
    pub time_zone: TimeZoneName,
    pub created_at: Timestamp,
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("organizations.{what}"))
}

fn org_from_row(row: &AnyRow) -> StoreResult<Organization> {
    Ok(Organization {
        id: row
            .try_get::<String, _>("id")?
            .parse()
            .map_err(|_| corrupt("id"))?,
        slug: OrgSlug::parse(&row.try_get::<String, _>("slug")?).map_err(|_| corrupt("slug"))?,
        name: OrgName::parse(&row.try_get::<String, _>("name")?).map_err(|_| corrupt("name"))?,
        time_zone: TimeZoneName::parse(&row.try_get::<String, _>("time_zone")?)
            .map_err(|_| corrupt("time_zone"))?,
        created_at: from_db(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Replaces the practice's account-security settings.
    pub async fn set_security_settings(
        &self,
        org: OrgId,
        settings: &SecuritySettings,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE organizations SET password_policy = $1, strong_factor_roles = $2, \
             session_idle_minutes = $3, session_max_hours = $4 WHERE id = $5",
        )
        .bind(settings.password_policy.as_str())
        .bind(settings.roles_text())
        .bind(settings.sessions.idle_minutes())
        .bind(settings.sessions.absolute_hours())
        .bind(org.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces the practice's network rule.
    pub async fn set_network_rule(
        &self,
        org: OrgId,
        rule: &termin_domain::network::NetworkRule,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE organizations SET network_allowed = $1, network_roles = $2 WHERE id = $3",
        )
        .bind(rule.networks_text())
        .bind(rule.roles_text())
        .bind(org.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The slug of a practice, if it exists.
    pub async fn slug_of(&self, org: OrgId) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT slug FROM organizations WHERE id = $1")
                .bind(org.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn count_organizations(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn find_organization_by_slug(
        &self,
        slug: &OrgSlug,
    ) -> StoreResult<Option<Organization>> {
        sqlx::query(
            "SELECT id, slug, name, time_zone, created_at FROM organizations WHERE slug = $1",
        )
        .bind(slug.as_str())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(org_from_row)
        .transpose()
    }

    pub async fn organization(&self, org: OrgId) -> StoreResult<Option<Organization>> {
        sqlx::query("SELECT id, slug, name, time_zone, created_at FROM organizations WHERE id = $1")
            .bind(org.to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(org_from_row)
            .transpose()
    }
}

impl Tx {
    pub async fn slug_exists(&mut self, slug: &OrgSlug) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(n > 0)
    }

    /// Fails with the `slug_taken` conflict when the slug is in use.
    pub async fn insert_organization(&mut self, org: &NewOrganization) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, time_zone, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org.id.to_string())
        .bind(org.slug.as_str())
        .bind(org.name.as_str())
        .bind(org.time_zone.as_str())
        .bind(to_db(org.created_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }
}
