//! Practitioners (calendars) and their weekly opening hours.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::PractitionerId;
use termin_domain::schedule::hours::{RawOpeningRule, WeeklyHours};
use termin_domain::schedule::practitioner::{Colour, PractitionerDraft};

use super::{PracticeData, PracticeTx, corrupt, id};
use crate::time::to_db;
use crate::{Backend, StoreResult};

/// A practitioner as stored.
#[derive(Debug, Clone)]
pub struct Practitioner {
    pub id: PractitionerId,
    pub draft: PractitionerDraft,
    pub hours: WeeklyHours,
    pub active: bool,
}

const COLUMNS: &str = "id, name, title, specialty, colour, room, opening_hours, active";

fn from_row(row: &AnyRow) -> StoreResult<Practitioner> {
    let raw_hours: Vec<RawOpeningRule> =
        serde_json::from_str(&row.try_get::<String, _>("opening_hours")?)
            .map_err(|_| corrupt("practitioners.opening_hours"))?;
    Ok(Practitioner {
        id: id(row, "id")?,
        draft: PractitionerDraft {
            name: row.try_get("name")?,
            title: row.try_get("title")?,
            specialty: row.try_get("specialty")?,
            colour: Colour::parse(&row.try_get::<String, _>("colour")?)
                .map_err(|_| corrupt("practitioners.colour"))?,
            room: row.try_get("room")?,
        },
        hours: WeeklyHours::parse(&raw_hours)
            .map_err(|_| corrupt("practitioners.opening_hours"))?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn hours_json(hours: &WeeklyHours) -> StoreResult<String> {
    serde_json::to_string(&hours.to_raw()).map_err(|_| corrupt("opening hours do not serialise"))
}

impl PracticeData<'_> {
    /// Every practitioner of the practice, by name.
    pub async fn practitioners(&self) -> StoreResult<Vec<Practitioner>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM practitioners WHERE org_id = $1 ORDER BY name, id"
        )))
        .bind(self.org.to_string())
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    pub async fn practitioner(
        &self,
        practitioner: PractitionerId,
    ) -> StoreResult<Option<Practitioner>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM practitioners WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(practitioner.to_string())
        .fetch_optional(self.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }
}

impl PracticeTx<'_> {
    pub async fn insert_practitioner(
        &mut self,
        practitioner: PractitionerId,
        draft: &PractitionerDraft,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO practitioners (id, org_id, name, title, specialty, colour, room, \
             opening_hours, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', 1, $8)",
        )
        .bind(practitioner.to_string())
        .bind(self.org.to_string())
        .bind(&draft.name)
        .bind(draft.title.as_deref())
        .bind(draft.specialty.as_deref())
        .bind(draft.colour.as_str())
        .bind(draft.room.as_deref())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(())
    }

    /// Changes the record; false when the practice has no such practitioner.
    pub async fn update_practitioner(
        &mut self,
        practitioner: PractitionerId,
        draft: &PractitionerDraft,
        active: bool,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE practitioners SET name = $3, title = $4, specialty = $5, colour = $6, \
             room = $7, active = $8 WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(practitioner.to_string())
        .bind(&draft.name)
        .bind(draft.title.as_deref())
        .bind(draft.specialty.as_deref())
        .bind(draft.colour.as_str())
        .bind(draft.room.as_deref())
        .bind(i64::from(active))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the weekly opening hours; false when there is no such practitioner.
    pub async fn set_opening_hours(
        &mut self,
        practitioner: PractitionerId,
        hours: &WeeklyHours,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE practitioners SET opening_hours = $3 WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(practitioner.to_string())
        .bind(hours_json(hours)?)
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Serialises every booking into this practitioner's calendar with every other one,
    /// across instances: PostgreSQL locks the practitioner's row until the transaction ends;
    /// SQLite's write transactions are exclusive already. False when there is no such
    /// practitioner in this practice.
    pub async fn lock_practitioner(&mut self, practitioner: PractitionerId) -> StoreResult<bool> {
        let lock = if self.tx.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2{lock}"
        )))
        .bind(self.org.to_string())
        .bind(practitioner.to_string())
        .fetch_optional(&mut *self.tx.inner)
        .await?;
        Ok(found.is_some())
    }

    /// Which of `ids` are practitioners of this practice.
    pub async fn known_practitioners(
        &mut self,
        ids: &[PractitionerId],
    ) -> StoreResult<Vec<PractitionerId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM practitioners WHERE org_id = $1 AND id IN ({})",
            super::placeholders(2, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.org.to_string());
        for practitioner in ids {
            query = query.bind(practitioner.to_string());
        }
        query
            .fetch_all(&mut *self.tx.inner)
            .await?
            .iter()
            .map(|row| id(row, "id"))
            .collect()
    }
}
