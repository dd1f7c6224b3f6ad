//! Patient records: who they are, how to reach them, how they are insured. Also the rules
//! for finding them again: a name search that ignores case and diacritics (Müller, Mueller
//! and müller are one name; Muller finds Müller too) and the German health-insurance number
//! (KVNR) with its check digit.

use jiff::civil::Date;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use super::text;
use super::visit_type::Insurance;
use crate::error::{DomainError, FieldErrors};
use crate::user::{Email, PhoneNumber};

/// A patient as sent by a client (the contract's fields and more).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawPatient {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub insurance: Option<String>,
    pub insurance_number: Option<String>,
    pub notes: Option<String>,
}

/// A valid patient record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientDraft {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Date,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub insurance: Option<Insurance>,
    pub insurance_number: Option<Kvnr>,
    /// Free text; may be medical, so it is shown only with the medical-notes permission.
    pub notes: Option<String>,
}

impl PatientDraft {
    /// Checks every field; `today` (in the practice's zone) bounds the birth date.
    pub fn parse(raw: &RawPatient, today: Date) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let given_name = text::required(&mut errors, "given_name", &raw.given_name, 100);
        let family_name = text::required(&mut errors, "family_name", &raw.family_name, 100);
        let birth_date = errors
            .take("birth_date", parse_birth_date(&raw.birth_date, today))
            .unwrap_or(today);
        let phone =
            present(raw.phone.as_deref()).and_then(|p| errors.take("phone", patient_phone(p)));
        let email =
            present(raw.email.as_deref()).and_then(|e| errors.take("email", Email::parse(e)));
        let street = text::optional(&mut errors, "street", raw.street.as_deref(), 200);
        let postal_code =
            text::optional(&mut errors, "postal_code", raw.postal_code.as_deref(), 12);
        let city = text::optional(&mut errors, "city", raw.city.as_deref(), 100);
        let insurance = present(raw.insurance.as_deref())
            .and_then(|i| errors.take("insurance", Insurance::parse(i)));
        let insurance_number = present(raw.insurance_number.as_deref())
            .and_then(|n| errors.take("insurance_number", Kvnr::parse(n)));
        let notes = text::optional_multiline(&mut errors, "notes", raw.notes.as_deref(), 5000);
        errors.into_result()?;
        Ok(Self {
            given_name,
            family_name,
            birth_date,
            phone,
            email,
            street,
            postal_code,
            city,
            insurance,
            insurance_number,
            notes,
        })
    }

    /// The keys the name search matches, for storage beside the record.
    pub fn search_keys(&self) -> SearchKeys {
        SearchKeys::of(&self.given_name, &self.family_name)
    }
}

fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|v| !v.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidBirthDate {
    #[error("must be a date like 1980-04-30")]
    Format,
    #[error("must not be in the future")]
    Future,
    #[error("must be after 1900-01-01")]
    TooOld,
}

pub fn parse_birth_date(raw: &str, today: Date) -> Result<Date, InvalidBirthDate> {
    let date: Date = raw.trim().parse().map_err(|_| InvalidBirthDate::Format)?;
    if date > today {
        return Err(InvalidBirthDate::Future);
    }
    if date < jiff::civil::date(1900, 1, 1) {
        return Err(InvalidBirthDate::TooOld);
    }
    Ok(date)
}

/// A patient's phone number: international form, or German national form (`0151 …`),
/// which is read as +49.
pub fn patient_phone(raw: &str) -> Result<PhoneNumber, crate::user::InvalidPhoneNumber> {
    let trimmed = raw.trim();
    if let Some(rest) = trimmed.strip_prefix("00") {
        return PhoneNumber::parse(&format!("+{rest}"));
    }
    if let Some(rest) = trimmed.strip_prefix('0') {
        return PhoneNumber::parse(&format!("+49{rest}"));
    }
    PhoneNumber::parse(trimmed)
}

/// The lifelong part of the German health-insurance number (Krankenversicherten-ID): a
/// capital letter, eight digits and a check digit (§ 290 SGB V: the letter as its two-digit
/// position in the alphabet, then the eight digits, weighted 1-2-1-2…, digit sums of the
/// products added, modulo 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kvnr(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKvnr {
    #[error("must be a capital letter and nine digits, e.g. A123456780")]
    Format,
    #[error("has a wrong check digit")]
    CheckDigit,
}

impl Kvnr {
    pub fn parse(raw: &str) -> Result<Self, InvalidKvnr> {
        let value: String = raw.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        let well_formed = bytes.len() == 10
            && bytes[0].is_ascii_uppercase()
            && bytes[1..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(InvalidKvnr::Format);
        }
        let letter = u32::from(bytes[0] - b'A' + 1);
        let digits = [letter / 10, letter % 10]
            .into_iter()
            .chain(bytes[1..9].iter().map(|b| u32::from(b - b'0')));
        let sum: u32 = digits
            .zip([1, 2].into_iter().cycle())
            .map(|(digit, weight)| {
                let product = digit * weight;
                product / 10 + product % 10
            })
            .sum();
        if sum % 10 == u32::from(bytes[9] - b'0') {
            Ok(Self(value))
        } else {
            Err(InvalidKvnr::CheckDigit)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Name keys for the search: `key` spells umlauts out (ü → ue, ß → ss) and drops other
/// diacritics; `plain` drops all diacritics (ü → u). A search term is folded the first way
/// and matched as a prefix against both, so "Müller", "Mueller" and "müller" find each
/// other and "Muller" still finds "Müller".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKeys {
    pub family_key: String,
    pub family_plain: String,
    pub given_key: String,
    pub given_plain: String,
}

impl SearchKeys {
    pub fn of(given_name: &str, family_name: &str) -> Self {
        Self {
            family_key: fold(family_name, true),
            family_plain: fold(family_name, false),
            given_key: fold(given_name, true),
            given_plain: fold(given_name, false),
        }
    }
}

/// The search term as matched against the keys; empty when nothing searchable is left.
pub fn search_term(raw: &str) -> String {
    fold(raw, true)
}

/// Lower case, letters and digits only (spaces, hyphens and apostrophes dropped so that
/// "Meyer-Lüdenscheidt" is found by "meyerlu…"), umlauts spelled out or stripped.
fn fold(raw: &str, spell_out_umlauts: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' | 'ö' | 'ü' if spell_out_umlauts => {
                out.push(match c {
                    'ä' => 'a',
                    'ö' => 'o',
                    _ => 'u',
                });
                out.push('e');
            }
            'ß' => out.push_str("ss"),
            _ => out.extend(
                std::iter::once(c)
                    .nfd()
                    .filter(|d| d.is_alphanumeric() && d.is_ascii()),
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const TODAY: Date = date(2026, 11, 29);

    fn raw() -> RawPatient {
        RawPatient {
            given_name: "Jürgen".into(),
            family_name: "Müller".into(),
            birth_date: "1970-05-04".into(),
            ..RawPatient::default()
        }
    }

    #[test]
    fn kvnr_check_digit() {
        assert_eq!(
            Kvnr::parse("A123456780").map(|k| k.0),
            Ok("A123456780".into())
        );
        assert_eq!(
            Kvnr::parse(" a123456780 ").map(|k| k.0),
            Ok("A123456780".into())
        );
        assert_eq!(Kvnr::parse("A123456781"), Err(InvalidKvnr::CheckDigit));
        assert_eq!(Kvnr::parse("A12345678"), Err(InvalidKvnr::Format));
        assert_eq!(Kvnr::parse("1123456780"), Err(InvalidKvnr::Format));
        // Z = 26: 2·1, 6·2 = 12 → 3, then 0,0,0,0,0,0,0,1·2 = 2 → 7.
        assert!(Kvnr::parse("Z000000017").is_ok());
        assert_eq!(Kvnr::parse("Z000000018"), Err(InvalidKvnr::CheckDigit));
    }

    #[test]
    fn names_fold_for_search() {
        let keys = SearchKeys::of("Jürgen", "Müller");
        assert_eq!(keys.family_key, "mueller");
        assert_eq!(keys.family_plain, "muller");
        for term in ["Müller", "Mueller", "müller", "MUEL", "mü"] {
            assert!(keys.family_key.starts_with(&search_term(term)), "{term}");
        }
        assert!(keys.family_plain.starts_with(&search_term("Muller")));
        assert_eq!(search_term("Groß-Éluard"), "grosseluard");
        assert_eq!(search_term("O'Brien"), "obrien");
        assert_eq!(search_term("%_"), "");
    }

    #[test]
    fn birth_dates_are_real_and_past() {
        assert_eq!(parse_birth_date("2026-11-29", TODAY), Ok(TODAY));
        assert_eq!(
            parse_birth_date("2026-11-30", TODAY),
            Err(InvalidBirthDate::Future)
        );
        assert_eq!(
            parse_birth_date("1899-12-31", TODAY),
            Err(InvalidBirthDate::TooOld)
        );
        assert_eq!(
            parse_birth_date("1970-02-30", TODAY),
            Err(InvalidBirthDate::Format)
        );
    }

    #[test]
    fn national_phone_numbers_are_german() {
        assert_eq!(
            patient_phone("0151 2345 6789").map(|p| p.to_string()),
            Ok("+4915123456789".into())
        );
        assert_eq!(
            patient_phone("0043 1 234567").map(|p| p.to_string()),
            Ok("+431234567".into())
        );
        assert!(patient_phone("12345").is_err());
    }

    #[test]
    fn a_full_record_parses_and_bad_fields_are_named() {
        let full = RawPatient {
            phone: Some("+49 30 1234567".into()),
            email: Some("j.mueller@example.org".into()),
            insurance: Some("statutory".into()),
            insurance_number: Some("A123456780".into()),
            notes: Some("Allergie:\nPenicillin".into()),
            ..raw()
        };
        let draft = PatientDraft::parse(&full, TODAY).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(draft.birth_date, date(1970, 5, 4));
        assert_eq!(draft.insurance, Some(Insurance::Statutory));

        let bad = RawPatient {
            given_name: " ".into(),
            birth_date: "gestern".into(),
            email: Some("nope".into()),
            insurance_number: Some("A123456781".into()),
            ..raw()
        };
        let Err(DomainError::Invalid(errors)) = PatientDraft::parse(&bad, TODAY) else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["birth_date", "email", "given_name", "insurance_number"]
        );
    }
}
