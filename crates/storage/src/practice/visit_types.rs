//! Visit types and which practitioners offer them.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};
use termin_domain::ids::{PractitionerId, VisitTypeId};
use termin_domain::schedule::visit_type::{BookingRules, Insurance, VisitTypeDraft};

use super::{PracticeData, PracticeTx, corrupt, id};
use crate::StoreResult;
use crate::time::to_db;

/// A visit type as stored.
#[derive(Debug, Clone)]
pub struct VisitType {
    pub id: VisitTypeId,
    pub draft: VisitTypeDraft,
    pub active: bool,
}

const COLUMNS: &str = "id, name, duration_minutes, buffer_before_minutes, buffer_after_minutes, \
     online_bookable, new_patients, returning_patients, insurances, instructions, \
     min_lead_minutes, max_horizon_days, cancel_deadline_hours, active";

fn minutes(row: &AnyRow, column: &str) -> StoreResult<u32> {
    u32::try_from(row.try_get::<i64, _>(column)?).map_err(|_| corrupt(column))
}

fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

fn from_row(row: &AnyRow, practitioners: BTreeSet<PractitionerId>) -> StoreResult<VisitType> {
    let insurances = row
        .try_get::<String, _>("insurances")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Insurance::parse(s).map_err(|_| corrupt("visit_types.insurances")))
        .collect::<StoreResult<BTreeSet<_>>>()?;
    Ok(VisitType {
        id: id(row, "id")?,
        draft: VisitTypeDraft {
            name: row.try_get("name")?,
            duration_minutes: minutes(row, "duration_minutes")?,
            buffer_before_minutes: minutes(row, "buffer_before_minutes")?,
            buffer_after_minutes: minutes(row, "buffer_after_minutes")?,
            online_bookable: flag(row, "online_bookable")?,
            new_patients: flag(row, "new_patients")?,
            returning_patients: flag(row, "returning_patients")?,
            insurances,
            practitioner_ids: practitioners,
            instructions: row.try_get("instructions")?,
            rules: BookingRules {
                min_lead_minutes: minutes(row, "min_lead_minutes")?,
                max_horizon_days: minutes(row, "max_horizon_days")?,
                cancel_deadline_hours: minutes(row, "cancel_deadline_hours")?,
            },
        },
        active: flag(row, "active")?,
    })
}

fn insurances_text(draft: &VisitTypeDraft) -> String {
    draft
        .insurances
        .iter()
        .map(|i| i.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Binds the draft's own columns, the 12 that insert and update both write (`name` …
/// `cancel_deadline_hours`, in `COLUMNS` order; who offers it is a table of its own).
fn bind_draft<'q>(
    query: Query<'q, Any, AnyArguments>,
    draft: &VisitTypeDraft,
) -> Query<'q, Any, AnyArguments> {
    query
        .bind(&draft.name)
        .bind(i64::from(draft.duration_minutes))
        .bind(i64::from(draft.buffer_before_minutes))
        .bind(i64::from(draft.buffer_after_minutes))
        .bind(i64::from(draft.online_bookable))
        .bind(i64::from(draft.new_patients))
        .bind(i64::from(draft.returning_patients))
        .bind(insurances_text(draft))
        .bind(draft.instructions.as_deref())
        .bind(i64::from(draft.rules.min_lead_minutes))
        .bind(i64::from(draft.rules.max_horizon_days))
        .bind(i64::from(draft.rules.cancel_deadline_hours))
}

impl PracticeData<'_> {
    /// Every visit type of the practice, by name, with who offers it.
    pub async fn visit_types(&self) -> StoreResult<Vec<VisitType>> {
        let org = self.org.to_string();
        let mut offered: HashMap<String, BTreeSet<PractitionerId>> = HashMap::new();
        for row in sqlx::query(
            "SELECT visit_type_id, practitioner_id FROM visit_type_practitioners WHERE org_id = $1",
        )
        .bind(&org)
        .fetch_all(self.pool)
        .await?
        {
            offered
                .entry(row.try_get("visit_type_id")?)
                .or_default()
                .insert(id(&row, "practitioner_id")?);
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM visit_types WHERE org_id = $1 ORDER BY name, id"
        )))
        .bind(&org)
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(|row| {
            let key: String = row.try_get("id")?;
            from_row(row, offered.remove(&key).unwrap_or_default())
        })
        .collect()
    }

    pub async fn visit_type(&self, visit_type: VisitTypeId) -> StoreResult<Option<VisitType>> {
        Ok(self
            .visit_types()
            .await?
            .into_iter()
            .find(|v| v.id == visit_type))
    }
}

impl PracticeTx<'_> {
    /// Stores a visit type; the practitioners must be the practice's (the composite foreign
    /// key refuses others).
    pub async fn insert_visit_type(
        &mut self,
        visit_type: VisitTypeId,
        draft: &VisitTypeDraft,
        now: Timestamp,
    ) -> StoreResult<()> {
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO visit_types ({COLUMNS}, org_id, created_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15)"
        )))
        .bind(visit_type.to_string());
        bind_draft(query, draft)
            .bind(self.org.to_string())
            .bind(to_db(now))
            .execute(&mut *self.tx.inner)
            .await?;
        self.set_offered_by(visit_type, &draft.practitioner_ids)
            .await
    }

    /// Changes a visit type; false when the practice has no such visit type.
    pub async fn update_visit_type(
        &mut self,
        visit_type: VisitTypeId,
        draft: &VisitTypeDraft,
        active: bool,
    ) -> StoreResult<bool> {
        let query = sqlx::query(
            "UPDATE visit_types SET name = $3, duration_minutes = $4, buffer_before_minutes = $5, \
             buffer_after_minutes = $6, online_bookable = $7, new_patients = $8, \
             returning_patients = $9, insurances = $10, instructions = $11, \
             min_lead_minutes = $12, max_horizon_days = $13, cancel_deadline_hours = $14, \
             active = $15 WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(visit_type.to_string());
        let done = bind_draft(query, draft)
            .bind(i64::from(active))
            .execute(&mut *self.tx.inner)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.set_offered_by(visit_type, &draft.practitioner_ids)
            .await?;
        Ok(true)
    }

    async fn set_offered_by(
        &mut self,
        visit_type: VisitTypeId,
        practitioners: &BTreeSet<PractitionerId>,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM visit_type_practitioners WHERE org_id = $1 AND visit_type_id = $2",
        )
        .bind(self.org.to_string())
        .bind(visit_type.to_string())
        .execute(&mut *self.tx.inner)
        .await?;
        for practitioner in practitioners {
            sqlx::query(
                "INSERT INTO visit_type_practitioners (org_id, visit_type_id, practitioner_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(self.org.to_string())
            .bind(visit_type.to_string())
            .bind(practitioner.to_string())
            .execute(&mut *self.tx.inner)
            .await?;
        }
        Ok(())
    }

    /// The visit type, read inside the transaction.
    pub async fn visit_type_for_booking(
        &mut self,
        visit_type: VisitTypeId,
    ) -> StoreResult<Option<VisitType>> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM visit_types WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(visit_type.to_string())
        .fetch_optional(&mut *self.tx.inner)
        .await?
        else {
            return Ok(None);
        };
        let practitioners = sqlx::query(
            "SELECT practitioner_id FROM visit_type_practitioners \
             WHERE org_id = $1 AND visit_type_id = $2",
        )
        .bind(self.org.to_string())
        .bind(visit_type.to_string())
        .fetch_all(&mut *self.tx.inner)
        .await?
        .iter()
        .map(|r| id(r, "practitioner_id"))
        .collect::<StoreResult<BTreeSet<_>>>()?;
        from_row(&row, practitioners).map(Some)
    }
}
