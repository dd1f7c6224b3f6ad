//! A write transaction. Everything a use case writes goes through one, so that it is
//! written completely or not at all.

use sqlx::{Any, Transaction};

use crate::StoreResult;

pub struct Tx {
    pub(crate) inner: Transaction<'static, Any>,
}

impl Tx {
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
