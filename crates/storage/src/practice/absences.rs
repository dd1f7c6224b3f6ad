//! Absences of one or several practitioners (holidays, training, a weekly free afternoon).

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{AbsenceId, PractitionerId};
use termin_domain::schedule::absence::{AbsencePlan, RawAbsencePlan};

use super::{PracticeData, PracticeTx, corrupt, id};
use crate::StoreResult;
use crate::time::to_db;

/// An absence as stored.
#[derive(Debug, Clone)]
pub struct Absence {
    pub id: AbsenceId,
    pub plan: AbsencePlan,
    pub practitioner_ids: BTreeSet<PractitionerId>,
    pub reason: Option<String>,
}

fn from_row(row: &AnyRow, practitioners: BTreeSet<PractitionerId>) -> StoreResult<Absence> {
    let raw = RawAbsencePlan {
        start_date: row.try_get("start_date")?,
        end_date: row.try_get("end_date")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        repeat_weekly_until: row.try_get("repeat_weekly_until")?,
    };
    Ok(Absence {
        id: id(row, "id")?,
        plan: AbsencePlan::parse(&raw).map_err(|_| corrupt("absences"))?,
        practitioner_ids: practitioners,
        reason: row.try_get("reason")?,
    })
}

impl PracticeData<'_> {
    /// The absences that may touch [`from`, `to`] (dates as `YYYY-MM-DD` compare as text),
    /// recurring ones included.
    pub async fn absences(
        &self,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> StoreResult<Vec<Absence>> {
        let org = self.org.to_string();
        let mut who: HashMap<String, BTreeSet<PractitionerId>> = HashMap::new();
        for row in sqlx::query(
            "SELECT absence_id, practitioner_id FROM absence_practitioners WHERE org_id = $1",
        )
        .bind(&org)
        .fetch_all(self.pool)
        .await?
        {
            who.entry(row.try_get("absence_id")?)
                .or_default()
                .insert(id(&row, "practitioner_id")?);
        }
        sqlx::query(
            "SELECT id, start_date, end_date, start_time, end_time, repeat_weekly_until, reason \
             FROM absences WHERE org_id = $1 AND start_date <= $2 \
             AND (end_date >= $3 OR repeat_weekly_until >= $3) ORDER BY start_date, id",
        )
        .bind(&org)
        .bind(to.to_string())
        .bind(
            from.checked_sub(jiff::Span::new().days(7))
                .unwrap_or(from)
                .to_string(),
        )
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|row| {
            let key: String = row.try_get("id")?;
            from_row(row, who.remove(&key).unwrap_or_default())
        })
        .collect()
    }
}

impl PracticeData<'_> {
    /// One absence of the practice.
    pub async fn absence(&self, absence: AbsenceId) -> StoreResult<Option<Absence>> {
        let Some(row) = sqlx::query(
            "SELECT id, start_date, end_date, start_time, end_time, repeat_weekly_until, reason \
             FROM absences WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(absence.to_string())
        .fetch_optional(self.pool)
        .await?
        else {
            return Ok(None);
        };
        let practitioners = sqlx::query(
            "SELECT practitioner_id FROM absence_practitioners WHERE org_id = $1 AND absence_id = $2",
        )
        .bind(self.org.to_string())
        .bind(absence.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|r| id(r, "practitioner_id"))
        .collect::<StoreResult<BTreeSet<_>>>()?;
        from_row(&row, practitioners).map(Some)
    }
}

impl PracticeTx<'_> {
    pub async fn insert_absence(
        &mut self,
        absence: AbsenceId,
        plan: &AbsencePlan,
        practitioners: &BTreeSet<PractitionerId>,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let raw = plan.to_raw();
        sqlx::query(
            "INSERT INTO absences (id, org_id, start_date, end_date, start_time, end_time, \
             repeat_weekly_until, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(absence.to_string())
        .bind(self.org.to_string())
        .bind(&raw.start_date)
        .bind(&raw.end_date)
        .bind(raw.start_time.as_deref())
        .bind(raw.end_time.as_deref())
        .bind(raw.repeat_weekly_until.as_deref())
        .bind(reason)
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        for practitioner in practitioners {
            sqlx::query(
                "INSERT INTO absence_practitioners (org_id, absence_id, practitioner_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(self.org.to_string())
            .bind(absence.to_string())
            .bind(practitioner.to_string())
            .execute(&mut *self.tx.inner)
            .await?;
        }
        Ok(())
    }

    /// Removes an absence; false when the practice has no such absence.
    pub async fn delete_absence(&mut self, absence: AbsenceId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM absences WHERE org_id = $1 AND id = $2")
            .bind(self.org.to_string())
            .bind(absence.to_string())
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
