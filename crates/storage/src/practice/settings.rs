//! A practice's scheduling settings kept on its row: how many waiting patients a freed time
//! is offered to at once.

use super::{PracticeData, PracticeTx};
use crate::StoreResult;

impl PracticeData<'_> {
    pub async fn waiting_list_offers(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT waiting_list_offers FROM organizations WHERE id = $1")
                .bind(self.org.to_string())
                .fetch_one(self.pool)
                .await?,
        )
    }
}

impl PracticeTx<'_> {
    pub async fn set_waiting_list_offers(&mut self, offers: usize) -> StoreResult<()> {
        sqlx::query("UPDATE organizations SET waiting_list_offers = $2 WHERE id = $1")
            .bind(self.org.to_string())
            .bind(i64::try_from(offers).unwrap_or(i64::MAX))
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(())
    }
}
