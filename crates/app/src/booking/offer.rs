//! What a practice offers online, for the first step of its booking page: the visit types a
//! patient may book (online-bookable, active, offered by at least one active practitioner),
//! whom each is for (new or returning patients, which insurances) and who offers it. Nothing
//! here is about patients, so nothing is audited.

use jiff::civil::Date;
use termin_domain::DomainError;
use termin_domain::ids::{PractitionerId, VisitTypeId};
use termin_domain::schedule::visit_type::Insurance;

use crate::Services;

/// A practice's online offer.
#[derive(Debug, Clone)]
pub struct PublicOffer {
    pub practice: String,
    /// The practice's time zone (IANA name): slots are shown in its wall-clock time.
    pub time_zone: String,
    /// Today in the practice's zone, where a slot search starts.
    pub today: Date,
    pub visit_types: Vec<OfferedVisit>,
}

/// A visit type as the booking page shows it.
#[derive(Debug, Clone)]
pub struct OfferedVisit {
    pub id: VisitTypeId,
    pub name: String,
    pub duration_minutes: u32,
    pub instructions: Option<String>,
    pub new_patients: bool,
    pub returning_patients: bool,
    /// Empty: every insurance.
    pub insurances: Vec<Insurance>,
    /// Who offers it, by name; never empty.
    pub practitioners: Vec<OfferedPractitioner>,
    /// How many days ahead it can be booked.
    pub horizon_days: u32,
}

/// A practitioner as the booking page names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedPractitioner {
    pub id: PractitionerId,
    pub name: String,
    pub specialty: Option<String>,
}

impl OfferedVisit {
    /// Whether a patient who is `returning` (else new) with `insurance` may book it.
    pub fn open_to(&self, returning: bool, insurance: Insurance) -> bool {
        let patients = if returning {
            self.returning_patients
        } else {
            self.new_patients
        };
        patients && (self.insurances.is_empty() || self.insurances.contains(&insurance))
    }

    pub fn practitioner(&self, id: PractitionerId) -> Option<&OfferedPractitioner> {
        self.practitioners.iter().find(|p| p.id == id)
    }
}

impl PublicOffer {
    pub fn visit_type(&self, id: VisitTypeId) -> Option<&OfferedVisit> {
        self.visit_types.iter().find(|v| v.id == id)
    }
}

impl Services {
    /// The online offer of the practice at `slug`; an unknown practice is "not found".
    pub async fn public_offer(&self, slug: &str) -> Result<PublicOffer, DomainError> {
        let practice = self.bookable_practice(slug).await?;
        let data = self.store.practice(practice.id);
        let practitioners = data.practitioners().await?;
        let visit_types = data
            .visit_types()
            .await?
            .into_iter()
            .filter(|v| v.active && v.draft.online_bookable)
            .filter_map(|v| {
                let offered: Vec<OfferedPractitioner> = practitioners
                    .iter()
                    .filter(|p| p.active)
                    .filter(|p| {
                        v.draft.practitioner_ids.is_empty()
                            || v.draft.practitioner_ids.contains(&p.id)
                    })
                    .map(|p| OfferedPractitioner {
                        id: p.id,
                        name: p.draft.name.clone(),
                        specialty: p.draft.specialty.clone(),
                    })
                    .collect();
                (!offered.is_empty()).then(|| OfferedVisit {
                    id: v.id,
                    name: v.draft.name,
                    duration_minutes: v.draft.duration_minutes,
                    instructions: v.draft.instructions,
                    new_patients: v.draft.new_patients,
                    returning_patients: v.draft.returning_patients,
                    insurances: v.draft.insurances.into_iter().collect(),
                    practitioners: offered,
                    horizon_days: v.draft.rules.max_horizon_days,
                })
            })
            .collect();
        let zone = practice.time_zone.zone();
        Ok(PublicOffer {
            practice: practice.name.as_str().to_owned(),
            time_zone: practice.time_zone.as_str().to_owned(),
            today: zone.to_datetime(self.clock.now()).date(),
            visit_types,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(new: bool, returning: bool, insurances: Vec<Insurance>) -> OfferedVisit {
        OfferedVisit {
            id: VisitTypeId::random(),
            name: "Kontrolle".into(),
            duration_minutes: 30,
            instructions: None,
            new_patients: new,
            returning_patients: returning,
            insurances,
            practitioners: Vec::new(),
            horizon_days: 180,
        }
    }

    #[test]
    fn a_visit_type_is_open_to_the_patients_and_insurances_it_names() {
        let returning_private = visit(false, true, vec![Insurance::Private]);
        assert!(returning_private.open_to(true, Insurance::Private));
        assert!(!returning_private.open_to(false, Insurance::Private));
        assert!(!returning_private.open_to(true, Insurance::Statutory));
        let everyone = visit(true, true, Vec::new());
        for insurance in Insurance::ALL {
            assert!(everyone.open_to(false, insurance) && everyone.open_to(true, insurance));
        }
    }
}
