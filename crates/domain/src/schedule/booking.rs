//! Online booking by patients: the rules for holding a slot, the patient's details, and
//! when a booking belongs to an existing patient record.

use jiff::SignedDuration;
use jiff::civil::Date;
use serde::Deserialize;

use super::patient::{SearchKeys, parse_birth_date, patient_phone};
use super::text;
use crate::error::{DomainError, FieldErrors};
use crate::user::{Email, PhoneNumber};

/// How long a started booking holds its slot for the patient to enter the SMS code.
pub const HOLD: SignedDuration = SignedDuration::from_mins(10);

/// Unconfirmed bookings one phone number may have open in a practice at a time.
pub const MAX_OPEN_PER_PHONE: i64 = 3;

/// The patient's details as the booking form sends them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawBookingPatient {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub phone: String,
    pub email: Option<String>,
}

/// Checked details of the person booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPatient {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Date,
    /// Where the confirmation code goes: required.
    pub phone: PhoneNumber,
    pub email: Option<Email>,
}

impl BookingPatient {
    /// Field errors are reported as `patient.<field>`.
    pub fn parse(raw: &RawBookingPatient, today: Date) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let given_name = text::required(&mut errors, "patient.given_name", &raw.given_name, 100);
        let family_name = text::required(&mut errors, "patient.family_name", &raw.family_name, 100);
        let birth_date = errors.take(
            "patient.birth_date",
            parse_birth_date(&raw.birth_date, today),
        );
        let phone = if raw.phone.trim().is_empty() {
            errors.add(
                "patient.phone",
                "is required: the confirmation code is sent there",
            );
            None
        } else {
            errors.take("patient.phone", patient_phone(&raw.phone))
        };
        let email = raw
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .and_then(|e| errors.take("patient.email", Email::parse(e)));
        errors.into_result()?;
        let (Some(birth_date), Some(phone)) = (birth_date, phone) else {
            return Err(DomainError::invalid("patient", "is incomplete"));
        };
        Ok(Self {
            given_name,
            family_name,
            birth_date,
            phone,
            email,
        })
    }

    pub fn search_keys(&self) -> SearchKeys {
        SearchKeys::of(&self.given_name, &self.family_name)
    }
}

/// Whether a stored patient is the one booking: the same name (folded), the same birth
/// date, and the same phone number or e-mail address. Anything less creates a new record
/// (staff can merge it) rather than attach a booking to someone else's file.
pub fn same_person(
    booking: &BookingPatient,
    keys: &SearchKeys,
    birth_date: Date,
    phone: Option<&PhoneNumber>,
    email: Option<&Email>,
) -> bool {
    let mine = booking.search_keys();
    let contact = phone.is_some_and(|p| p == &booking.phone)
        || matches!((email, &booking.email), (Some(a), Some(b)) if a.normalized() == b.normalized());
    mine.family_key == keys.family_key
        && mine.given_key == keys.given_key
        && birth_date == booking.birth_date
        && contact
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn raw() -> RawBookingPatient {
        RawBookingPatient {
            given_name: "Jürgen".into(),
            family_name: "Müller".into(),
            birth_date: "1970-05-04".into(),
            phone: "0151 99887766".into(),
            email: Some("j@example.org".into()),
        }
    }

    #[test]
    fn the_details_are_checked_field_by_field() {
        let ok =
            BookingPatient::parse(&raw(), date(2026, 3, 25)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.phone.as_str(), "+4915199887766");
        let bad = RawBookingPatient {
            given_name: String::new(),
            phone: String::new(),
            birth_date: "2030-01-01".into(),
            email: Some("x".into()),
            ..raw()
        };
        let Err(DomainError::Invalid(errors)) = BookingPatient::parse(&bad, date(2026, 3, 25))
        else {
            panic!("field errors expected");
        };
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "patient.birth_date",
                "patient.email",
                "patient.given_name",
                "patient.phone"
            ]
        );
    }

    #[test]
    fn a_match_needs_name_birth_date_and_a_contact() {
        let booking =
            BookingPatient::parse(&raw(), date(2026, 3, 25)).unwrap_or_else(|e| panic!("{e:?}"));
        let keys = SearchKeys::of("Juergen", "Mueller");
        let phone = PhoneNumber::parse("+4915199887766").ok();
        let other_phone = PhoneNumber::parse("+4915100000000").ok();
        let email = Email::parse("J@Example.org").ok();
        let born = date(1970, 5, 4);
        assert!(same_person(&booking, &keys, born, phone.as_ref(), None));
        assert!(same_person(
            &booking,
            &keys,
            born,
            other_phone.as_ref(),
            email.as_ref()
        ));
        assert!(!same_person(
            &booking,
            &keys,
            born,
            other_phone.as_ref(),
            None
        ));
        assert!(!same_person(
            &booking,
            &keys,
            date(1970, 5, 5),
            phone.as_ref(),
            None
        ));
        let sibling = SearchKeys::of("Jana", "Müller");
        assert!(!same_person(&booking, &sibling, born, phone.as_ref(), None));
    }
}
