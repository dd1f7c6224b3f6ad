//! Online booking by patients through the public API (API-CONTRACT.md): free slots, a
//! booking holds its slot for ten minutes, the SMS code confirms it into an appointment
//! (five tries), the hold expires by itself, the booking finds the patient's record without
//! revealing it, the manage link shows, exports and cancels — and 200 simultaneous attempts
//! on one slot leave exactly one appointment, on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::sync::Arc;

use jiff::SignedDuration;
use serde_json::{Value, json};
use termin_testkit::calendar::{self, Calendar, MONDAY};
use termin_testkit::{Answer, Browser, CHROME, FIREFOX, TestServer};

const SLUG: &str = "praxis-am-see";
const PHONE: &str = "+4915199887766";

async fn practice_on(server: TestServer) -> (TestServer, Browser, Calendar) {
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    (server, owner, cal)
}

async fn practice() -> (TestServer, Browser, Calendar) {
    practice_on(TestServer::start().await).await
}

fn request(cal: &Calendar, practitioner: &str, time: &str, phone: &str) -> Value {
    json!({
        "visit_type_id": cal.checkup,
        "practitioner_id": practitioner,
        "start": format!("{MONDAY}T{time}"),
        "patient": {"given_name": "Jürgen", "family_name": "Müller", "birth_date": "1970-05-04",
                    "phone": phone, "email": "j.mueller@example.org"},
    })
}

async fn book(patient: &Browser, body: &Value) -> Answer {
    patient
        .post(&format!("/api/v1/public/{SLUG}/bookings"), body)
        .await
}

async fn confirm(server: &TestServer, patient: &Browser, booking: &Answer, phone: &str) -> Answer {
    let code = server.latest_code("sms", phone).await;
    patient
        .post(
            &format!(
                "/api/v1/public/{SLUG}/bookings/{}/confirm",
                booking.body["booking_id"].as_str().unwrap()
            ),
            &json!({"code": code}),
        )
        .await
}

async fn slot_starts(patient: &Browser, cal: &Calendar, practitioner: &str) -> Vec<String> {
    let answer = patient
        .get(&format!(
            "/api/v1/public/{SLUG}/slots?visit_type_id={}&practitioner_id={practitioner}&from={MONDAY}&to={MONDAY}",
            cal.checkup
        ))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .collect()
}

fn token_of(manage_url: &str) -> &str {
    manage_url.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn a_patient_books_confirms_manages_and_cancels() {
    let (server, owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let before = slot_starts(&patient, &cal, &cal.dr_a).await;
    assert_eq!(before.len(), 16);
    assert!(before.contains(&"2026-03-30T07:00:00Z".to_owned()));

    let held = book(
        &patient,
        &request(&cal, &cal.dr_a, "09:00", "0151 99887766"),
    )
    .await;
    assert_eq!(held.status, 202, "{:?}", held.body);
    assert_eq!(held.body["status"], "phone_verification_required");
    assert_eq!(held.body["hold_expires_at"], "2026-03-25T00:10:00Z");
    // Held: gone from the slots, refused to another patient and to staff.
    assert!(
        !slot_starts(&patient, &cal, &cal.dr_a)
            .await
            .contains(&"2026-03-30T07:00:00Z".to_owned())
    );
    let other = Browser::new(&server, CHROME);
    let second = book(&other, &request(&cal, &cal.dr_a, "09:00", "+4915100000001")).await;
    assert_eq!(second.status, 409);
    assert_eq!(second.body["error"], "slot_taken");
    let staff = cal
        .book(&owner, &cal.dr_a, &format!("{MONDAY}T09:00"))
        .await;
    assert_eq!(staff.body["error"], "slot_taken");

    let wrong = patient
        .post(
            &format!(
                "/api/v1/public/{SLUG}/bookings/{}/confirm",
                held.body["booking_id"].as_str().unwrap()
            ),
            &json!({"code": "000000"}),
        )
        .await;
    assert_eq!(wrong.status, 422, "{:?}", wrong.body);
    let code = server.latest_code("sms", PHONE).await;
    let confirm_path = format!(
        "/api/v1/public/{SLUG}/bookings/{}/confirm",
        held.body["booking_id"].as_str().unwrap()
    );
    let confirmed = patient.post(&confirm_path, &json!({"code": code})).await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    assert_eq!(confirmed.body["status"], "confirmed");
    let manage_url = confirmed.body["manage_url"].as_str().unwrap().to_owned();
    assert!(
        manage_url.starts_with(&server.url("/manage/")),
        "{manage_url}"
    );
    let again = patient.post(&confirm_path, &json!({"code": code})).await;
    assert_eq!(again.status, 422, "a code is used once");

    // The practice sees it, booked online for the patient's existing record.
    let listed = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    let appointment = &listed.body["appointments"][0];
    assert_eq!(appointment["id"], confirmed.body["appointment_id"]);
    assert_eq!(appointment["source"], "online");
    assert_eq!(appointment["patient_id"], cal.patient.as_str());
    let mails = server.outbox("email").await;
    assert!(
        mails.iter().any(|m| m["to"] == "j.mueller@example.org"
            && m["body"].as_str().unwrap().contains(&manage_url)),
        "the confirmation carries the manage link"
    );

    // The manage link.
    let token = token_of(&manage_url);
    let shown = patient.get(&format!("/api/v1/manage/{token}")).await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.body["practitioner"], "Dr. Anna Weber");
    assert_eq!(shown.body["start"], "2026-03-30T07:00:00Z");
    assert_eq!(shown.body["may_cancel"], true);
    let ics = server
        .get(&format!("/api/v1/manage/{token}/calendar.ics"))
        .await;
    assert_eq!(ics.status(), 200);
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = ics.text().await.unwrap();
    assert!(text.contains("DTSTART:20260330T070000Z\r\n"), "{text}");
    assert!(text.contains("SUMMARY:Kontrolle – Praxis am See"), "{text}");
    assert_eq!(
        patient
            .get(&format!("/api/v1/manage/{}", "ab".repeat(32)))
            .await
            .status,
        404
    );
    let cancelled = patient
        .post(
            &format!("/api/v1/manage/{token}/cancel"),
            &json!({"reason": "verhindert"}),
        )
        .await;
    assert_eq!(cancelled.status, 204, "{:?}", cancelled.body);
    let shown = patient.get(&format!("/api/v1/manage/{token}")).await;
    assert_eq!(shown.body["status"], "cancelled");
    assert!(
        slot_starts(&patient, &cal, &cal.dr_a)
            .await
            .contains(&"2026-03-30T07:00:00Z".to_owned())
    );

    // Audit: the patient's steps, without an account as actor.
    let log = owner.get("/api/v1/audit?format=json").await;
    let actions: Vec<&str> = log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "booking.hold",
        "booking.confirm",
        "appointment.cancel_by_patient",
    ] {
        assert!(actions.contains(&expected), "{expected}: {actions:?}");
    }
}

#[tokio::test]
async fn a_hold_expires_by_itself_and_its_code_with_it() {
    let (server, _owner, cal) = practice().await;
    let first = Browser::new(&server, CHROME);
    let held = book(&first, &request(&cal, &cal.dr_b, "15:00", PHONE)).await;
    assert_eq!(held.status, 202);
    server.clock.advance(SignedDuration::from_mins(10));
    let later = Browser::new(&server, CHROME);
    let taken_over = book(&later, &request(&cal, &cal.dr_b, "15:00", "+4915100000002")).await;
    assert_eq!(
        taken_over.status, 202,
        "the hold has expired: {:?}",
        taken_over.body
    );
    let late = confirm(&server, &first, &held, PHONE).await;
    assert_eq!(late.status, 422);
    assert_eq!(late.body["error"], "invalid_code");
}

#[tokio::test]
async fn the_sixth_code_attempt_is_refused_even_when_right() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let held = book(&patient, &request(&cal, &cal.dr_a, "10:00", PHONE)).await;
    let path = format!(
        "/api/v1/public/{SLUG}/bookings/{}/confirm",
        held.body["booking_id"].as_str().unwrap()
    );
    for _ in 0..4 {
        assert_eq!(
            patient.post(&path, &json!({"code": "000000"})).await.status,
            422
        );
    }
    // The fifth attempt may still succeed …
    let code = server.latest_code("sms", PHONE).await;
    let other = book(&patient, &request(&cal, &cal.dr_a, "10:30", PHONE)).await;
    let other_path = format!(
        "/api/v1/public/{SLUG}/bookings/{}/confirm",
        other.body["booking_id"].as_str().unwrap()
    );
    for _ in 0..5 {
        assert_eq!(
            patient
                .post(&other_path, &json!({"code": "000000"}))
                .await
                .status,
            422
        );
    }
    let other_code = server.latest_code("sms", PHONE).await;
    assert_eq!(
        patient
            .post(&other_path, &json!({"code": other_code}))
            .await
            .status,
        422,
        "… but not the sixth"
    );
    assert_eq!(
        patient.post(&path, &json!({"code": code})).await.status,
        200
    );
}

#[tokio::test]
async fn a_booking_never_reveals_whether_the_patient_is_known() {
    let (server, owner, cal) = practice().await;
    let known = book(
        &Browser::new(&server, CHROME),
        &request(&cal, &cal.dr_a, "08:00", PHONE),
    )
    .await;
    let stranger = book(
        &Browser::new(&server, CHROME),
        &request(&cal, &cal.dr_a, "08:30", "+4915100000003"),
    )
    .await;
    assert_eq!(known.status, stranger.status);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known.body), keys(&stranger.body));
    let a = confirm(&server, &Browser::new(&server, CHROME), &known, PHONE).await;
    let b = confirm(
        &server,
        &Browser::new(&server, CHROME),
        &stranger,
        "+4915100000003",
    )
    .await;
    assert_eq!(keys(&a.body), keys(&b.body));
    let listed = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    let patients: Vec<&str> = listed.body["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["patient_id"].as_str().unwrap())
        .collect();
    // Same name, birth date and phone: the existing record; another phone and an e-mail
    // address the record does not have: a new record, for staff to merge if it is the same.
    assert_eq!(patients, [cal.patient.as_str(), patients[1]]);
    assert_ne!(patients[1], cal.patient);
}

#[tokio::test]
async fn only_bookable_times_and_details_are_accepted() {
    let (server, owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    for (time, why) in [("12:30", "lunch break"), ("09:10", "off the grid")] {
        let refused = book(&patient, &request(&cal, &cal.dr_a, time, PHONE)).await;
        assert_eq!(refused.status, 422, "{why}: {:?}", refused.body);
        assert!(refused.body["fields"]["start"].is_array());
    }
    let mut bad = request(&cal, &cal.dr_a, "09:00", "");
    bad["patient"]["given_name"] = json!("");
    bad["patient"]["email"] = json!("nope");
    let refused = book(&patient, &bad).await;
    assert_eq!(refused.status, 422);
    for field in ["patient.given_name", "patient.phone", "patient.email"] {
        assert!(
            refused.body["fields"][field].is_array(),
            "{field}: {:?}",
            refused.body
        );
    }
    let hidden = owner
        .post(
            "/api/v1/visit-types",
            &json!({"name": "Intern", "duration_minutes": 30, "online_bookable": false}),
        )
        .await;
    let mut internal = request(&cal, &cal.dr_a, "09:00", PHONE);
    internal["visit_type_id"] = hidden.body["id"].clone();
    assert_eq!(book(&patient, &internal).await.status, 404);
    assert_eq!(
        patient
            .post(
                "/api/v1/public/keine-praxis/bookings",
                &request(&cal, &cal.dr_a, "09:00", PHONE)
            )
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn one_phone_number_holds_at_most_three_unconfirmed_bookings() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    for time in ["08:00", "08:30", "09:00"] {
        assert_eq!(
            book(&patient, &request(&cal, &cal.dr_a, time, PHONE))
                .await
                .status,
            202
        );
    }
    let fourth = book(&patient, &request(&cal, &cal.dr_a, "09:30", PHONE)).await;
    assert_eq!(fourth.status, 429, "{:?}", fourth.body);
    assert!(fourth.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn one_phone_number_gets_at_most_five_codes_an_hour() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    // Three open holds at most; each expires after ten minutes and may be followed by a
    // new one — but no more than five codes in an hour.
    for (round, times) in [["08:00", "08:30", "09:00"], ["09:30", "10:00", "10:30"]]
        .iter()
        .enumerate()
    {
        for (i, time) in times.iter().enumerate() {
            let expected = if round * 3 + i < 5 { 202 } else { 429 };
            let answer = book(&patient, &request(&cal, &cal.dr_a, time, PHONE)).await;
            assert_eq!(
                answer.status,
                expected,
                "booking {}: {:?}",
                round * 3 + i + 1,
                answer.body
            );
        }
        server.clock.advance(SignedDuration::from_mins(11));
    }
    server.clock.advance(SignedDuration::from_mins(40));
    assert_eq!(
        book(&patient, &request(&cal, &cal.dr_a, "11:00", PHONE))
            .await
            .status,
        202,
        "an hour after the first"
    );
}

#[tokio::test]
async fn the_patient_cannot_cancel_online_after_the_deadline() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let held = book(&patient, &request(&cal, &cal.dr_a, "09:00", PHONE)).await;
    let confirmed = confirm(&server, &patient, &held, PHONE).await;
    let token = token_of(confirmed.body["manage_url"].as_str().unwrap()).to_owned();
    // 24 hours before 07:00Z on Monday.
    server.clock.set("2026-03-29T07:00:00Z".parse().unwrap());
    let late = patient
        .post(&format!("/api/v1/manage/{token}/cancel"), &json!({}))
        .await;
    assert_eq!(late.status, 409);
    assert_eq!(late.body["error"], "cancellation_deadline_passed");
    server.clock.set("2026-03-29T06:59:59Z".parse().unwrap());
    assert_eq!(
        patient
            .post(&format!("/api/v1/manage/{token}/cancel"), &json!({}))
            .await
            .status,
        204,
        "one second before the deadline"
    );
}

async fn race(server: TestServer) {
    const ATTEMPTS: usize = 200;
    let (server, owner, cal) = practice_on(server).await;
    let mut tasks = Vec::new();
    for i in 0..ATTEMPTS {
        let patient = Arc::new(Browser::new(&server, CHROME));
        let body = request(&cal, &cal.dr_a, "11:00", &format!("+49151000{i:05}"));
        tasks.push(tokio::spawn(async move { book(&patient, &body).await }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            202 => winners.push(answer),
            409 => assert_eq!(answer.body["error"], "slot_taken"),
            other => panic!("unexpected {other}: {:?}", answer.body),
        }
    }
    assert_eq!(winners.len(), 1);
    let winner = &winners[0];
    let phone = {
        // The winner's phone is where the one booking code went.
        let sms = server.outbox("sms").await;
        let codes: Vec<&Value> = sms
            .iter()
            .filter(|m| {
                m["body"]
                    .as_str()
                    .unwrap()
                    .contains("Ihr Code für den Termin")
            })
            .collect();
        assert_eq!(codes.len(), 1, "one code sent");
        codes[0]["to"].as_str().unwrap().to_owned()
    };
    let confirmed = confirm(&server, &Browser::new(&server, CHROME), winner, &phone).await;
    assert_eq!(confirmed.status, 200);
    let listed = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(listed.body["appointments"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_200_simultaneous_bookings_wins_on_sqlite() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .try_init();
    race(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_200_simultaneous_bookings_wins_on_postgres() {
    let Some(server) = TestServer::on_postgres().await else {
        return;
    };
    race(server).await;
}

#[tokio::test]
async fn the_manage_page_shows_and_cancels_in_the_patients_language() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let held = book(&patient, &request(&cal, &cal.dr_a, "09:00", PHONE)).await;
    let confirmed = confirm(&server, &patient, &held, PHONE).await;
    let token = token_of(confirmed.body["manage_url"].as_str().unwrap()).to_owned();
    let german = patient
        .get_with_header(&format!("/manage/{token}"), ("accept-language", "de-DE"))
        .await;
    assert_eq!(german.status, 200);
    let html = german.body.as_str().unwrap();
    assert!(
        html.contains("30.03.2026, 09:00 Uhr"),
        "practice time: {html}"
    );
    assert!(html.contains("Dr. Anna Weber"));
    assert!(html.contains(&format!("/api/v1/manage/{token}/calendar.ics")));
    let english = patient
        .get_with_header(&format!("/manage/{token}"), ("accept-language", "en"))
        .await;
    assert!(english.body.as_str().unwrap().contains("2026-03-30, 09:00"));
    // Moving through the page: the offered times are buttons.
    // The earliest free time, on the Wednesday of the booking (08:00 winter time).
    assert!(
        html.contains("name=\"start\" value=\"2026-03-25T07:00:00Z\""),
        "{html}"
    );
    let moved = patient
        .post_form(
            &format!("/manage/{token}/reschedule"),
            &[("start", "2026-03-26T07:00:00Z")],
        )
        .await;
    assert_eq!(moved.status, 303, "{:?}", moved.body);
    let after_move = patient
        .get_with_header(&format!("/manage/{token}"), ("accept-language", "de-DE"))
        .await;
    assert!(
        after_move
            .body
            .as_str()
            .unwrap()
            .contains("25.03.2026, 08:00 Uhr")
    );
    let done = patient
        .post_form(&format!("/manage/{token}/cancel"), &[("reason", "krank")])
        .await;
    assert_eq!(done.status, 303, "{:?}", done.body);
    let after = patient
        .get_with_header(&format!("/manage/{token}"), ("accept-language", "en"))
        .await;
    assert!(
        after
            .body
            .as_str()
            .unwrap()
            .contains("This appointment is cancelled.")
    );
    assert_eq!(
        patient
            .get(&format!("/manage/{}", "cd".repeat(32)))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_practice_is_told_of_online_bookings_and_late_cancellations() {
    let (server, owner, cal) = practice().await;
    let short = owner
        .post(
            "/api/v1/visit-types",
            &json!({"name": "Kurzfristig", "duration_minutes": 30, "online_bookable": true,
                    "practitioner_ids": [cal.dr_a], "cancel_deadline_hours": 2}),
        )
        .await;
    let patient = Browser::new(&server, CHROME);
    let mut body = request(&cal, &cal.dr_a, "09:00", PHONE);
    body["visit_type_id"] = short.body["id"].clone();
    let held = book(&patient, &body).await;
    let confirmed = confirm(&server, &patient, &held, PHONE).await;
    assert_eq!(confirmed.status, 200);
    let token = token_of(confirmed.body["manage_url"].as_str().unwrap()).to_owned();
    let to_practice = |mails: &[Value], what: &str| {
        mails
            .iter()
            .filter(|m| m["to"] == termin_testkit::OWNER_EMAIL)
            .filter(|m| m["subject"].as_str().unwrap_or_default().contains(what))
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let booked = to_practice(&server.outbox("email").await, "Online-Buchung");
    assert_eq!(booked.len(), 1);
    assert!(booked[0].contains("30.03.2026 09:00") && booked[0].contains("Dr. Anna Weber"));
    assert!(
        !booked[0].contains("Müller"),
        "no patient data in the practice's e-mail"
    );
    // Twelve hours ahead: allowed (deadline 2 h) but late.
    server.clock.set("2026-03-29T19:00:00Z".parse().unwrap());
    assert_eq!(
        patient
            .post(&format!("/api/v1/manage/{token}/cancel"), &json!({}))
            .await
            .status,
        204
    );
    let late = to_practice(&server.outbox("email").await, "Kurzfristige Absage");
    assert_eq!(late.len(), 1);
}

#[tokio::test]
async fn the_patient_moves_the_appointment_to_another_free_time() {
    let (server, owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let held = book(&patient, &request(&cal, &cal.dr_a, "09:00", PHONE)).await;
    let confirmed = confirm(&server, &patient, &held, PHONE).await;
    let token = token_of(confirmed.body["manage_url"].as_str().unwrap()).to_owned();
    let path = format!("/api/v1/manage/{token}/reschedule");
    // Taken by someone else, off the grid, in the lunch break: refused.
    cal.book(&owner, &cal.dr_a, &format!("{MONDAY}T10:00"))
        .await;
    let taken = patient
        .post(&path, &json!({"start": format!("{MONDAY}T10:00")}))
        .await;
    assert_eq!(taken.status, 409, "{:?}", taken.body);
    assert_eq!(taken.body["error"], "slot_taken");
    for time in ["10:10", "12:30"] {
        let refused = patient
            .post(&path, &json!({"start": format!("{MONDAY}T{time}")}))
            .await;
        assert_eq!(refused.status, 422, "{time}");
    }
    let moved = patient
        .post(&path, &json!({"start": format!("{MONDAY}T11:30")}))
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["start"], "2026-03-30T09:30:00Z");
    // The old time is free for others again; the practice sees the new one.
    assert!(
        slot_starts(&patient, &cal, &cal.dr_a)
            .await
            .contains(&"2026-03-30T07:00:00Z".to_owned())
    );
    let shown = owner
        .get(&format!(
            "/api/v1/appointments/{}",
            confirmed.body["appointment_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(shown.body["start"], "2026-03-30T09:30:00Z");
    let reminders = owner
        .get(&format!(
            "/api/v1/appointments/{}/reminders",
            confirmed.body["appointment_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        reminders.body["reminders"][0]["due_at"], "2026-03-29T09:30:00Z",
        "{:?}",
        reminders.body
    );
}
