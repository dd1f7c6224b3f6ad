//! Patient records, the name / birth-date / phone search, duplicates and merging. Which
//! patients a member may see (those with appointments in calendars they may see, or all) is
//! part of every query, so a narrow member's search never even reads the others.

use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};
use termin_domain::ids::{PatientId, PractitionerId, UserId};
use termin_domain::rights::Scope;
use termin_domain::schedule::patient::{Kvnr, PatientDraft};
use termin_domain::schedule::visit_type::Insurance;
use termin_domain::user::{Email, PhoneNumber};

use super::{PracticeData, PracticeTx, corrupt, id, placeholders};
use crate::StoreResult;
use crate::time::{from_db, to_db};

/// A patient as stored.
#[derive(Debug, Clone)]
pub struct Patient {
    pub id: PatientId,
    pub draft: PatientDraft,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What to search for; every given criterion must match.
#[derive(Debug, Clone, Default)]
pub struct PatientQuery {
    /// A folded name prefix (`termin_domain::schedule::patient::search_term`).
    pub name: Option<String>,
    pub birth_date: Option<Date>,
    pub phone: Option<PhoneNumber>,
    pub limit: u32,
}

const COLUMNS: &str = "id, given_name, family_name, birth_date, phone, email, street, \
     postal_code, city, insurance, insurance_number, notes, created_at, updated_at";

/// Binds the record's columns and its search keys, the 15 values that insert and update
/// both write (`given_name` … `notes`, `family_key`, `family_plain`, `given_key`,
/// `given_plain`), in that order after the two ids.
fn bind_draft<'q>(
    query: Query<'q, Any, AnyArguments>,
    draft: &PatientDraft,
) -> Query<'q, Any, AnyArguments> {
    let keys = draft.search_keys();
    query
        .bind(&draft.given_name)
        .bind(&draft.family_name)
        .bind(draft.birth_date.to_string())
        .bind(draft.phone.as_ref().map(PhoneNumber::as_str))
        .bind(draft.email.as_ref().map(Email::as_str))
        .bind(draft.street.as_deref())
        .bind(draft.postal_code.as_deref())
        .bind(draft.city.as_deref())
        .bind(draft.insurance.map(Insurance::as_str))
        .bind(draft.insurance_number.as_ref().map(Kvnr::as_str))
        .bind(draft.notes.as_deref())
        .bind(&keys.family_key)
        .bind(&keys.family_plain)
        .bind(&keys.given_key)
        .bind(&keys.given_plain)
}

fn from_row(row: &AnyRow) -> StoreResult<Patient> {
    let optional = |column: &str| -> StoreResult<Option<String>> { Ok(row.try_get(column)?) };
    Ok(Patient {
        id: id(row, "id")?,
        draft: PatientDraft {
            given_name: row.try_get("given_name")?,
            family_name: row.try_get("family_name")?,
            birth_date: row
                .try_get::<String, _>("birth_date")?
                .parse()
                .map_err(|_| corrupt("patients.birth_date"))?,
            phone: optional("phone")?
                .map(|p| PhoneNumber::parse(&p).map_err(|_| corrupt("patients.phone")))
                .transpose()?,
            email: optional("email")?
                .map(|e| Email::parse(&e).map_err(|_| corrupt("patients.email")))
                .transpose()?,
            street: optional("street")?,
            postal_code: optional("postal_code")?,
            city: optional("city")?,
            insurance: optional("insurance")?
                .map(|i| Insurance::parse(&i).map_err(|_| corrupt("patients.insurance")))
                .transpose()?,
            insurance_number: optional("insurance_number")?
                .map(|n| Kvnr::parse(&n).map_err(|_| corrupt("patients.insurance_number")))
                .transpose()?,
            notes: optional("notes")?,
        },
        created_at: from_db(row.try_get("created_at")?)?,
        updated_at: from_db(row.try_get("updated_at")?)?,
    })
}

/// Which patients a member sees.
#[derive(Debug, Clone)]
pub enum PatientVisibility {
    /// Every patient of the practice ("all patients").
    All,
    /// Patients with an appointment in the calendars the member may see (`None`: every
    /// calendar), and those the member created (so that a new patient can be booked before
    /// their first appointment).
    Calendars {
        practitioners: Option<Vec<PractitionerId>>,
        member: UserId,
    },
}

impl PatientVisibility {
    /// From the member's calendar view and whether they hold "all patients".
    pub fn of(view: Option<&Scope>, all_patients: bool, member: UserId) -> Self {
        if all_patients {
            return PatientVisibility::All;
        }
        let practitioners = match view {
            Some(Scope::All) => None,
            Some(Scope::Practitioners(set)) => Some(set.iter().copied().collect()),
            None => Some(Vec::new()),
        };
        PatientVisibility::Calendars {
            practitioners,
            member,
        }
    }

    /// The SQL condition on patients (`p`); binds start at `$first`.
    fn condition(&self, first: usize) -> (String, Vec<String>) {
        let PatientVisibility::Calendars {
            practitioners,
            member,
        } = self
        else {
            return ("1 = 1".to_owned(), Vec::new());
        };
        let mut binds = vec![member.to_string()];
        let appointments = "EXISTS (SELECT 1 FROM appointments a WHERE a.org_id = p.org_id \
                            AND a.patient_id = p.id";
        let condition = match practitioners {
            None => format!("(p.created_by = ${first} OR {appointments}))"),
            Some(list) if list.is_empty() => format!("p.created_by = ${first}"),
            Some(list) => {
                binds.extend(list.iter().map(PractitionerId::to_string));
                format!(
                    "(p.created_by = ${first} OR {appointments} AND a.practitioner_id IN ({})))",
                    placeholders(first + 1, list.len())
                )
            }
        };
        (condition, binds)
    }
}

/// Escapes LIKE's wildcards (a folded term has none, but a prefix must stay a prefix).
fn prefix(term: &str) -> String {
    let escaped: String = term
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    format!("{escaped}%")
}

impl PracticeData<'_> {
    /// One patient, if the practice has it and the member may see it.
    pub async fn patient(
        &self,
        patient: PatientId,
        visibility: &PatientVisibility,
    ) -> StoreResult<Option<Patient>> {
        let (condition, binds) = visibility.condition(3);
        let sql = format!(
            "SELECT {COLUMNS} FROM patients p WHERE p.org_id = $1 AND p.id = $2 AND {condition}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.org.to_string())
            .bind(patient.to_string());
        for bind in binds {
            query = query.bind(bind);
        }
        query
            .fetch_optional(self.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    /// Patients matching `query` that the member may see, by name.
    pub async fn search_patients(
        &self,
        query: &PatientQuery,
        visibility: &PatientVisibility,
    ) -> StoreResult<Vec<Patient>> {
        let mut conditions = vec!["p.org_id = $1".to_owned()];
        let mut binds = vec![self.org.to_string()];
        if let Some(name) = &query.name {
            let n = binds.len() + 1;
            conditions.push(format!(
                "(p.family_key LIKE ${n} OR p.family_plain LIKE ${n} OR p.given_key LIKE ${n} \
                 OR p.given_plain LIKE ${n})"
            ));
            binds.push(prefix(name));
        }
        if let Some(date) = query.birth_date {
            conditions.push(format!("p.birth_date = ${}", binds.len() + 1));
            binds.push(date.to_string());
        }
        if let Some(phone) = &query.phone {
            conditions.push(format!("p.phone = ${}", binds.len() + 1));
            binds.push(phone.as_str().to_owned());
        }
        let (condition, scope_binds) = visibility.condition(binds.len() + 1);
        conditions.push(condition);
        binds.extend(scope_binds);
        let sql = format!(
            "SELECT {COLUMNS} FROM patients p WHERE {} \
             ORDER BY p.family_key, p.given_key, p.birth_date, p.id LIMIT {}",
            conditions.join(" AND "),
            query.limit.clamp(1, 200)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            q = q.bind(bind);
        }
        q.fetch_all(self.pool).await?.iter().map(from_row).collect()
    }
}

impl PracticeData<'_> {
    /// Given and family names of these patients (for the calendar: one query for a week's
    /// appointments, not one per patient). Unknown ids are left out.
    pub async fn patient_names(
        &self,
        patients: &[PatientId],
    ) -> StoreResult<std::collections::HashMap<PatientId, (String, String)>> {
        let mut names = std::collections::HashMap::new();
        let mut unique: Vec<PatientId> = patients.to_vec();
        unique.sort();
        unique.dedup();
        // Well below both backends' limits on bound parameters.
        for chunk in unique.chunks(500) {
            let sql = format!(
                "SELECT id, given_name, family_name FROM patients WHERE org_id = $1 AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.org.to_string());
            for patient in chunk {
                query = query.bind(patient.to_string());
            }
            for row in query.fetch_all(self.pool).await? {
                names.insert(
                    id(&row, "id")?,
                    (row.try_get("given_name")?, row.try_get("family_name")?),
                );
            }
        }
        Ok(names)
    }
}

impl PracticeTx<'_> {
    /// Patients of the practice with the same name (folded) and birth date: the duplicate
    /// warning on create. Not limited by visibility: a duplicate is a duplicate.
    pub async fn possible_duplicates(
        &mut self,
        draft: &PatientDraft,
    ) -> StoreResult<Vec<PatientId>> {
        let keys = draft.search_keys();
        sqlx::query(
            "SELECT id FROM patients WHERE org_id = $1 AND family_key = $2 AND given_key = $3 \
             AND birth_date = $4 ORDER BY id",
        )
        .bind(self.org.to_string())
        .bind(&keys.family_key)
        .bind(&keys.given_key)
        .bind(draft.birth_date.to_string())
        .fetch_all(&mut *self.tx.inner)
        .await?
        .iter()
        .map(|row| id(row, "id"))
        .collect()
    }

    /// Patients with these folded names and this birth date, for matching an online
    /// booking to a record (the caller compares phone and e-mail).
    pub async fn patients_named(
        &mut self,
        keys: &termin_domain::schedule::patient::SearchKeys,
        birth_date: jiff::civil::Date,
    ) -> StoreResult<Vec<Patient>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM patients WHERE org_id = $1 AND family_key = $2 \
             AND given_key = $3 AND birth_date = $4 ORDER BY created_at, id"
        )))
        .bind(self.org.to_string())
        .bind(&keys.family_key)
        .bind(&keys.given_key)
        .bind(birth_date.to_string())
        .fetch_all(&mut *self.tx.inner)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    pub async fn insert_patient(
        &mut self,
        patient: PatientId,
        draft: &PatientDraft,
        created_by: Option<UserId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let query = sqlx::query(
            "INSERT INTO patients (id, org_id, given_name, family_name, birth_date, phone, email, \
             street, postal_code, city, insurance, insurance_number, notes, family_key, \
             family_plain, given_key, given_plain, created_by, created_at, updated_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)",
        )
        .bind(patient.to_string())
        .bind(self.org.to_string());
        bind_draft(query, draft)
            .bind(created_by.map(|u| u.to_string()))
            .bind(to_db(now))
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(())
    }

    /// Replaces a patient's record; false when the practice has no such patient.
    pub async fn update_patient(
        &mut self,
        patient: PatientId,
        draft: &PatientDraft,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let query = sqlx::query(
            "UPDATE patients SET given_name = $3, family_name = $4, birth_date = $5, phone = $6, \
             email = $7, street = $8, postal_code = $9, city = $10, insurance = $11, \
             insurance_number = $12, notes = $13, family_key = $14, family_plain = $15, \
             given_key = $16, given_plain = $17, updated_at = $18 WHERE org_id = $1 AND id = $2",
        )
        .bind(self.org.to_string())
        .bind(patient.to_string());
        let done = bind_draft(query, draft)
            .bind(to_db(now))
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Merges `duplicate` into `keep`: its appointments move to `keep`, then it is deleted.
    /// False when either is not a patient of this practice (nothing changes then).
    pub async fn merge_patients(
        &mut self,
        keep: PatientId,
        duplicate: PatientId,
    ) -> StoreResult<bool> {
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM patients WHERE org_id = $1 AND id IN ($2, $3)",
        )
        .bind(self.org.to_string())
        .bind(keep.to_string())
        .bind(duplicate.to_string())
        .fetch_one(&mut *self.tx.inner)
        .await?;
        if found != 2 || keep == duplicate {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE appointments SET patient_id = $3 WHERE org_id = $1 AND patient_id = $2",
        )
        .bind(self.org.to_string())
        .bind(duplicate.to_string())
        .bind(keep.to_string())
        .execute(&mut *self.tx.inner)
        .await?;
        sqlx::query("DELETE FROM patients WHERE org_id = $1 AND id = $2")
            .bind(self.org.to_string())
            .bind(duplicate.to_string())
            .execute(&mut *self.tx.inner)
            .await?;
        Ok(true)
    }

    /// Whether the practice has this patient (inside the transaction, for bookings).
    pub async fn patient_exists(&mut self, patient: PatientId) -> StoreResult<bool> {
        let found = sqlx::query("SELECT id FROM patients WHERE org_id = $1 AND id = $2")
            .bind(self.org.to_string())
            .bind(patient.to_string())
            .fetch_optional(&mut *self.tx.inner)
            .await?;
        Ok(found.is_some())
    }
}
