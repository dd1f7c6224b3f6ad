//! The practice calendar's API end to end over TLS: practitioners, opening hours, visit
//! types, patients (duplicate warning, diacritic-insensitive search, KVNR), appointments
//! (booking, `slot_taken`, buffers, opening hours, moving, status, cancelling with a notice
//! to the patient, history), field-level errors, the audit trail, and another practice's ids
//! "not found".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::{Value, json};
use termin_testkit::calendar::{self, Calendar, MONDAY};
use termin_testkit::{Browser, FIREFOX, TestServer};

async fn practice() -> (TestServer, Browser, Calendar) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let calendar = calendar::set_up(&owner).await;
    (server, owner, calendar)
}

fn at(time: &str) -> String {
    format!("{MONDAY}T{time}")
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_appointment_is_booked_in_practice_time_and_its_slot_is_then_taken() {
    let (_server, owner, cal) = practice().await;
    let booked = cal.book(&owner, &cal.dr_a, &at("09:00")).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    // 09:00 in Berlin on the Monday after the clocks went forward is 07:00 UTC.
    assert_eq!(booked.body["start"], "2026-03-30T07:00:00Z");
    assert_eq!(booked.body["end"], "2026-03-30T07:30:00Z");
    assert_eq!(booked.body["status"], "booked");
    assert_eq!(booked.body["patient"]["family_name"], "Müller");

    // Any overlap with the same practitioner is refused; the other calendar is free.
    for start in ["09:00", "08:45", "09:15", "09:29"] {
        let clash = cal.book(&owner, &cal.dr_a, &at(start)).await;
        assert_eq!(clash.status, 409, "{start}: {:?}", clash.body);
        assert_eq!(clash.body["error"], "slot_taken");
    }
    let next = cal.book(&owner, &cal.dr_a, &at("09:30")).await;
    assert_eq!(next.status, 201, "back to back is fine");
    let other = cal.book(&owner, &cal.dr_b, &at("09:00")).await;
    assert_eq!(other.status, 201);

    let listed = owner
        .get(&format!(
            "/api/v1/appointments?practitioner_id={}&from={MONDAY}&to={MONDAY}",
            cal.dr_a
        ))
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        ids(&listed.body["appointments"]),
        [
            booked.body["id"].as_str().unwrap(),
            next.body["id"].as_str().unwrap()
        ]
    );
    let everyone = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(everyone.body["appointments"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn overbooking_needs_the_explicit_flag() {
    let (_server, owner, cal) = practice().await;
    let first = cal.book(&owner, &cal.dr_a, &at("10:00")).await;
    assert_eq!(first.status, 201);
    let mut body = cal.booking(&cal.dr_a, &at("10:00"));
    body["overbook"] = json!(true);
    let over = owner.post("/api/v1/appointments", &body).await;
    assert_eq!(over.status, 201, "{:?}", over.body);
    assert_eq!(over.body["overbooked"], true);
}

#[tokio::test]
async fn buffers_and_opening_hours_are_respected() {
    let (_server, owner, cal) = practice().await;
    let with_buffer = owner
        .post(
            "/api/v1/visit-types",
            &json!({"name": "Impfung", "duration_minutes": 15, "buffer_after_minutes": 15,
                    "online_bookable": false, "practitioner_ids": [cal.dr_a]}),
        )
        .await;
    assert_eq!(with_buffer.status, 201, "{:?}", with_buffer.body);
    let mut body = cal.booking(&cal.dr_a, &at("10:00"));
    body["visit_type_id"] = with_buffer.body["id"].clone();
    assert_eq!(owner.post("/api/v1/appointments", &body).await.status, 201);
    // 10:15–10:30 is the buffer.
    let in_buffer = cal.book(&owner, &cal.dr_a, &at("10:15")).await;
    assert_eq!(in_buffer.body["error"], "slot_taken");
    assert_eq!(cal.book(&owner, &cal.dr_a, &at("10:30")).await.status, 201);
    // Dr. B does not offer it.
    body["practitioner_id"] = json!(cal.dr_b);
    let not_offered = owner.post("/api/v1/appointments", &body).await;
    assert_eq!(not_offered.status, 422);
    assert!(
        not_offered.body["fields"]["visit_type_id"].is_array(),
        "{:?}",
        not_offered.body
    );
}

#[tokio::test]
async fn outside_opening_hours_only_with_the_right() {
    let (server, owner, cal) = practice().await;
    // The owner holds "book outside opening hours"; a receptionist does not.
    let lunch = cal.book(&owner, &cal.dr_a, &at("12:30")).await;
    assert_eq!(lunch.status, 201, "{:?}", lunch.body);
    let reception = server
        .join_practice(
            &owner,
            ("empfang@praxis.example", "+4915112340031", "reception"),
            "Kaffee&Kuchen2026",
        )
        .await;
    for start in ["12:15", "07:30", "17:45"] {
        let refused = cal.book(&reception, &cal.dr_b, &at(start)).await;
        assert_eq!(refused.status, 409, "{start}");
        assert_eq!(refused.body["error"], "outside_opening_hours");
    }
    let saturday = cal.book(&reception, &cal.dr_b, "2026-04-04T09:00").await;
    assert_eq!(saturday.body["error"], "outside_opening_hours");
    assert_eq!(
        cal.book(&reception, &cal.dr_b, &at("17:30")).await.status,
        201
    );
    // An absence closes the calendar too.
    let absence = owner
        .post(
            "/api/v1/absences",
            &json!({"start_date": "2026-03-31", "end_date": "2026-03-31",
                    "practitioner_ids": [cal.dr_b], "reason": "Fortbildung"}),
        )
        .await;
    assert_eq!(absence.status, 201, "{:?}", absence.body);
    let absent = cal.book(&reception, &cal.dr_b, "2026-03-31T09:00").await;
    assert_eq!(absent.body["error"], "outside_opening_hours");
}

#[tokio::test]
async fn an_absence_lists_the_appointments_it_covers() {
    let (_server, owner, cal) = practice().await;
    let booked = cal.book(&owner, &cal.dr_a, &at("15:00")).await;
    cal.book(&owner, &cal.dr_b, &at("15:00")).await;
    let absence = owner
        .post(
            "/api/v1/absences",
            &json!({"start_date": MONDAY, "end_date": MONDAY, "start_time": "14:00",
                    "end_time": "18:00", "practitioner_ids": [cal.dr_a]}),
        )
        .await;
    assert_eq!(absence.status, 201, "{:?}", absence.body);
    assert_eq!(
        ids(&absence.body["covered_appointments"]),
        [booked.body["id"].as_str().unwrap()]
    );
    let listed = owner
        .get(&format!("/api/v1/absences?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(
        ids(&listed.body["absences"]),
        [absence.body["id"].as_str().unwrap()]
    );
    let gone = owner
        .delete(&format!(
            "/api/v1/absences/{}",
            absence.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(gone.status, 204);
}

#[tokio::test]
async fn moving_resizing_status_and_cancelling_are_kept_in_the_history() {
    let (server, owner, cal) = practice().await;
    let booked = cal.book(&owner, &cal.dr_a, &at("09:00")).await;
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let blocker = cal.book(&owner, &cal.dr_a, &at("11:00")).await;
    assert_eq!(blocker.status, 201);

    let moved = owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"start": at("10:00")}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["start"], "2026-03-30T08:00:00Z");
    assert_eq!(
        moved.body["end"], "2026-03-30T08:30:00Z",
        "keeps its length"
    );
    let too_long = owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"end": at("11:15")}),
        )
        .await;
    assert_eq!(too_long.body["error"], "slot_taken", "would run into 11:00");
    let resized = owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"end": at("11:00")}),
        )
        .await;
    assert_eq!(resized.status, 200);
    assert_eq!(resized.body["end"], "2026-03-30T09:00:00Z");
    let to_b = owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"practitioner_id": cal.dr_b}),
        )
        .await;
    assert_eq!(to_b.status, 200);
    assert_eq!(to_b.body["practitioner_id"], cal.dr_b.as_str());

    let arrived = owner
        .put(
            &format!("/api/v1/appointments/{id}/status"),
            &json!({"status": "arrived"}),
        )
        .await;
    assert_eq!(arrived.body["status"], "arrived");
    let bad_status = owner
        .put(
            &format!("/api/v1/appointments/{id}/status"),
            &json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(bad_status.status, 422, "cancelling has its own action");

    let cancelled = owner
        .request_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/appointments/{id}"),
            &json!({"reason": "Praxis geschlossen"}),
        )
        .await;
    assert_eq!(cancelled.status, 204, "{:?}", cancelled.body);
    let shown = owner.get(&format!("/api/v1/appointments/{id}")).await;
    assert_eq!(shown.body["status"], "cancelled");
    assert_eq!(shown.body["cancel_reason"], "Praxis geschlossen");
    let again = owner.delete(&format!("/api/v1/appointments/{id}")).await;
    assert_eq!(again.body["error"], "appointment_cancelled");
    let moved_after = owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"start": at("15:00")}),
        )
        .await;
    assert_eq!(moved_after.body["error"], "appointment_cancelled");
    // The cancelled time is free again.
    let rebooked = cal.book(&owner, &cal.dr_b, &at("10:00")).await;
    assert_eq!(rebooked.status, 201);

    // The patient was told by SMS, with the reason, in practice time.
    let sms = server.outbox("sms").await;
    let notice = sms
        .iter()
        .find(|m| m["to"] == "+4915199887766")
        .expect("a cancellation SMS");
    let text = notice["body"].as_str().unwrap();
    assert!(text.contains("30.03.2026 10:00"), "{text}");
    assert!(text.contains("Praxis geschlossen"), "{text}");

    let history = owner
        .get(&format!("/api/v1/appointments/{id}/history"))
        .await;
    let changes: Vec<&str> = history.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes.len(), 6, "{changes:?}");
    assert!(changes[0].starts_with("created"));
    assert!(changes[1].starts_with("moved"));
    assert!(changes[3].contains("practitioner"));
    assert_eq!(changes[4], "status arrived");
    assert_eq!(changes[5], "status cancelled");
}

#[tokio::test]
async fn bad_input_gets_field_errors() {
    let (_server, owner, cal) = practice().await;
    let bad = owner
        .post(
            "/api/v1/appointments",
            &json!({"practitioner_id": "x", "visit_type_id": cal.checkup,
                    "start": "2026-03-29T02:30", "patient_id": cal.patient}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body["fields"]["practitioner_id"].is_array(),
        "{:?}",
        bad.body
    );
    assert!(
        bad.body["fields"]["start"][0]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "a wall-clock time the clocks skip: {:?}",
        bad.body
    );
    let hours = owner
        .put(
            &format!("/api/v1/practitioners/{}/opening-hours", cal.dr_a),
            &json!({"weekly": [{"weekday": "mon", "start": "09:00", "end": "08:00"},
                               {"weekday": "funday", "start": "09:00", "end": "10:00"}]}),
        )
        .await;
    assert_eq!(hours.status, 422);
    assert!(
        hours.body["fields"]["weekly[0].end"].is_array(),
        "{:?}",
        hours.body
    );
    assert!(
        hours.body["fields"]["weekly[1].weekday"].is_array(),
        "{:?}",
        hours.body
    );
    let foreign_visit = owner
        .put(
            &format!("/api/v1/practitioners/{}/opening-hours", cal.dr_a),
            &json!({"weekly": [{"weekday": "mon", "start": "08:00", "end": "09:00",
                                "visit_type_ids": [cal.checkup]},
                               {"weekday": "tue", "start": "08:00", "end": "09:00",
                                "visit_type_ids": ["00000000-0000-4000-8000-000000000001"]}]}),
        )
        .await;
    assert_eq!(foreign_visit.status, 422);
    assert!(
        foreign_visit.body["fields"]["weekly[1].visit_type_ids"].is_array(),
        "{:?}",
        foreign_visit.body
    );
    assert!(foreign_visit.body["fields"]["weekly[0].visit_type_ids"].is_null());
    let visit = owner
        .post(
            "/api/v1/visit-types",
            &json!({"name": "", "duration_minutes": 500, "online_bookable": true,
                    "practitioner_ids": ["00000000-0000-4000-8000-000000000001"]}),
        )
        .await;
    assert_eq!(visit.status, 422);
    assert!(visit.body["fields"]["name"].is_array());
    assert!(visit.body["fields"]["duration_minutes"].is_array());
    let malformed = owner.post("/api/v1/patients", &json!([1, 2])).await;
    assert_eq!(malformed.status, 400);
    let range = owner.get("/api/v1/appointments?from=gestern").await;
    assert_eq!(range.status, 422);
    assert!(range.body["fields"]["from"].is_array());
    assert!(range.body["fields"]["to"].is_array());
}

#[tokio::test]
async fn patients_are_found_whatever_the_spelling_and_duplicates_are_flagged() {
    let (_server, owner, cal) = practice().await;
    for name in ["Müller", "Mueller", "müller", "MUELL", "Muller"] {
        let found = owner
            .get(&format!("/api/v1/patients?q={}", urlencode(name)))
            .await;
        assert_eq!(found.status, 200, "{name}");
        assert_eq!(
            ids(&found.body["patients"]),
            [cal.patient.as_str()],
            "{name}"
        );
    }
    let by_birth = owner.get("/api/v1/patients?birth_date=1970-05-04").await;
    assert_eq!(ids(&by_birth.body["patients"]), [cal.patient.as_str()]);
    let by_phone = owner.get("/api/v1/patients?phone=0151%2099887766").await;
    assert_eq!(ids(&by_phone.body["patients"]), [cal.patient.as_str()]);
    let nobody = owner.get("/api/v1/patients?q=Schmidt").await;
    assert_eq!(nobody.body["patients"], json!([]));

    let twin =
        json!({"given_name": "Jürgen", "family_name": "Mueller", "birth_date": "1970-05-04"});
    let warned = owner.post("/api/v1/patients", &twin).await;
    assert_eq!(warned.status, 409);
    assert_eq!(warned.body["error"], "possible_duplicate");
    assert_eq!(warned.body["duplicates"], json!([cal.patient]));
    let mut confirmed = twin.clone();
    confirmed["confirm_duplicate"] = json!(true);
    let second = owner.post("/api/v1/patients", &confirmed).await;
    assert_eq!(second.status, 201);

    // Merging moves the duplicate's appointments over and removes it.
    let second_id = second.body["id"].as_str().unwrap();
    let mut booking = cal.booking(&cal.dr_a, &at("09:00"));
    booking["patient_id"] = json!(second_id);
    let appointment = owner.post("/api/v1/appointments", &booking).await;
    assert_eq!(appointment.status, 201);
    let merged = owner
        .post(
            &format!("/api/v1/patients/{}/merge", cal.patient),
            &json!({"duplicate_id": second_id}),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(
        owner
            .get(&format!("/api/v1/patients/{second_id}"))
            .await
            .status,
        404
    );
    let history = owner
        .get(&format!("/api/v1/patients/{}/appointments", cal.patient))
        .await;
    assert_eq!(
        ids(&history.body["appointments"]),
        [appointment.body["id"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn a_patient_record_is_checked_field_by_field() {
    let (_server, owner, cal) = practice().await;
    let bad = owner
        .post(
            "/api/v1/patients",
            &json!({"given_name": "Eva", "family_name": "Schulz", "birth_date": "2030-01-01",
                    "email": "nope", "insurance": "statutory", "insurance_number": "A123456781"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    for field in ["birth_date", "email", "insurance_number"] {
        assert!(
            bad.body["fields"][field].is_array(),
            "{field}: {:?}",
            bad.body
        );
    }
    let good = owner
        .post(
            "/api/v1/patients",
            &json!({"given_name": "Eva", "family_name": "Schulz", "birth_date": "1990-01-01",
                    "email": "eva@example.org", "insurance": "statutory",
                    "insurance_number": "A123456780", "notes": "Penicillin-Allergie"}),
        )
        .await;
    assert_eq!(good.status, 201, "{:?}", good.body);
    assert_eq!(good.body["insurance_number"], "A123456780");
    let changed = owner
        .patch(
            &format!("/api/v1/patients/{}", good.body["id"].as_str().unwrap()),
            &json!({"city": "Lübeck"}),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(changed.body["city"], "Lübeck");
    assert_eq!(
        changed.body["email"], "eva@example.org",
        "untouched fields stay"
    );
    let shown = owner
        .get(&format!("/api/v1/patients/{}", cal.patient))
        .await;
    assert_eq!(shown.body["phone"], "+4915199887766");
}

#[tokio::test]
async fn reads_and_changes_of_patient_data_are_in_the_audit_log() {
    let (_server, owner, cal) = practice().await;
    owner
        .get(&format!("/api/v1/patients/{}", cal.patient))
        .await;
    let booked = cal.book(&owner, &cal.dr_a, &at("09:00")).await;
    owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    let log = owner.get("/api/v1/audit?format=json").await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    let entries = log.body["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "practitioner.create",
        "opening_hours.update",
        "visit_type.create",
        "patient.create",
        "patient.read",
        "appointment.create",
        "appointment.list",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let read = entries
        .iter()
        .find(|e| e["action"] == "patient.read")
        .unwrap();
    assert_eq!(read["target"], format!("patient:{}", cal.patient));
    let created = entries
        .iter()
        .find(|e| e["action"] == "appointment.create")
        .unwrap();
    assert!(
        created["target"]
            .as_str()
            .unwrap()
            .contains(booked.body["id"].as_str().unwrap())
    );
    // Ids, never names.
    assert!(!log.body.to_string().contains("Müller"));
}

#[tokio::test]
async fn another_practices_ids_are_not_found() {
    let (server, owner, cal) = practice().await;
    let booked = cal.book(&owner, &cal.dr_a, &at("09:00")).await;
    let appointment = booked.body["id"].as_str().unwrap();
    let other = server.other_practice_owner().await;
    let other_cal = calendar::set_up(&other).await;
    for path in [
        format!("/api/v1/practitioners/{}", cal.dr_a),
        format!("/api/v1/patients/{}", cal.patient),
        format!("/api/v1/patients/{}/appointments", cal.patient),
        format!("/api/v1/appointments/{appointment}"),
        format!("/api/v1/appointments/{appointment}/history"),
        format!(
            "/api/v1/appointments?practitioner_id={}&from={MONDAY}&to={MONDAY}",
            cal.dr_a
        ),
    ] {
        assert_eq!(other.get(&path).await.status, 404, "{path}");
    }
    let cancel = other
        .delete(&format!("/api/v1/appointments/{appointment}"))
        .await;
    assert_eq!(cancel.status, 404);
    // Mixing: their own visit type and patient with our practitioner.
    let mut mixed = other_cal.booking(&cal.dr_a, &at("10:00"));
    assert_eq!(other.post("/api/v1/appointments", &mixed).await.status, 404);
    mixed = other_cal.booking(&other_cal.dr_a, &at("10:00"));
    mixed["patient_id"] = json!(cal.patient);
    assert_eq!(other.post("/api/v1/appointments", &mixed).await.status, 404);
    let visit = other
        .post(
            "/api/v1/visit-types",
            &json!({"name": "Fremd", "duration_minutes": 10, "online_bookable": false,
                    "practitioner_ids": [cal.dr_a]}),
        )
        .await;
    assert_eq!(visit.status, 422, "{:?}", visit.body);
    // And nothing of theirs shows up here.
    let search = other.get("/api/v1/patients?q=mueller").await;
    assert_eq!(ids(&search.body["patients"]), [other_cal.patient.as_str()]);
    let listed = other
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(listed.body["appointments"], json!([]));
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn free_slots_are_opening_hours_minus_appointments_in_practice_time() {
    let (_server, owner, cal) = practice().await;
    cal.book(&owner, &cal.dr_a, &at("09:00")).await;
    let slots = owner
        .get(&format!(
            "/api/v1/slots?visit_type_id={}&practitioner_id={}&from=2026-03-27&to={MONDAY}",
            cal.checkup, cal.dr_a
        ))
        .await;
    assert_eq!(slots.status, 200, "{:?}", slots.body);
    let starts: Vec<&str> = slots.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    // Friday in winter time (08:00 = 07:00Z), Monday in summer time (08:00 = 06:00Z);
    // 16 half hours a day, less Monday's 09:00 appointment; nothing at the weekend.
    assert_eq!(starts.len(), 16 + 15, "{starts:?}");
    assert_eq!(starts[0], "2026-03-27T07:00:00Z");
    assert_eq!(starts[15], "2026-03-27T16:30:00Z");
    assert_eq!(starts[16], "2026-03-30T06:00:00Z");
    assert!(
        !starts.contains(&"2026-03-30T07:00:00Z"),
        "the booked 09:00"
    );
    assert!(starts.contains(&"2026-03-30T07:30:00Z"));
    let both = owner
        .get(&format!(
            "/api/v1/slots?visit_type_id={}&from={MONDAY}&to={MONDAY}",
            cal.checkup
        ))
        .await;
    assert_eq!(both.body["slots"].as_array().unwrap().len(), 15 + 16);
    let bad = owner
        .get("/api/v1/slots?visit_type_id=x&from=2026-04-01&to=2026-03-01")
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body["fields"]["visit_type_id"].is_array());
}
