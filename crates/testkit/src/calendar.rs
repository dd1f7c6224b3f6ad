//! A practice's calendar set up through the API: two practitioners with weekday opening
//! hours (08:00–12:00 and 14:00–18:00, Europe/Berlin), a 30-minute visit type both offer,
//! and one patient. For tests of appointments, rights and races.

use serde_json::{Value, json};

use crate::Browser;

/// Ids of what [`set_up`] created.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub dr_a: String,
    pub dr_b: String,
    /// "Kontrolle", 30 minutes, offered by both.
    pub checkup: String,
    /// Jürgen Müller, born 1970-05-04.
    pub patient: String,
}

/// The first Monday after the test epoch (2026-03-25), after the clocks went forward.
pub const MONDAY: &str = "2026-03-30";

fn id(answer: &crate::Answer, what: &str) -> String {
    assert_eq!(answer.status, 201, "{what}: {:?}", answer.body);
    answer.body["id"].as_str().expect("an id").to_owned()
}

pub fn weekday_hours() -> Value {
    let mut weekly = Vec::new();
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        weekly.push(json!({"weekday": day, "start": "08:00", "end": "12:00"}));
        weekly.push(json!({"weekday": day, "start": "14:00", "end": "18:00"}));
    }
    json!({"weekly": weekly})
}

/// Creates the calendar as `owner` (who holds every right).
pub async fn set_up(owner: &Browser) -> Calendar {
    let dr_a = id(
        &owner
            .post(
                "/api/v1/practitioners",
                &json!({"name": "Dr. Anna Weber", "specialty": "Allgemeinmedizin"}),
            )
            .await,
        "practitioner A",
    );
    let dr_b = id(
        &owner
            .post("/api/v1/practitioners", &json!({"name": "Dr. Ben Roth"}))
            .await,
        "practitioner B",
    );
    for dr in [&dr_a, &dr_b] {
        let hours = owner
            .put(
                &format!("/api/v1/practitioners/{dr}/opening-hours"),
                &weekday_hours(),
            )
            .await;
        assert_eq!(hours.status, 200, "opening hours: {:?}", hours.body);
    }
    let checkup = id(
        &owner
            .post(
                "/api/v1/visit-types",
                &json!({"name": "Kontrolle", "duration_minutes": 30, "online_bookable": true,
                        "practitioner_ids": [dr_a, dr_b]}),
            )
            .await,
        "visit type",
    );
    let patient = id(
        &owner
            .post(
                "/api/v1/patients",
                &json!({"given_name": "Jürgen", "family_name": "Müller",
                        "birth_date": "1970-05-04", "phone": "+4915199887766"}),
            )
            .await,
        "patient",
    );
    Calendar {
        dr_a,
        dr_b,
        checkup,
        patient,
    }
}

impl Calendar {
    /// `who` books the patient with `practitioner` at `start` (`POST /api/v1/appointments`).
    pub async fn book(&self, who: &Browser, practitioner: &str, start: &str) -> crate::Answer {
        who.post("/api/v1/appointments", &self.booking(practitioner, start))
            .await
    }

    /// The body of a booking with `practitioner` at `start` (e.g. `2026-03-30T09:00`).
    pub fn booking(&self, practitioner: &str, start: &str) -> Value {
        json!({
            "practitioner_id": practitioner,
            "visit_type_id": self.checkup,
            "start": start,
            "patient_id": self.patient,
        })
    }
}
