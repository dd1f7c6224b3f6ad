//! Patient records. A member sees the patients with appointments in the calendars they may
//! see (and those they created) unless they hold "all patients"; contact data and notes are
//! shown only with their own permissions. Every read and change is audit-logged.

use termin_domain::DomainError;
use termin_domain::ids::PatientId;
use termin_domain::rights::Permission;
use termin_domain::schedule::patient::{
    PatientDraft, RawPatient, parse_birth_date, patient_phone, search_term,
};
use termin_storage::{Appointment, Patient, PatientQuery};

use super::Staff;
use crate::Services;

/// A patient as the member may see them: contact data and notes only with the rights.
#[derive(Debug, Clone)]
pub struct PatientView {
    pub patient: Patient,
    pub contacts_visible: bool,
    pub notes_visible: bool,
}

impl PatientView {
    fn of(patient: Patient, staff: &Staff<'_>) -> Self {
        let contacts_visible = staff.has(Permission::SeePatientContacts);
        let notes_visible = staff.has(Permission::SeeMedicalNotes);
        let mut patient = patient;
        if !contacts_visible {
            patient.draft.phone = None;
            patient.draft.email = None;
            patient.draft.street = None;
            patient.draft.postal_code = None;
            patient.draft.city = None;
            patient.draft.insurance_number = None;
        }
        if !notes_visible {
            patient.draft.notes = None;
        }
        Self {
            patient,
            contacts_visible,
            notes_visible,
        }
    }
}

/// The outcome of creating a patient.
#[derive(Debug, Clone)]
pub enum NewPatient {
    Created(Box<PatientView>),
    /// Records with the same name and birth date exist (those the member may see are
    /// listed); send again with `confirm_duplicate` to create anyway.
    PossibleDuplicate(Vec<PatientId>),
}

/// A patient search as a client sends it.
#[derive(Debug, Clone, Default)]
pub struct PatientSearch {
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub phone: Option<String>,
}

const SEARCH_LIMIT: u32 = 50;

/// The fields behind the contacts right, as the client sent them.
fn contact_fields(raw: &RawPatient) -> [&Option<String>; 6] {
    [
        &raw.phone,
        &raw.email,
        &raw.street,
        &raw.postal_code,
        &raw.city,
        &raw.insurance_number,
    ]
}

/// Whether a new record fills in any contact field.
fn contact_fields_given(raw: &RawPatient) -> bool {
    contact_fields(raw)
        .iter()
        .any(|f| f.as_deref().is_some_and(|v| !v.trim().is_empty()))
}

/// Whether an update sets or clears any contact field.
fn contact_fields_touched(raw: &RawPatient) -> bool {
    contact_fields(raw).iter().any(|f| f.is_some())
}

impl Services {
    fn today(&self, staff: &Staff<'_>) -> jiff::civil::Date {
        staff.zone().to_datetime(self.clock.now()).date()
    }

    /// Creates a patient; a possible duplicate (same name and birth date) is reported
    /// instead unless `confirm_duplicate`.
    pub async fn create_patient(
        &self,
        staff: &Staff<'_>,
        raw: &RawPatient,
        confirm_duplicate: bool,
    ) -> Result<NewPatient, DomainError> {
        staff.require(Permission::ManagePatients)?;
        if contact_fields_given(raw) {
            staff.require(Permission::SeePatientContacts)?;
        }
        if raw.notes.as_deref().is_some_and(|n| !n.trim().is_empty()) {
            staff.require(Permission::SeeMedicalNotes)?;
        }
        let draft = PatientDraft::parse(raw, self.today(staff))?;
        let mut tx = self.store.begin().await?;
        let mut practice = tx.practice(staff.org());
        let duplicates = practice.possible_duplicates(&draft).await?;
        if !duplicates.is_empty() && !confirm_duplicate {
            drop(tx);
            let data = self.practice_data(staff);
            let visibility = staff.patients();
            let mut visible = Vec::new();
            for id in duplicates {
                if data.patient(id, &visibility).await?.is_some() {
                    visible.push(id);
                }
            }
            return Ok(NewPatient::PossibleDuplicate(visible));
        }
        let id = PatientId::random();
        let now = self.clock.now();
        practice
            .insert_patient(id, &draft, Some(staff.session.user_id), now)
            .await?;
        self.audit(&mut tx, staff, "patient.create", format!("patient:{id}"))
            .await?;
        tx.commit().await?;
        let patient = Patient {
            id,
            draft,
            created_at: now,
            updated_at: now,
        };
        Ok(NewPatient::Created(Box::new(PatientView::of(
            patient, staff,
        ))))
    }

    /// One patient the member may see; others (and other practices' ids) are "not found".
    pub async fn patient(
        &self,
        staff: &Staff<'_>,
        id: PatientId,
    ) -> Result<PatientView, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let patient = self
            .practice_data(staff)
            .patient(id, &staff.patients())
            .await?
            .ok_or(DomainError::NotFound)?;
        self.audit_read(staff, "patient.read", format!("patient:{id}"))
            .await?;
        Ok(PatientView::of(patient, staff))
    }

    /// Patients by name prefix (ignoring case and diacritics), birth date and/or phone.
    pub async fn search_patients(
        &self,
        staff: &Staff<'_>,
        search: &PatientSearch,
    ) -> Result<Vec<PatientView>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let mut errors = termin_domain::error::FieldErrors::new();
        let name = search
            .name
            .as_deref()
            .map(search_term)
            .filter(|t| !t.is_empty());
        let birth_date = search
            .birth_date
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .and_then(|d| errors.take("birth_date", parse_birth_date(d, self.today(staff))));
        let phone = search
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| errors.take("phone", patient_phone(p)));
        if phone.is_some() {
            // Searching by phone number reveals who has it.
            staff.require(Permission::SeePatientContacts)?;
        }
        if name.is_none() && birth_date.is_none() && phone.is_none() && errors.is_empty() {
            errors.add("q", "enter a name, a birth date or a phone number");
        }
        errors.into_result()?;
        let found = self
            .practice_data(staff)
            .search_patients(
                &PatientQuery {
                    name,
                    birth_date,
                    phone,
                    limit: SEARCH_LIMIT,
                },
                &staff.patients(),
            )
            .await?;
        let ids: Vec<String> = found.iter().map(|p| format!("patient:{}", p.id)).collect();
        self.audit_read(staff, "patient.search", ids.join(","))
            .await?;
        Ok(found
            .into_iter()
            .map(|p| PatientView::of(p, staff))
            .collect())
    }

    /// Changes a patient's record. Fields left out keep their value, so a member without
    /// the contact or notes right cannot wipe what they cannot see.
    pub async fn update_patient(
        &self,
        staff: &Staff<'_>,
        id: PatientId,
        raw: &RawPatient,
    ) -> Result<PatientView, DomainError> {
        staff.require(Permission::ManagePatients)?;
        let current = self
            .practice_data(staff)
            .patient(id, &staff.patients())
            .await?
            .ok_or(DomainError::NotFound)?;
        if contact_fields_touched(raw) {
            staff.require(Permission::SeePatientContacts)?;
        }
        if raw.notes.is_some() {
            staff.require(Permission::SeeMedicalNotes)?;
        }
        let merged = merge_raw(&current.draft, raw);
        let draft = PatientDraft::parse(&merged, self.today(staff))?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx
            .practice(staff.org())
            .update_patient(id, &draft, now)
            .await?
        {
            return Err(DomainError::NotFound);
        }
        self.audit(&mut tx, staff, "patient.update", format!("patient:{id}"))
            .await?;
        tx.commit().await?;
        let patient = Patient {
            id,
            draft,
            created_at: current.created_at,
            updated_at: now,
        };
        Ok(PatientView::of(patient, staff))
    }

    /// Merges a duplicate record into the one kept: its appointments move over, the
    /// duplicate is deleted. The member must see both and hold "all patients" (a merge
    /// touches appointments in any calendar).
    pub async fn merge_patients(
        &self,
        staff: &Staff<'_>,
        keep: PatientId,
        duplicate: PatientId,
    ) -> Result<PatientView, DomainError> {
        staff.require(Permission::ManagePatients)?;
        if keep == duplicate {
            return Err(DomainError::invalid(
                "duplicate_id",
                "must be another patient",
            ));
        }
        let data = self.practice_data(staff);
        let visibility = staff.patients();
        let kept = data
            .patient(keep, &visibility)
            .await?
            .ok_or(DomainError::NotFound)?;
        data.patient(duplicate, &visibility)
            .await?
            .ok_or(DomainError::NotFound)?;
        staff.require(Permission::AllPatients)?;
        let mut tx = self.store.begin().await?;
        if !tx
            .practice(staff.org())
            .merge_patients(keep, duplicate)
            .await?
        {
            return Err(DomainError::NotFound);
        }
        self.audit(
            &mut tx,
            staff,
            "patient.merge",
            format!("patient:{keep},patient:{duplicate}"),
        )
        .await?;
        tx.commit().await?;
        Ok(PatientView::of(kept, staff))
    }

    /// A patient's appointments in the calendars the member may see, newest first.
    pub async fn patient_history(
        &self,
        staff: &Staff<'_>,
        id: PatientId,
    ) -> Result<Vec<Appointment>, DomainError> {
        staff.require(Permission::ViewCalendar)?;
        let data = self.practice_data(staff);
        data.patient(id, &staff.patients())
            .await?
            .ok_or(DomainError::NotFound)?;
        let calendars: Vec<_> = data
            .practitioners()
            .await?
            .into_iter()
            .map(|p| p.id)
            .filter(|p| staff.may_view(*p))
            .collect();
        let appointments = data.appointments_of_patient(id, &calendars).await?;
        self.audit_read(staff, "patient.history", format!("patient:{id}"))
            .await?;
        Ok(appointments)
    }
}

/// The stored record with the given fields replaced.
fn merge_raw(current: &PatientDraft, raw: &RawPatient) -> RawPatient {
    fn keep(given: &str, current: &str) -> String {
        if given.trim().is_empty() {
            current.to_owned()
        } else {
            given.to_owned()
        }
    }
    fn keep_opt(given: &Option<String>, current: Option<String>) -> Option<String> {
        match given {
            Some(value) => Some(value.clone()),
            None => current,
        }
    }
    RawPatient {
        given_name: keep(&raw.given_name, &current.given_name),
        family_name: keep(&raw.family_name, &current.family_name),
        birth_date: keep(&raw.birth_date, &current.birth_date.to_string()),
        phone: keep_opt(
            &raw.phone,
            current.phone.as_ref().map(|p| p.as_str().to_owned()),
        ),
        email: keep_opt(
            &raw.email,
            current.email.as_ref().map(|e| e.as_str().to_owned()),
        ),
        street: keep_opt(&raw.street, current.street.clone()),
        postal_code: keep_opt(&raw.postal_code, current.postal_code.clone()),
        city: keep_opt(&raw.city, current.city.clone()),
        insurance: keep_opt(
            &raw.insurance,
            current.insurance.map(|i| i.as_str().to_owned()),
        ),
        insurance_number: keep_opt(
            &raw.insurance_number,
            current
                .insurance_number
                .as_ref()
                .map(|k| k.as_str().to_owned()),
        ),
        notes: keep_opt(&raw.notes, current.notes.clone()),
    }
}
