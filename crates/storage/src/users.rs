//! User accounts and their memberships in practices.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{OrgId, UserId};
use termin_domain::org::OrgSlug;
use termin_domain::user::{Email, PhoneNumber, Role, UserStatus};

use crate::time::{from_db, to_db};
use crate::{StorageError, Store, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub phone: PhoneNumber,
    /// An Argon2id PHC string; never the password.
    pub password_hash: String,
    pub status: UserStatus,
    pub created_at: Timestamp,
}

#[derive(Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub email: Email,
    pub phone: PhoneNumber,
    pub password_hash: String,
    pub status: UserStatus,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A user's role in one practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub org_slug: OrgSlug,
    pub role: Role,
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("users.{what}"))
}

fn user_from_row(row: &AnyRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row
            .try_get::<String, _>("id")?
            .parse()
            .map_err(|_| corrupt("id"))?,
        email: Email::parse(&row.try_get::<String, _>("email")?).map_err(|_| corrupt("email"))?,
        phone: PhoneNumber::parse(&row.try_get::<String, _>("phone")?)
            .map_err(|_| corrupt("phone"))?,
        password_hash: row.try_get("password_hash")?,
        status: UserStatus::parse(&row.try_get::<String, _>("status")?)
            .map_err(|_| corrupt("status"))?,
        created_at: from_db(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Looks a user up by e-mail address, case-insensitively.
    pub async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        sqlx::query(
            "SELECT id, email, phone, password_hash, status, created_at \
             FROM users WHERE email_normalized = $1",
        )
        .bind(email.normalized())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    pub async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.slug, m.role FROM memberships m \
             JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.slug",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Membership {
                    org_id: row
                        .try_get::<String, _>(0)?
                        .parse()
                        .map_err(|_| corrupt("org_id"))?,
                    org_slug: OrgSlug::parse(&row.try_get::<String, _>(1)?)
                        .map_err(|_| corrupt("slug"))?,
                    role: Role::parse(&row.try_get::<String, _>(2)?)
                        .map_err(|_| corrupt("role"))?,
                })
            })
            .collect()
    }
}

impl Tx {
    /// Fails with the `email_taken` conflict when the address (in any letter case) exists.
    pub async fn insert_user(&mut self, user: &NewUser) -> StoreResult<()> {
        let at = to_db(user.created_at);
        sqlx::query(
            "INSERT INTO users (id, email, email_normalized, phone, password_hash, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id.to_string())
        .bind(user.email.as_str())
        .bind(user.email.normalized())
        .bind(user.phone.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.status.as_str())
        .bind(at)
        .bind(at)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn insert_membership(
        &mut self,
        org: OrgId,
        user: UserId,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(role.as_str())
        .bind(to_db(at))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }
}
