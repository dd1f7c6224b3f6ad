//! A write transaction. Everything a use case writes goes through one, so that it is
//! written completely or not at all.

use sqlx::{Any, Transaction};

use crate::StoreResult;

pub struct Tx {
    pub(crate) inner: Transaction<'static, Any>,
    pub(crate) backend: crate::Backend,
}

impl Tx {
    /// Serialises this transaction with every other one that locks the same user, so that
    /// a count-then-insert (rate limits) cannot be raced. SQLite's write transactions are
    /// already exclusive; PostgreSQL locks the user's row.
    pub async fn lock_user(&mut self, user: termin_domain::ids::UserId) -> StoreResult<()> {
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user.to_string())
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.inner.commit().await?;
        Ok(())
    }

    /// Explicit rollback; dropping a `Tx` without committing also rolls back.
    pub async fn rollback(self) -> StoreResult<()> {
        self.inner.rollback().await?;
        Ok(())
    }
}
