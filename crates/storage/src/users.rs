//! User accounts and their memberships in practices.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{OrgId, UserId};
use termin_domain::network::NetworkRule;
use termin_domain::org::{OrgSlug, TimeZoneName};
use termin_domain::rights::{self, Adjustments, Rights};
use termin_domain::security::SecuritySettings;
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
    pub email_verified_at: Option<Timestamp>,
    pub phone_verified_at: Option<Timestamp>,
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
    pub org_name: String,
    pub role: Role,
    /// The practice's account-security settings, which bind its members.
    pub security: SecuritySettings,
    /// Adjustments of the role's preset for this member.
    pub adjustments: Adjustments,
    /// Where the practice's staff may act from.
    pub network: NetworkRule,
    /// The practice's time zone: opening hours and wall-clock times are in it.
    pub time_zone: TimeZoneName,
}

impl Membership {
    /// The member's effective rights in this practice.
    pub fn rights(&self) -> Rights {
        rights::effective(self.role, &self.adjustments)
    }
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
        email_verified_at: row
            .try_get::<Option<i64>, _>("email_verified_at")?
            .map(from_db)
            .transpose()?,
        phone_verified_at: row
            .try_get::<Option<i64>, _>("phone_verified_at")?
            .map(from_db)
            .transpose()?,
    })
}

const USER_COLUMNS: &str =
    "id, email, phone, password_hash, status, created_at, email_verified_at, phone_verified_at";

impl Store {
    /// Looks a user up by e-mail address, case-insensitively.
    pub async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<UserRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email_normalized = $1"
        )))
        .bind(email.normalized())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    pub async fn find_user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    /// Replaces the password hash (a rehash with raised parameters, or a new password).
    pub async fn set_password_hash(
        &self,
        id: UserId,
        phc: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        set_password_hash(&self.pool, id, phc, now).await
    }

    pub async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let mut adjustments = self.adjustments_of_user(user).await?;
        let rows = sqlx::query(
            "SELECT m.org_id, o.slug, m.role, o.name, o.password_policy, o.strong_factor_roles, \
             o.session_idle_minutes, o.session_max_hours, o.network_allowed, o.network_roles, \
             o.time_zone FROM memberships m \
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
                    org_name: row.try_get(3)?,
                    security: SecuritySettings::from_stored(
                        &row.try_get::<String, _>(4)?,
                        &row.try_get::<String, _>(5)?,
                        row.try_get::<i64, _>(6)?,
                        row.try_get::<i64, _>(7)?,
                    )
                    .ok_or_else(|| corrupt("organization security settings"))?,
                    adjustments: Adjustments::default(),
                    network: NetworkRule::from_stored(
                        &row.try_get::<String, _>(8)?,
                        &row.try_get::<String, _>(9)?,
                    )
                    .ok_or_else(|| corrupt("organization network rule"))?,
                    time_zone: TimeZoneName::parse(&row.try_get::<String, _>(10)?)
                        .map_err(|_| corrupt("time_zone"))?,
                })
            })
            .map(|m: StoreResult<Membership>| {
                m.map(|mut m| {
                    m.adjustments = adjustments.remove(&m.org_id).unwrap_or_default();
                    m
                })
            })
            .collect()
    }
}

/// A practice's member as its administrators see them.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub status: UserStatus,
    pub adjustments: Adjustments,
}

impl Member {
    pub fn rights(&self) -> Rights {
        rights::effective(self.role, &self.adjustments)
    }
}

impl Store {
    /// Everyone who belongs to `org`, by e-mail address.
    pub async fn members_of(&self, org: termin_domain::ids::OrgId) -> StoreResult<Vec<Member>> {
        let mut adjustments = self.adjustments_in(org).await?;
        let rows = sqlx::query(
            "SELECT u.id, u.email, m.role, u.status FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email_normalized",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Member {
                    user_id: row
                        .try_get::<String, _>(0)?
                        .parse()
                        .map_err(|_| corrupt("id"))?,
                    email: Email::parse(&row.try_get::<String, _>(1)?)
                        .map_err(|_| corrupt("email"))?,
                    role: Role::parse(&row.try_get::<String, _>(2)?)
                        .map_err(|_| corrupt("role"))?,
                    status: UserStatus::parse(&row.try_get::<String, _>(3)?)
                        .map_err(|_| corrupt("status"))?,
                    adjustments: Adjustments::default(),
                })
            })
            .map(|m: StoreResult<Member>| {
                m.map(|mut m| {
                    m.adjustments = adjustments.remove(&m.user_id).unwrap_or_default();
                    m
                })
            })
            .collect()
    }
}

/// The one statement that replaces a password hash, on the pool or inside a transaction.
async fn set_password_hash<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: UserId,
    phc: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(phc)
        .bind(to_db(now))
        .bind(id.to_string())
        .execute(executor)
        .await?;
    Ok(())
}

impl Tx {
    /// Replaces the password hash as part of this transaction (a password reset).
    pub async fn set_password_hash(
        &mut self,
        id: UserId,
        phc: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        set_password_hash(&mut *self.inner, id, phc, now).await
    }

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

    /// Records that the user proved possession of their e-mail address or mobile number,
    /// and activates the account once both are proven.
    pub async fn mark_contact_verified(
        &mut self,
        id: UserId,
        email: bool,
        now: Timestamp,
    ) -> StoreResult<()> {
        let column = if email {
            "email_verified_at"
        } else {
            "phone_verified_at"
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE users SET {column} = COALESCE({column}, $1), updated_at = $1 WHERE id = $2"
        )))
        .bind(to_db(now))
        .bind(id.to_string())
        .execute(&mut *self.inner)
        .await?;
        sqlx::query(
            "UPDATE users SET status = 'active' WHERE id = $1 AND status = 'verification_pending' \
             AND email_verified_at IS NOT NULL AND phone_verified_at IS NOT NULL",
        )
        .bind(id.to_string())
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Which contacts of the user are verified, as this transaction sees them.
    pub async fn contacts_verified(&mut self, id: UserId) -> StoreResult<(bool, bool)> {
        let (email, phone): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT email_verified_at, phone_verified_at FROM users WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&mut *self.inner)
                .await?;
        Ok((email.is_some(), phone.is_some()))
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
