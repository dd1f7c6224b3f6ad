//! Trusted devices: where a user completed a login, recognised by a long-lived cookie whose
//! token is stored only as a hash.

use jiff::Timestamp;
use sqlx::Row;
use termin_domain::ids::UserId;
use termin_domain::token::TokenHash;

use crate::time::{from_db, to_db};
use crate::{Store, StoreResult, Tx};

#[derive(Debug, Clone)]
pub struct NewDevice {
    pub user_id: UserId,
    pub token_hash: TokenHash,
    pub name: String,
    pub now: Timestamp,
    pub ip: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub last_ip: String,
}

impl Tx {
    pub async fn insert_trusted_device(&mut self, device: &NewDevice) -> StoreResult<String> {
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO trusted_devices (id, user_id, token_hash, name, created_at, last_used_at, \
             last_ip, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
        )
        .bind(&id)
        .bind(device.user_id.to_string())
        .bind(device.token_hash.to_hex())
        .bind(&device.name)
        .bind(to_db(device.now))
        .bind(&device.ip)
        .bind(to_db(device.expires_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(id)
    }
}

impl Store {
    /// The device with this cookie token, if it is trusted for `user` and not expired;
    /// its last use is recorded.
    pub async fn use_trusted_device(
        &self,
        token: &TokenHash,
        user: UserId,
        now: Timestamp,
        ip: &str,
    ) -> StoreResult<Option<String>> {
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE trusted_devices SET last_used_at = $1, last_ip = $2 \
             WHERE token_hash = $3 AND user_id = $4 AND expires_at > $1 RETURNING id",
        )
        .bind(to_db(now))
        .bind(ip)
        .bind(token.to_hex())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn trusted_devices_of(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<DeviceRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at, last_ip FROM trusted_devices \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY last_used_at DESC",
        )
        .bind(user.to_string())
        .bind(to_db(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeviceRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: from_db(row.try_get("created_at")?)?,
                    last_used_at: from_db(row.try_get("last_used_at")?)?,
                    last_ip: row.try_get("last_ip")?,
                })
            })
            .collect()
    }

    /// Removes one of `user`'s devices; `false` if it is not theirs or unknown.
    pub async fn delete_trusted_device(&self, user: UserId, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM trusted_devices WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.to_string())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}

impl Store {
    /// The id of `user`'s trusted device with this cookie token, without recording a use.
    pub async fn trusted_device_id(
        &self,
        token: &TokenHash,
        user: UserId,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM trusted_devices WHERE token_hash = $1 AND user_id = $2",
        )
        .bind(token.to_hex())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }
}
