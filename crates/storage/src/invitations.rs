//! Invitations: a single-use link, stored as a hash, valid for 72 hours.

use std::collections::BTreeSet;

use jiff::Timestamp;
use sqlx::Row;
use termin_domain::ids::{OrgId, PractitionerId, UserId};
use termin_domain::org::OrgName;
use termin_domain::password::PasswordPolicy;
use termin_domain::token::TokenHash;
use termin_domain::user::{Email, PhoneNumber, Role};

use crate::time::to_db;
use crate::{StorageError, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub id: String,
    pub org_id: OrgId,
    pub email: Email,
    pub phone: PhoneNumber,
    pub role: Role,
    pub token_hash: TokenHash,
    pub invited_by: UserId,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    /// Calendars the new member's calendar permissions are narrowed to (empty: all).
    pub practitioner_ids: BTreeSet<PractitionerId>,
}

/// An invitation taken up by its link, with what the new account needs.
#[derive(Debug, Clone)]
pub struct AcceptedInvitation {
    pub org_id: OrgId,
    pub org_name: OrgName,
    pub email: Email,
    pub phone: PhoneNumber,
    pub role: Role,
    /// The inviter's role in the practice *now* (`None` if they left it).
    pub inviter_role: Option<Role>,
    /// The practice's password policy, which the new password must meet.
    pub password_policy: PasswordPolicy,
    /// Calendars the member's calendar permissions are narrowed to (empty: all).
    pub practitioner_ids: BTreeSet<PractitionerId>,
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("invitations.{what}"))
}

impl Tx {
    pub async fn insert_invitation(&mut self, inv: &NewInvitation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invitations (id, org_id, email, phone, role, token_hash, invited_by, \
             created_at, expires_at, practitioner_ids) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&inv.id)
        .bind(inv.org_id.to_string())
        .bind(inv.email.as_str())
        .bind(inv.phone.as_str())
        .bind(inv.role.as_str())
        .bind(inv.token_hash.to_hex())
        .bind(inv.invited_by.to_string())
        .bind(to_db(inv.now))
        .bind(to_db(inv.expires_at))
        .bind(
            inv.practitioner_ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Uses the invitation up: one conditional UPDATE, so of concurrent attempts exactly
    /// one wins. `false` when unknown, used or expired.
    pub async fn accept_invitation(
        &mut self,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 \
             WHERE token_hash = $2 AND accepted_at IS NULL AND expires_at > $1",
        )
        .bind(to_db(now))
        .bind(token.to_hex())
        .execute(&mut *self.inner)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}

impl crate::Store {
    /// The open invitation with this token (unused, not expired), without using it.
    pub async fn find_open_invitation(
        &self,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<AcceptedInvitation>> {
        let row = sqlx::query(
            "SELECT i.org_id, i.email, i.phone, i.role, o.name, o.password_policy, \
             i.practitioner_ids, m.role AS inviter_role \
             FROM invitations i JOIN organizations o ON o.id = i.org_id \
             LEFT JOIN memberships m ON m.org_id = i.org_id AND m.user_id = i.invited_by \
             WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2",
        )
        .bind(token.to_hex())
        .bind(to_db(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(AcceptedInvitation {
            org_id: row
                .try_get::<String, _>("org_id")?
                .parse()
                .map_err(|_| corrupt("org_id"))?,
            org_name: OrgName::parse(&row.try_get::<String, _>("name")?)
                .map_err(|_| corrupt("org name"))?,
            email: Email::parse(&row.try_get::<String, _>("email")?)
                .map_err(|_| corrupt("email"))?,
            phone: PhoneNumber::parse(&row.try_get::<String, _>("phone")?)
                .map_err(|_| corrupt("phone"))?,
            role: Role::parse(&row.try_get::<String, _>("role")?).map_err(|_| corrupt("role"))?,
            inviter_role: row
                .try_get::<Option<String>, _>("inviter_role")?
                .map(|r| Role::parse(&r).map_err(|_| corrupt("inviter role")))
                .transpose()?,
            password_policy: PasswordPolicy::parse(&row.try_get::<String, _>("password_policy")?)
                .ok_or_else(|| corrupt("password policy"))?,
            practitioner_ids: row
                .try_get::<String, _>("practitioner_ids")?
                .split(',')
                .filter(|id| !id.is_empty())
                .map(|id| id.parse().map_err(|_| corrupt("practitioner_ids")))
                .collect::<StoreResult<BTreeSet<_>>>()?,
        }))
    }
}
