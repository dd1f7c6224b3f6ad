//! The waiting list through the public API: a patient joins through their manage link; when
//! staff cancel an earlier appointment of the same visit type, the first five who joined
//! are offered it by SMS and e-mail; the first to accept gets it (five simultaneous
//! acceptances → one winner, on SQLite and PostgreSQL), later links answer 409, expired ones
//! 404; a later time is not offered; leaving, pages, erasure.
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
const NAMES: [&str; 7] = ["Anna", "Berta", "Clara", "Doris", "Emil", "Fritz", "Greta"];

struct Practice {
    server: TestServer,
    owner: Browser,
    cal: Calendar,
}

async fn practice_on(server: TestServer) -> Practice {
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    Practice { server, owner, cal }
}

async fn practice() -> Practice {
    practice_on(TestServer::start().await).await
}

/// A patient who booked online: their phone, e-mail and manage token.
#[derive(Debug, Clone)]
struct Patient {
    phone: String,
    email: String,
    manage: String,
}

fn phone(n: usize) -> String {
    format!("+49151000001{n:02}")
}

/// Patient `n` books `practitioner` on Monday at `time` (practice time) and confirms.
async fn booked(p: &Practice, n: usize, practitioner: &str, time: &str) -> Patient {
    let patient = Browser::new(&p.server, CHROME);
    let (phone, email) = (phone(n), format!("patient{n}@example.org"));
    let held = patient
        .post(
            &format!("/api/v1/public/{SLUG}/bookings"),
            &json!({
                "visit_type_id": p.cal.checkup,
                "practitioner_id": practitioner,
                "start": format!("{MONDAY}T{time}"),
                "patient": {"given_name": NAMES[n], "family_name": "Wartend",
                            "birth_date": format!("1980-01-{:02}", n + 1),
                            "phone": phone, "email": email},
            }),
        )
        .await;
    assert_eq!(held.status, 202, "{:?}", held.body);
    let code = p.server.latest_code("sms", &phone).await;
    let confirmed = patient
        .post(
            &format!(
                "/api/v1/public/{SLUG}/bookings/{}/confirm",
                held.body["booking_id"].as_str().unwrap()
            ),
            &json!({"code": code}),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    let url = confirmed.body["manage_url"].as_str().unwrap();
    Patient {
        phone,
        email,
        manage: url.rsplit('/').next().unwrap().to_owned(),
    }
}

async fn join(p: &Practice, patient: &Patient, body: &Value) -> Answer {
    Browser::new(&p.server, CHROME)
        .post(
            &format!("/api/v1/manage/{}/waiting-list", patient.manage),
            body,
        )
        .await
}

/// Staff book the practice's patient with `practitioner` on Monday at `time`, then cancel
/// it: the time is free again.
async fn staff_free(p: &Practice, practitioner: &str, time: &str) {
    let booked = p
        .cal
        .book(&p.owner, practitioner, &format!("{MONDAY}T{time}"))
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let id = booked.body["id"].as_str().unwrap();
    let cancelled = p.owner.delete(&format!("/api/v1/appointments/{id}")).await;
    assert_eq!(cancelled.status, 204, "{:?}", cancelled.body);
}

/// The offer links (tokens) sent by SMS to `phone`, oldest first.
async fn offers_to(server: &TestServer, phone: &str) -> Vec<String> {
    server
        .outbox("sms")
        .await
        .iter()
        .filter(|m| m["to"] == phone)
        .filter_map(|m| {
            let body = m["body"].as_str().unwrap();
            let at = body.find("/offers/")? + "/offers/".len();
            Some(body[at..at + 64].to_owned())
        })
        .collect()
}

async fn manage_start(p: &Practice, patient: &Patient) -> String {
    let shown = Browser::new(&p.server, CHROME)
        .get(&format!("/api/v1/manage/{}", patient.manage))
        .await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    shown.body["start"].as_str().unwrap().to_owned()
}

async fn audit_actions(p: &Practice) -> Vec<String> {
    let log = p.owner.get("/api/v1/audit?format=json").await;
    log.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_patient_joins_and_leaves_the_waiting_list() {
    let p = practice().await;
    let patient = booked(&p, 0, &p.cal.dr_a, "15:00").await;
    let path = format!("/api/v1/manage/{}/waiting-list", patient.manage);
    let browser = Browser::new(&p.server, CHROME);
    assert_eq!(browser.get(&path).await.body, json!({"waiting": false}));

    let joined = join(&p, &patient, &json!({})).await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    assert_eq!(
        joined.body,
        json!({"waiting": true, "same_practitioner": false, "joined_at": "2026-03-25T00:00:00Z"})
    );
    // Joining again changes the preference and keeps the place.
    p.server.clock.advance(SignedDuration::from_mins(5));
    let again = join(&p, &patient, &json!({"same_practitioner": true})).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["same_practitioner"], true);
    assert_eq!(again.body["joined_at"], "2026-03-25T00:00:00Z");

    assert_eq!(browser.delete(&path).await.status, 204);
    assert_eq!(browser.get(&path).await.body, json!({"waiting": false}));
    assert_eq!(browser.delete(&path).await.status, 204, "leaving twice");

    // Off the list: an earlier free time is not offered.
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    assert_eq!(
        offers_to(&p.server, &patient.phone).await,
        Vec::<String>::new()
    );
    let actions = audit_actions(&p).await;
    for expected in ["waiting_list.join", "waiting_list.leave"] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected}: {actions:?}"
        );
    }
    assert!(!actions.iter().any(|a| a == "waiting_list.offer"));
    let unknown = browser
        .post(
            &format!("/api/v1/manage/{}/waiting-list", "ab".repeat(32)),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_cancelled_appointment_cannot_join() {
    let p = practice().await;
    let patient = booked(&p, 0, &p.cal.dr_a, "15:00").await;
    let browser = Browser::new(&p.server, CHROME);
    let cancelled = browser
        .post(
            &format!("/api/v1/manage/{}/cancel", patient.manage),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 204);
    let refused = join(&p, &patient, &json!({})).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.body["error"], "appointment_not_movable");
}

/// Six patients on Monday afternoon with Dr. A, who join the waiting list in the reverse
/// order of their appointments (the clock standing still: the order of joining decides).
async fn six_waiting(p: &Practice) -> Vec<Patient> {
    let mut patients = Vec::new();
    for (n, time) in ["14:00", "14:30", "15:00", "15:30", "16:00", "16:30"]
        .iter()
        .enumerate()
    {
        patients.push(booked(p, n, &p.cal.dr_a, time).await);
    }
    for patient in patients.iter().rev() {
        assert_eq!(join(p, patient, &json!({})).await.status, 201);
    }
    patients
}

#[tokio::test]
async fn a_staff_cancellation_offers_the_time_to_the_first_five_who_joined() {
    let p = practice().await;
    let patients = six_waiting(&p).await;
    staff_free(&p, &p.cal.dr_a, "09:00").await;

    // 16:30, 16:00, 15:30, 15:00 and 14:30 joined first; 14:00 joined last.
    for patient in &patients[1..] {
        assert_eq!(
            offers_to(&p.server, &patient.phone).await.len(),
            1,
            "{patient:?}"
        );
        let mails = p.server.outbox("email").await;
        assert!(
            mails.iter().any(|m| m["to"] == patient.email.as_str()
                && m["body"].as_str().unwrap().contains("/offers/")),
            "an e-mail to {}",
            patient.email
        );
    }
    assert_eq!(offers_to(&p.server, &patients[0].phone).await.len(), 0);
    let actions = audit_actions(&p).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "waiting_list.offer")
            .count(),
        5
    );

    let token = &offers_to(&p.server, &patients[3].phone).await[0];
    let shown = Browser::new(&p.server, CHROME)
        .get(&format!("/api/v1/offers/{token}"))
        .await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.body["start"], "2026-03-30T07:00:00Z");
    assert_eq!(shown.body["current_start"], "2026-03-30T13:30:00Z");
    assert_eq!(shown.body["practitioner"], "Dr. Anna Weber");
    assert_eq!(shown.body["expires_at"], "2026-03-25T02:00:00Z");
    assert_eq!(shown.body["status"], "open");
}

#[tokio::test]
async fn a_practice_may_offer_a_freed_time_to_fewer_or_more_at_once() {
    let p = practice().await;
    let defaults = p.owner.get("/api/v1/settings/waiting-list").await;
    assert_eq!(defaults.body, json!({"offers_at_once": 5}));
    for bad in [0, 21] {
        let refused = p
            .owner
            .put(
                "/api/v1/settings/waiting-list",
                &json!({"offers_at_once": bad}),
            )
            .await;
        assert_eq!(refused.status, 422, "{bad}");
        assert!(refused.body["fields"]["offers_at_once"].is_array());
    }
    let saved = p
        .owner
        .put(
            "/api/v1/settings/waiting-list",
            &json!({"offers_at_once": 2}),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let patients = six_waiting(&p).await;
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    let mut counts = Vec::new();
    for patient in &patients {
        counts.push(offers_to(&p.server, &patient.phone).await.len());
    }
    // 16:30 and 16:00 joined first.
    assert_eq!(counts, [0, 0, 0, 0, 1, 1]);
}

#[tokio::test]
async fn the_first_to_accept_gets_the_time_and_a_later_link_is_refused() {
    let p = practice().await;
    let patients = six_waiting(&p).await;
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    let first = &offers_to(&p.server, &patients[2].phone).await[0];
    let later = &offers_to(&p.server, &patients[4].phone).await[0];
    let browser = Browser::new(&p.server, CHROME);

    let accepted = browser
        .post(&format!("/api/v1/offers/{first}/accept"), &json!({}))
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(accepted.body["start"], "2026-03-30T07:00:00Z");
    assert_eq!(accepted.body["end"], "2026-03-30T07:30:00Z");
    assert_eq!(manage_start(&p, &patients[2]).await, "2026-03-30T07:00:00Z");
    let again = browser
        .post(&format!("/api/v1/offers/{first}/accept"), &json!({}))
        .await;
    assert_eq!(again.status, 200, "a second click: the same answer");
    assert_eq!(
        browser.get(&format!("/api/v1/offers/{first}")).await.body["status"],
        "accepted"
    );

    let refused = browser
        .post(&format!("/api/v1/offers/{later}/accept"), &json!({}))
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.body["error"], "offer_taken");
    assert_eq!(
        browser.get(&format!("/api/v1/offers/{later}")).await.status,
        409
    );
    assert_eq!(manage_start(&p, &patients[4]).await, "2026-03-30T14:00:00Z");

    // The winner is off the list, and the time they left (15:00) is offered in turn to
    // those waiting with a later appointment.
    let status = browser
        .get(&format!(
            "/api/v1/manage/{}/waiting-list",
            patients[2].manage
        ))
        .await;
    assert_eq!(status.body["waiting"], false);
    for (n, offers) in [(0, 0), (1, 1), (3, 2), (4, 2), (5, 2)] {
        assert_eq!(
            offers_to(&p.server, &patients[n].phone).await.len(),
            offers,
            "patient {n}"
        );
    }
    let history = p
        .owner
        .get(&format!(
            "/api/v1/appointments/{}/history",
            accepted.body["appointment_id"].as_str().unwrap()
        ))
        .await;
    assert!(
        history.body.to_string().contains("moved"),
        "{:?}",
        history.body
    );
    assert!(
        audit_actions(&p)
            .await
            .iter()
            .any(|a| a == "waiting_list.accept")
    );
}

async fn race(server: TestServer) {
    let p = practice_on(server).await;
    let patients = six_waiting(&p).await;
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    let mut tasks = Vec::new();
    for patient in &patients[1..] {
        let token = offers_to(&p.server, &patient.phone).await.remove(0);
        let browser = Arc::new(Browser::new(&p.server, CHROME));
        tasks.push(tokio::spawn(async move {
            browser
                .post(&format!("/api/v1/offers/{token}/accept"), &json!({}))
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            200 => winners += 1,
            409 => assert_eq!(answer.body["error"], "offer_taken"),
            other => panic!("unexpected {other}: {:?}", answer.body),
        }
    }
    assert_eq!(winners, 1);
    let listed = p
        .owner
        .get(&format!(
            "/api/v1/appointments?from={MONDAY}&to={MONDAY}&practitioner_id={}",
            p.cal.dr_a
        ))
        .await;
    let starts: Vec<&str> = listed.body["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts
            .iter()
            .filter(|s| **s == "2026-03-30T07:00:00Z")
            .count(),
        1,
        "{starts:?}"
    );
    assert_eq!(starts.len(), 6, "{starts:?}");
    let mut unique = starts.clone();
    unique.dedup();
    assert_eq!(unique, starts, "no two appointments at one time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_five_simultaneous_acceptances_wins_on_sqlite() {
    race(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_five_simultaneous_acceptances_wins_on_postgres() {
    let Some(server) = TestServer::on_postgres().await else {
        return;
    };
    race(server).await;
}

#[tokio::test]
async fn an_offer_expires_after_two_hours() {
    let p = practice().await;
    let patient = booked(&p, 0, &p.cal.dr_a, "15:00").await;
    assert_eq!(join(&p, &patient, &json!({})).await.status, 201);
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    let token = offers_to(&p.server, &patient.phone).await.remove(0);
    let browser = Browser::new(&p.server, CHROME);
    p.server
        .clock
        .advance(SignedDuration::from_hours(2) - SignedDuration::from_secs(1));
    assert_eq!(
        browser.get(&format!("/api/v1/offers/{token}")).await.status,
        200
    );
    p.server.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        browser.get(&format!("/api/v1/offers/{token}")).await.status,
        404
    );
    let late = browser
        .post(&format!("/api/v1/offers/{token}/accept"), &json!({}))
        .await;
    assert_eq!(late.status, 404, "{:?}", late.body);
    assert_eq!(manage_start(&p, &patient).await, "2026-03-30T13:00:00Z");
    assert_eq!(
        browser
            .get(&format!("/api/v1/offers/{}", "ab".repeat(32)))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_freed_time_goes_only_to_those_it_suits() {
    let p = practice().await;
    let early = booked(&p, 0, &p.cal.dr_a, "09:00").await;
    let own_only = booked(&p, 1, &p.cal.dr_b, "16:00").await;
    let anyone = booked(&p, 2, &p.cal.dr_b, "16:30").await;
    assert_eq!(join(&p, &early, &json!({})).await.status, 201);
    assert_eq!(
        join(&p, &own_only, &json!({"same_practitioner": true}))
            .await
            .status,
        201
    );
    assert_eq!(join(&p, &anyone, &json!({})).await.status, 201);

    // Dr. A at 15:00: later than 09:00, and not Dr. B.
    staff_free(&p, &p.cal.dr_a, "15:00").await;
    assert_eq!(offers_to(&p.server, &early.phone).await.len(), 0);
    assert_eq!(offers_to(&p.server, &own_only.phone).await.len(), 0);
    assert_eq!(offers_to(&p.server, &anyone.phone).await.len(), 1);

    // Moving an appointment away frees its time too: Dr. B at 14:00, moved to Tuesday.
    let moved = p
        .cal
        .book(&p.owner, &p.cal.dr_b, &format!("{MONDAY}T14:00"))
        .await;
    let id = moved.body["id"].as_str().unwrap();
    let patched = p
        .owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"start": "2026-03-31T14:00"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(offers_to(&p.server, &own_only.phone).await.len(), 1);
    assert_eq!(offers_to(&p.server, &anyone.phone).await.len(), 2);
    assert_eq!(offers_to(&p.server, &early.phone).await.len(), 0);
}

#[tokio::test]
async fn a_patients_cancellation_frees_the_time_for_the_waiting_list() {
    let p = practice().await;
    let leaving = booked(&p, 0, &p.cal.dr_a, "09:00").await;
    let waiting = booked(&p, 1, &p.cal.dr_a, "15:00").await;
    assert_eq!(join(&p, &waiting, &json!({})).await.status, 201);
    let cancelled = Browser::new(&p.server, CHROME)
        .post(
            &format!("/api/v1/manage/{}/cancel", leaving.manage),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 204);
    assert_eq!(offers_to(&p.server, &waiting.phone).await.len(), 1);
}

#[tokio::test]
async fn the_pages_join_and_accept_in_the_patients_language() {
    let p = practice().await;
    let patient = booked(&p, 0, &p.cal.dr_a, "15:00").await;
    let browser = Browser::new(&p.server, CHROME);
    let manage = browser
        .get_with_header(
            &format!("/manage/{}", patient.manage),
            ("accept-language", "en"),
        )
        .await;
    let html = manage.body.as_str().unwrap();
    assert!(html.contains("Join the waiting list"), "{html}");
    assert!(html.contains(&format!(
        "action=\"/manage/{}/waiting-list\"",
        patient.manage
    )));
    let joined = browser
        .post_form(
            &format!("/manage/{}/waiting-list", patient.manage),
            &[("same_practitioner", "1")],
        )
        .await;
    assert_eq!(joined.status, 303, "{:?}", joined.body);
    let page = browser
        .get_with_header(
            &format!("/manage/{}/waiting-list?done=joined", patient.manage),
            ("accept-language", "de"),
        )
        .await;
    let html = page.body.as_str().unwrap();
    assert!(html.contains("Sie stehen auf der Warteliste."), "{html}");
    assert!(html.contains("nur frühere Termine bei derselben"), "{html}");

    staff_free(&p, &p.cal.dr_a, "09:00").await;
    let token = offers_to(&p.server, &patient.phone).await.remove(0);
    let offer = browser
        .get_with_header(&format!("/offers/{token}"), ("accept-language", "de"))
        .await;
    assert_eq!(offer.status, 200);
    let html = offer.body.as_str().unwrap();
    assert!(html.contains("30.03.2026, 09:00 Uhr"), "{html}");
    assert!(html.contains("30.03.2026, 15:00 Uhr"), "{html}");
    assert!(html.contains(&format!("action=\"/offers/{token}/accept\"")));
    let accepted = browser
        .post_form(&format!("/offers/{token}/accept"), &[])
        .await;
    assert_eq!(accepted.status, 303, "{:?}", accepted.body);
    let after = browser
        .get_with_header(&format!("/offers/{token}"), ("accept-language", "en"))
        .await;
    assert!(
        after
            .body
            .as_str()
            .unwrap()
            .contains("your appointment has been moved to this time"),
        "{:?}",
        after.body
    );
    assert_eq!(manage_start(&p, &patient).await, "2026-03-30T07:00:00Z");
}

#[tokio::test]
async fn a_taken_offer_page_says_so() {
    let p = practice().await;
    let first = booked(&p, 0, &p.cal.dr_a, "15:00").await;
    let second = booked(&p, 1, &p.cal.dr_a, "16:00").await;
    for patient in [&first, &second] {
        assert_eq!(join(&p, patient, &json!({})).await.status, 201);
    }
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    let winner = offers_to(&p.server, &first.phone).await.remove(0);
    let loser = offers_to(&p.server, &second.phone).await.remove(0);
    let browser = Browser::new(&p.server, CHROME);
    assert_eq!(
        browser
            .post(&format!("/api/v1/offers/{winner}/accept"), &json!({}))
            .await
            .status,
        200
    );
    let page = browser
        .post_form(&format!("/offers/{loser}/accept"), &[])
        .await;
    assert_eq!(page.status, 409);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("jemand anderes"), "German by default: {html}");
}

#[tokio::test]
async fn erasing_a_patient_removes_their_waiting_entry_and_offer_links() {
    let p = practice().await;
    let patient = booked(&p, 0, &p.cal.dr_a, "15:00").await;
    assert_eq!(join(&p, &patient, &json!({})).await.status, 201);
    staff_free(&p, &p.cal.dr_a, "09:00").await;
    assert_eq!(offers_to(&p.server, &patient.phone).await.len(), 1);
    let listed = p
        .owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    let patient_id = listed.body["appointments"][0]["patient_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = p.server.db();
    let count = |table: &str| format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}");
    assert_eq!(
        db.raw_strings(&count("waiting_list")).await,
        vec![Some("1".to_owned())]
    );
    let erased = p
        .owner
        .post(
            &format!("/api/v1/patients/{patient_id}/erase"),
            &json!({"mode": "erase"}),
        )
        .await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    for table in ["waiting_list", "waiting_offer_links"] {
        assert_eq!(
            db.raw_strings(&count(table)).await,
            vec![Some("0".to_owned())],
            "{table}"
        );
    }
}
