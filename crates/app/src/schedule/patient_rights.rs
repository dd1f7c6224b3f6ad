//! Patients' data rights (GDPR Art. 15 access, 17 erasure, 20 portability), for members
//! holding "export or erase patient data" — which covers contact data, visit reasons and
//! notes, so the export is whole whatever other rights the member holds. The patient must
//! be one the member sees (like every patient use case); another practice's is "not found".
//!
//! - **Export**: the record, every appointment with its history, visit reason and notes,
//!   the patient's online bookings and the audit entries naming the patient or one of their
//!   appointments (others patients' ids in those entries left out). Logged as
//!   `patient.export`.
//! - **Erase** deletes the record, the appointments (history, manage links and reminders go
//!   with them) and the bookings.
//! - **Anonymise** keeps the appointments (times, calendar, visit type, status, source) for
//!   the practice's statistics and the record's insurance kind; the name becomes the
//!   placeholder "Patient #<first 8 characters of the id>", the birth date 1 January of the
//!   birth year (age statistics, not the person), and contacts, insurance number, notes,
//!   visit reasons, appointment notes and cancellation reasons become empty. Manage links
//!   and holds are deleted, bookings confirmed into the appointments lose their personal
//!   fields.
//!
//! Both are sensitive (a password within ten minutes), happen in one transaction with their
//! audit entry (`patient.erase` / `patient.anonymise`), which holds ids only and so
//! survives the erased data; the chain stays verifiable.
//!
//! Not reached: messages already in the outbox (its rows are not tied to a practice; their
//! texts are erased once sent or given up, the recipient address stays with the delivery
//! record).

use std::collections::HashMap;

use jiff::Timestamp;
use termin_domain::DomainError;
use termin_domain::ids::{AppointmentId, PatientId};
use termin_domain::rights::Permission;
use termin_storage::{
    AnonymisedRecord, Appointment, AppointmentChange, AuditEntry, ErasedCounts, Patient,
    PatientBooking,
};

use super::Staff;
use crate::Services;

/// The version of the export's layout; raised when a section changes incompatibly.
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// Everything the practice holds on one patient.
#[derive(Debug, Clone)]
pub struct PatientExport {
    pub exported_at: Timestamp,
    pub practice: String,
    pub time_zone: jiff::tz::TimeZone,
    pub patient: Patient,
    /// Oldest first.
    pub appointments: Vec<ExportedAppointment>,
    pub bookings: Vec<PatientBooking>,
    /// In chain order.
    pub audit: Vec<AuditEntry>,
}

/// One appointment with the names of its calendar and visit type and its history.
#[derive(Debug, Clone)]
pub struct ExportedAppointment {
    pub appointment: Appointment,
    pub practitioner: String,
    pub visit_type: String,
    pub history: Vec<AppointmentChange>,
}

/// What to do with a patient's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureMode {
    Erase,
    Anonymise,
}

impl ErasureMode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim() {
            "erase" => Ok(Self::Erase),
            "anonymise" => Ok(Self::Anonymise),
            _ => Err(DomainError::invalid("mode", "must be erase or anonymise")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erase => "erase",
            Self::Anonymise => "anonymise",
        }
    }
}

/// What an erasure or anonymisation did.
#[derive(Debug, Clone, Copy)]
pub struct Erasure {
    pub mode: ErasureMode,
    pub patient_id: PatientId,
    pub counts: ErasedCounts,
}

/// The placeholder name of an anonymised record ("Patient", "#1a2b3c4d"): the same word in
/// German and English, and enough of the id to tell records apart in the calendar.
pub fn anonymised_name(id: PatientId) -> (String, String) {
    let short: String = id.to_string().chars().take(8).collect();
    ("Patient".to_owned(), format!("#{short}"))
}

/// An audit entry's target with other patients' ids left out (a search lists every hit).
fn own_part_of(target: &str, patient: PatientId) -> String {
    let own = format!("patient:{patient}");
    target
        .split(',')
        .filter(|part| {
            let part = part.trim_start();
            !part.starts_with("patient:") || part.starts_with(&own)
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Services {
    /// Everything held on the patient (Art. 15 and 20).
    pub async fn export_patient(
        &self,
        staff: &Staff<'_>,
        id: PatientId,
    ) -> Result<PatientExport, DomainError> {
        staff.require(Permission::ExportPatientData)?;
        let data = self.practice_data(staff);
        let patient = data
            .patient(id, &staff.patients())
            .await?
            .ok_or(DomainError::NotFound)?;
        let calendars = data.practitioners().await?;
        let all: Vec<_> = calendars.iter().map(|p| p.id).collect();
        let mut appointments = data.appointments_of_patient(id, &all).await?;
        appointments.reverse();
        let mut histories: HashMap<AppointmentId, Vec<AppointmentChange>> = HashMap::new();
        for (appointment, change) in data.patient_changes(id).await? {
            histories.entry(appointment).or_default().push(change);
        }
        let visit_types = data.visit_types().await?;
        let appointments = appointments
            .into_iter()
            .map(|appointment| ExportedAppointment {
                practitioner: calendars
                    .iter()
                    .find(|p| p.id == appointment.practitioner_id)
                    .map(|p| p.draft.name.clone())
                    .unwrap_or_default(),
                visit_type: visit_types
                    .iter()
                    .find(|v| v.id == appointment.visit_type_id)
                    .map(|v| v.draft.name.clone())
                    .unwrap_or_default(),
                history: histories.remove(&appointment.id).unwrap_or_default(),
                appointment,
            })
            .collect();
        let bookings = data.patient_bookings(id).await?;
        let audit = data
            .patient_audit_entries(id)
            .await?
            .into_iter()
            .map(|mut entry| {
                entry.target = own_part_of(&entry.target, id);
                entry
            })
            .collect();
        // Logged before anything leaves: an export that cannot be logged does not happen.
        self.audit_read(staff, "patient.export", format!("patient:{id}"))
            .await?;
        Ok(PatientExport {
            exported_at: self.clock.now(),
            practice: staff.acting.membership.org_name.clone(),
            time_zone: staff.zone(),
            patient,
            appointments,
            bookings,
            audit,
        })
    }

    /// Erases or anonymises the patient (Art. 17); see the module docs for what stays.
    pub async fn erase_patient(
        &self,
        staff: &Staff<'_>,
        id: PatientId,
        mode: ErasureMode,
    ) -> Result<Erasure, DomainError> {
        staff.require(Permission::ExportPatientData)?;
        self.require_fresh(staff.session)?;
        let patient = self
            .practice_data(staff)
            .patient(id, &staff.patients())
            .await?
            .ok_or(DomainError::NotFound)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        let counts = match mode {
            ErasureMode::Erase => practice.erase_patient(id).await?,
            ErasureMode::Anonymise => {
                let (given_name, family_name) = anonymised_name(id);
                let birth_date = jiff::civil::date(patient.draft.birth_date.year(), 1, 1);
                practice
                    .anonymise_patient(
                        id,
                        &AnonymisedRecord {
                            given_name: &given_name,
                            family_name: &family_name,
                            birth_date,
                        },
                        now,
                    )
                    .await?
            }
        }
        .ok_or(DomainError::NotFound)?;
        let action = match mode {
            ErasureMode::Erase => "patient.erase",
            ErasureMode::Anonymise => "patient.anonymise",
        };
        self.audit(
            &mut tx,
            staff,
            action,
            format!(
                "patient:{id} ({} appointments, {} bookings)",
                counts.appointments, counts.bookings
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Erasure {
            mode,
            patient_id: id,
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_patients_are_left_out_of_a_target() {
        let me: PatientId = "00000000-0000-4000-8000-000000000001".parse().unwrap();
        let target =
            format!("patient:00000000-0000-4000-8000-000000000002,patient:{me},appointment:x");
        assert_eq!(
            own_part_of(&target, me),
            format!("patient:{me},appointment:x")
        );
        let own = format!("patient:{me} (3 appointments, 2 bookings)");
        assert_eq!(own_part_of(&own, me), own);
    }

    #[test]
    fn the_mode_is_erase_or_anonymise() {
        assert_eq!(ErasureMode::parse("erase").ok(), Some(ErasureMode::Erase));
        assert_eq!(
            ErasureMode::parse("anonymise").ok(),
            Some(ErasureMode::Anonymise)
        );
        assert!(ErasureMode::parse("").is_err());
        assert!(ErasureMode::parse("delete").is_err());
    }
}
