//! Online bookings: a pending booking holds its slot until it expires or is confirmed, and
//! the practitioner's lock serialises it with appointments (see `appointments.rs`).
//! Manage links let the patient reach their appointment by a token whose hash is kept.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use termin_domain::ids::{AppointmentId, BookingId, OrgId, PractitionerId, VisitTypeId};
use termin_domain::otp::CodeHash;
use termin_domain::schedule::span::Span;
use termin_domain::token::TokenHash;
use termin_domain::user::{Email, PhoneNumber};

use super::appointments::Booking;
use super::{PracticeData, PracticeTx, corrupt, id, placeholders};
use crate::time::{from_db, to_db};
use crate::{Store, StoreResult};

/// A hold to place.
#[derive(Debug, Clone)]
pub struct NewHold<'a> {
    pub id: BookingId,
    pub practitioner_id: PractitionerId,
    pub visit_type_id: VisitTypeId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub block: Span,
    pub expires_at: Timestamp,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub birth_date: jiff::civil::Date,
    pub phone: &'a PhoneNumber,
    pub email: Option<&'a Email>,
    pub code_hash: &'a CodeHash,
    pub now: Timestamp,
}

/// A pending booking as read back for its confirmation.
#[derive(Debug, Clone)]
pub struct PendingBooking {
    pub id: BookingId,
    pub practitioner_id: PractitionerId,
    pub visit_type_id: VisitTypeId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub block: Span,
    pub expires_at: Timestamp,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: jiff::civil::Date,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub code_hash: CodeHash,
    pub attempts: i64,
}

const COLUMNS: &str = "id, practitioner_id, visit_type_id, start_at, end_at, block_start, \
     block_end, expires_at, given_name, family_name, birth_date, phone, email, code_hash, attempts";

fn from_row(row: &AnyRow) -> StoreResult<PendingBooking> {
    Ok(PendingBooking {
        id: id(row, "id")?,
        practitioner_id: id(row, "practitioner_id")?,
        visit_type_id: id(row, "visit_type_id")?,
        start: from_db(row.try_get("start_at")?)?,
        end: from_db(row.try_get("end_at")?)?,
        block: Span::new(
            from_db(row.try_get("block_start")?)?,
            from_db(row.try_get("block_end")?)?,
        )
        .ok_or_else(|| corrupt("bookings.block"))?,
        expires_at: from_db(row.try_get("expires_at")?)?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
        birth_date: row
            .try_get::<String, _>("birth_date")?
            .parse()
            .map_err(|_| corrupt("bookings.birth_date"))?,
        phone: PhoneNumber::parse(&row.try_get::<String, _>("phone")?)
            .map_err(|_| corrupt("bookings.phone"))?,
        email: row
            .try_get::<Option<String>, _>("email")?
            .map(|e| Email::parse(&e).map_err(|_| corrupt("bookings.email")))
            .transpose()?,
        code_hash: CodeHash::from_stored(&row.try_get::<String, _>("code_hash")?)
            .ok_or_else(|| corrupt("bookings.code_hash"))?,
        attempts: row.try_get("attempts")?,
    })
}

impl PracticeData<'_> {
    /// The time held by pending bookings of these practitioners that touches [`from`, `to`)
    /// and has not expired at `now`.
    pub async fn holds(
        &self,
        practitioners: &[PractitionerId],
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<(PractitionerId, Span)>> {
        if practitioners.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT practitioner_id, block_start, block_end FROM bookings WHERE org_id = $1 \
             AND status = 'pending' AND expires_at > $2 AND block_start < $3 AND block_end > $4 \
             AND practitioner_id IN ({})",
            placeholders(5, practitioners.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.org.to_string())
            .bind(to_db(now))
            .bind(to_db(to))
            .bind(to_db(from));
        for practitioner in practitioners {
            query = query.bind(practitioner.to_string());
        }
        query
            .fetch_all(self.pool)
            .await?
            .iter()
            .map(|row| {
                let span = Span::new(
                    from_db(row.try_get("block_start")?)?,
                    from_db(row.try_get("block_end")?)?,
                )
                .ok_or_else(|| corrupt("bookings.block"))?;
                Ok((id(row, "practitioner_id")?, span))
            })
            .collect()
    }
}

impl PracticeTx<'_> {
    /// Holds a slot for a patient unless its time is taken or held.
    pub async fn hold(&mut self, hold: &NewHold<'_>) -> StoreResult<Booking> {
        if !self.lock_practitioner(hold.practitioner_id).await? {
            return Ok(Booking::NotFound);
        }
        if self
            .taken(hold.practitioner_id, &hold.block, None, None, hold.now)
            .await?
        {
            return Ok(Booking::SlotTaken);
        }
        sqlx::query(
            "INSERT INTO bookings (id, org_id, practitioner_id, visit_type_id, start_at, end_at, \
             block_start, block_end, status, expires_at, given_name, family_name, birth_date, \
             phone, email, code_hash, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, 'pending', $9, $10, $11, $12, $13, $14, $15, 0, $16)",
        )
        .bind(hold.id.to_string())
        .bind(self.org.to_string())
        .bind(hold.practitioner_id.to_string())
        .bind(hold.visit_type_id.to_string())
        .bind(to_db(hold.start))
        .bind(to_db(hold.end))
        .bind(to_db(hold.block.start))
        .bind(to_db(hold.block.end))
        .bind(to_db(hold.expires_at))
        .bind(hold.given_name)
        .bind(hold.family_name)
        .bind(hold.birth_date.to_string())
        .bind(hold.phone.as_str())
        .bind(hold.email.map(Email::as_str))
        .bind(hold.code_hash.to_stored())
        .bind(to_db(hold.now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(Booking::Done)
    }

    /// How many unexpired holds the practice has open.
    pub async fn holds_open(&mut self, now: Timestamp) -> StoreResult<usize> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bookings WHERE org_id = $1 AND status = 'pending' \
             AND expires_at > $2",
        )
        .bind(self.org.to_string())
        .bind(to_db(now))
        .fetch_one(&mut *self.tx.inner)
        .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// Unconfirmed, unexpired bookings of this phone number in the practice.
    pub async fn open_bookings_for(
        &mut self,
        phone: &PhoneNumber,
        now: Timestamp,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM bookings WHERE org_id = $1 AND phone = $2 \
             AND status = 'pending' AND expires_at > $3",
        )
        .bind(self.org.to_string())
        .bind(phone.as_str())
        .bind(to_db(now))
        .fetch_one(&mut *self.tx.inner)
        .await?)
    }

    /// Bookings (each sent a code) started for this phone number in the practice since
    /// `since`.
    pub async fn bookings_started_for(
        &mut self,
        phone: &PhoneNumber,
        since: Timestamp,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM bookings WHERE org_id = $1 AND phone = $2 AND created_at > $3",
        )
        .bind(self.org.to_string())
        .bind(phone.as_str())
        .bind(to_db(since))
        .fetch_one(&mut *self.tx.inner)
        .await?)
    }

    /// The pending, unexpired booking, its attempts counted up by one first (so that a
    /// code is never compared more often than allowed, whatever runs in parallel).
    pub async fn pending_booking_attempt(
        &mut self,
        booking: BookingId,
        now: Timestamp,
    ) -> StoreResult<Option<PendingBooking>> {
        let counted = sqlx::query(
            "UPDATE bookings SET attempts = attempts + 1 WHERE org_id = $1 AND id = $2 \
             AND status = 'pending' AND expires_at > $3",
        )
        .bind(self.org.to_string())
        .bind(booking.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        if counted.rows_affected() != 1 {
            return Ok(None);
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM bookings WHERE org_id = $1 AND id = $2"
        )))
        .bind(self.org.to_string())
        .bind(booking.to_string())
        .fetch_optional(&mut *self.tx.inner)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    /// Marks the still-open booking confirmed as this appointment; its code can no longer be
    /// used. One conditional `UPDATE`: of concurrent confirmations one wins.
    pub async fn confirm_booking(
        &mut self,
        booking: BookingId,
        appointment: AppointmentId,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE bookings SET status = 'confirmed', appointment_id = $3, code_hash = '' \
             WHERE org_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $4",
        )
        .bind(self.org.to_string())
        .bind(booking.to_string())
        .bind(appointment.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_manage_link(
        &mut self,
        token: &TokenHash,
        appointment: AppointmentId,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO manage_links (token_hash, org_id, appointment_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token.to_hex())
        .bind(self.org.to_string())
        .bind(appointment.to_string())
        .bind(to_db(now))
        .execute(&mut *self.tx.inner)
        .await?;
        Ok(())
    }
}

impl Store {
    /// The practice and appointment a manage link leads to.
    pub async fn manage_link(
        &self,
        token: &TokenHash,
    ) -> StoreResult<Option<(OrgId, AppointmentId)>> {
        let row =
            sqlx::query("SELECT org_id, appointment_id FROM manage_links WHERE token_hash = $1")
                .bind(token.to_hex())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok((id(&row, "org_id")?, id(&row, "appointment_id")?)))
            .transpose()
    }

    /// Removes what expired holds kept of the people who started them, a day after expiry.
    pub async fn prune_expired_bookings(&self, now: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM bookings WHERE status = 'pending' AND expires_at < $1")
            .bind(to_db(now - jiff::SignedDuration::from_hours(24)))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
