//! The waiting list: appointments whose patients want an earlier time of the same visit
//! type, the offers of freed times to the first of them, and the offer links (only the
//! token's hash is kept). Taking an offer is one conditional `UPDATE`, so of concurrent
//! acceptances exactly one wins, on both backends and across instances; the caller does it
//! under the practitioner's lock in the transaction that moves the winner's appointment.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{
    AppointmentId, OrgId, PatientId, PractitionerId, VisitTypeId, WaitingOfferId,
};
use termin_domain::token::TokenHash;
use termin_domain::user::{Email, PhoneNumber};

use super::{PracticeData, PracticeTx, corrupt, id};
use crate::time::{from_db, to_db};
use crate::{Store, StoreResult};

/// An appointment's place on the waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingEntry {
    pub appointment_id: AppointmentId,
    /// Only an earlier time with the appointment's own practitioner.
    pub same_practitioner: bool,
    pub joined_at: Timestamp,
}

/// Whether joining put the appointment on the list or changed its preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    New,
    /// It was waiting already; its place is kept, its preference replaced.
    Updated,
}

/// A freed time: which calendar, which visit type, when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreedTime {
    pub practitioner_id: PractitionerId,
    pub visit_type_id: VisitTypeId,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// A waiting appointment a freed time suits, with where its patient can be told.
#[derive(Debug, Clone)]
pub struct WaitingCandidate {
    pub appointment_id: AppointmentId,
    pub patient_id: PatientId,
    pub start: Timestamp,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
}

/// A freed time as offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingOffer {
    pub id: WaitingOfferId,
    pub time: FreedTime,
    pub expires_at: Timestamp,
    pub taken: bool,
}

/// Where an offer link leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferLink {
    pub org_id: OrgId,
    pub offer_id: WaitingOfferId,
    /// The waiting appointment the link was sent for.
    pub appointment_id: AppointmentId,
    /// Whether this link won the offer.
    pub used: bool,
}

fn entry_from_row(row: &AnyRow) -> StoreResult<WaitingEntry> {
    Ok(WaitingEntry {
        appointment_id: id(row, "appointment_id")?,
        same_practitioner: row.try_get::<i64, _>("same_practitioner")? != 0,
        joined_at: from_db(row.try_get("joined_at")?)?,
    })
}

const OFFER_COLUMNS: &str =
    "id, practitioner_id, visit_type_id, start_at, end_at, status, expires_at";

fn offer_from_row(row: &AnyRow) -> StoreResult<WaitingOffer> {
    Ok(WaitingOffer {
        id: id(row, "id")?,
        time: FreedTime {
            practitioner_id: id(row, "practitioner_id")?,
            visit_type_id: id(row, "visit_type_id")?,
            start: from_db(row.try_get("start_at")?)?,
            end: from_db(row.try_get("end_at")?)?,
        },
        expires_at: from_db(row.try_get("expires_at")?)?,
        taken: row.try_get::<String, _>("status")? == "taken",
    })
}

fn candidate_from_row(row: &AnyRow) -> StoreResult<WaitingCandidate> {
    Ok(WaitingCandidate {
        appointment_id: id(row, "appointment_id")?,
        patient_id: id(row, "patient_id")?,
        start: from_db(row.try_get("start_at")?)?,
        phone: row
            .try_get::<Option<String>, _>("phone")?
            .map(|p| PhoneNumber::parse(&p).map_err(|_| corrupt("patients.phone")))
            .transpose()?,
        email: row
            .try_get::<Option<String>, _>("email")?
            .map(|e| Email::parse(&e).map_err(|_| corrupt("patients.email")))
            .transpose()?,
    })
}

impl PracticeData<'_> {
    /// The appointment's place on the waiting list, if it has one.
    pub async fn waiting_entry(
        &self,
        appointment: AppointmentId,
    ) -> StoreResult<Option<WaitingEntry>> {
        sqlx::query(
            "SELECT appointment_id, same_practitioner, joined_at FROM waiting_list \
             WHERE org_id = $1 AND appointment_id = $2",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .fetch_optional(self.pool)
        .await?
        .as_ref()
        .map(entry_from_row)
        .transpose()
    }

    /// The first `limit` waiting appointments, in the order they joined, that `freed` suits:
    /// booked, of the same visit type, starting later than the freed time, with the same
    /// practitioner where the patient asked for that, still reachable by their manage link,
    /// and with a phone number or e-mail address to send the offer to.
    pub async fn waiting_for(
        &self,
        freed: &FreedTime,
        limit: usize,
    ) -> StoreResult<Vec<WaitingCandidate>> {
        sqlx::query(
            "SELECT w.appointment_id, a.patient_id, a.start_at, p.phone, p.email \
             FROM waiting_list w \
             JOIN appointments a ON a.org_id = w.org_id AND a.id = w.appointment_id \
             JOIN patients p ON p.org_id = a.org_id AND p.id = a.patient_id \
             WHERE w.org_id = $1 AND a.visit_type_id = $2 AND a.status = 'booked' \
             AND a.start_at > $3 AND (w.same_practitioner = 0 OR a.practitioner_id = $4) \
             AND (p.phone IS NOT NULL OR p.email IS NOT NULL) \
             AND EXISTS (SELECT 1 FROM manage_links m WHERE m.org_id = w.org_id \
                         AND m.appointment_id = w.appointment_id) \
             ORDER BY w.joined_at, w.seq, w.appointment_id LIMIT $5",
        )
        .bind(self.org.to_string())
        .bind(freed.visit_type_id.to_string())
        .bind(to_db(freed.start))
        .bind(freed.practitioner_id.to_string())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool)
        .await?
        .iter()
        .map(candidate_from_row)
        .collect()
    }

    pub async fn waiting_offer(&self, offer: WaitingOfferId) -> StoreResult<Option<WaitingOffer>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFER_COLUMNS} FROM waiting_offers WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(offer.to_string())
        .fetch_optional(self.pool)
        .await?
        .as_ref()
        .map(offer_from_row)
        .transpose()
    }
}

impl PracticeTx<'_> {
    /// Puts the appointment on the waiting list, or — when it is there already — replaces
    /// its preference and keeps its place.
    pub async fn join_waiting_list(
        &mut self,
        appointment: AppointmentId,
        same_practitioner: bool,
        now: Timestamp,
    ) -> StoreResult<Joined> {
        let inserted = sqlx::query(
            "INSERT INTO waiting_list (appointment_id, org_id, same_practitioner, joined_at, seq) \
             SELECT $1, $2, $3, $4, COALESCE(MAX(seq), 0) + 1 FROM waiting_list \
             WHERE org_id = $2 ON CONFLICT (appointment_id) DO NOTHING",
        )
        .bind(appointment.to_string())
        .bind(self.org.to_string())
        .bind(i64::from(same_practitioner))
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Joined::New);
        }
        sqlx::query(
            "UPDATE waiting_list SET same_practitioner = $3 \
             WHERE org_id = $1 AND appointment_id = $2",
        )
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .bind(i64::from(same_practitioner))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(Joined::Updated)
    }

    /// Takes the appointment off the waiting list; false when it was not on it.
    pub async fn leave_waiting_list(&mut self, appointment: AppointmentId) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM waiting_list WHERE org_id = $1 AND appointment_id = $2")
                .bind(self.org.to_string())
                .bind(appointment.to_string())
                .execute(&mut *self.tx.inner)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an open offer of a freed time.
    pub async fn insert_waiting_offer(
        &mut self,
        offer: WaitingOfferId,
        freed: &FreedTime,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO waiting_offers (id, org_id, practitioner_id, visit_type_id, start_at, \
             end_at, status, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
        )
        .bind(offer.to_string())
        .bind(self.org.to_string())
        .bind(freed.practitioner_id.to_string())
        .bind(freed.visit_type_id.to_string())
        .bind(to_db(freed.start))
        .bind(to_db(freed.end))
        .bind(to_db(expires_at))
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(())
    }

    /// Records the link (its token's hash) by which a waiting appointment's patient may
    /// accept the offer.
    pub async fn insert_offer_link(
        &mut self,
        token: &TokenHash,
        offer: WaitingOfferId,
        appointment: AppointmentId,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO waiting_offer_links (token_hash, org_id, offer_id, appointment_id, \
             created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.to_hex())
        .bind(self.org.to_string())
        .bind(offer.to_string())
        .bind(appointment.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(())
    }

    /// Takes the open, unexpired offer by `token`'s link: one conditional `UPDATE`, so of
    /// concurrent acceptances one wins. False when it is taken, expired or unknown.
    pub async fn take_waiting_offer(
        &mut self,
        offer: WaitingOfferId,
        token: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let taken = sqlx::query(
            "UPDATE waiting_offers SET status = 'taken', taken_at = $3 \
             WHERE org_id = $1 AND id = $2 AND status = 'open' AND expires_at > $3",
        )
        .bind(self.org.to_string())
        .bind(offer.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        if taken.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE waiting_offer_links SET used_at = $3 WHERE org_id = $1 AND token_hash = $2",
        )
        .bind(self.org.to_string())
        .bind(token.to_hex())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(true)
    }

    /// The offer, read inside the transaction (after a failed take: taken or expired?).
    pub async fn waiting_offer(
        &mut self,
        offer: WaitingOfferId,
    ) -> StoreResult<Option<WaitingOffer>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFER_COLUMNS} FROM waiting_offers WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(offer.to_string())
        .fetch_optional(&mut *self.tx.inner)
        .await?
        .as_ref()
        .map(offer_from_row)
        .transpose()
    }
}

impl Store {
    /// Where an offer link leads (any practice: the token is the only key).
    pub async fn offer_link(&self, token: &TokenHash) -> StoreResult<Option<OfferLink>> {
        sqlx::query(
            "SELECT org_id, offer_id, appointment_id, used_at FROM waiting_offer_links \
             WHERE token_hash = $1",
        )
        .bind(token.to_hex())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| {
            Ok(OfferLink {
                org_id: id(&row, "org_id")?,
                offer_id: id(&row, "offer_id")?,
                appointment_id: id(&row, "appointment_id")?,
                used: row.try_get::<Option<i64>, _>("used_at")?.is_some(),
            })
        })
        .transpose()
    }
}
