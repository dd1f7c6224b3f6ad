//! Appointment reminders: planned with the appointment by the practice's rule (defaults:
//! e-mail 7 and 1 days before, SMS 2 days before or 1 day on short notice), moved with it,
//! dropped when it is cancelled, queued exactly once when due — also with two instances
//! sharing one PostgreSQL database — and shown with their delivery state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::Timestamp;
use serde_json::{Value, json};
use termin_testkit::calendar::{self, Calendar, MONDAY};
use termin_testkit::{Browser, FIREFOX, TestServer};

async fn practice_on(server: TestServer) -> (TestServer, Browser, Calendar) {
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    (server, owner, cal)
}

async fn reminders(owner: &Browser, appointment: &str) -> Vec<Value> {
    let answer = owner
        .get(&format!("/api/v1/appointments/{appointment}/reminders"))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["reminders"].as_array().unwrap().clone()
}

fn reminder_texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .filter(|b| b.contains("Erinnerung"))
        .collect()
}

fn at(raw: &str) -> Timestamp {
    raw.parse().unwrap()
}

#[tokio::test]
async fn a_reminder_is_planned_sent_once_when_due_and_shown_with_its_state() {
    let (server, owner, cal) = practice_on(TestServer::start().await).await;
    // Booked on 2026-03-25 for Monday 09:00 (07:00Z): short notice, so the SMS a day
    // before; the patient has no e-mail address.
    let booked = cal
        .book(&owner, &cal.dr_a, &format!("{MONDAY}T09:00"))
        .await;
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let planned = reminders(&owner, &id).await;
    assert_eq!(
        planned,
        [
            json!({"channel": "sms", "due_at": "2026-03-29T07:00:00Z", "status": "pending", "delivery": null})
        ]
    );

    server.clock.set(at("2026-03-29T06:59:59Z"));
    server.services.send_due_reminders(100).await.unwrap();
    assert!(
        reminder_texts(&server.outbox("sms").await).is_empty(),
        "not yet"
    );

    server.clock.set(at("2026-03-29T07:00:00Z"));
    server.services.send_due_reminders(100).await.unwrap();
    server.services.send_due_reminders(100).await.unwrap();
    let sent = reminder_texts(&server.outbox("sms").await);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("30.03.2026 09:00"),
        "in practice time: {}",
        sent[0]
    );
    // Four days later the session has ended: sign in again to look.
    let owner = server.signed_in_owner(FIREFOX).await;
    let shown = reminders(&owner, &id).await;
    assert_eq!(shown[0]["status"], "queued");
    assert_eq!(shown[0]["delivery"], "sent");
}

#[tokio::test]
async fn reminders_follow_a_move_and_end_with_a_cancellation() {
    let (server, owner, cal) = practice_on(TestServer::start().await).await;
    owner
        .patch(
            &format!("/api/v1/patients/{}", cal.patient),
            &json!({"email": "j.mueller@example.org"}),
        )
        .await;
    // Booked well ahead: e-mails 7 and 1 days before, the SMS 2 days before.
    let booked = cal.book(&owner, &cal.dr_a, "2026-04-20T09:00").await;
    let id = booked.body["id"].as_str().unwrap().to_owned();
    let due: Vec<(String, String)> = reminders(&owner, &id)
        .await
        .iter()
        .map(|r| {
            (
                r["channel"].as_str().unwrap().to_owned(),
                r["due_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        due,
        [
            ("email".to_owned(), "2026-04-13T07:00:00Z".to_owned()),
            ("sms".to_owned(), "2026-04-18T07:00:00Z".to_owned()),
            ("email".to_owned(), "2026-04-19T07:00:00Z".to_owned()),
        ]
    );
    let moved = owner
        .patch(
            &format!("/api/v1/appointments/{id}"),
            &json!({"start": "2026-04-21T10:00"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let after_move: Vec<String> = reminders(&owner, &id)
        .await
        .iter()
        .map(|r| r["due_at"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        after_move,
        [
            "2026-04-14T08:00:00Z",
            "2026-04-19T08:00:00Z",
            "2026-04-20T08:00:00Z"
        ]
    );
    assert_eq!(
        owner
            .delete(&format!("/api/v1/appointments/{id}"))
            .await
            .status,
        204
    );
    assert!(reminders(&owner, &id).await.is_empty());
    server.clock.set(at("2026-04-21T00:00:00Z"));
    server.services.send_due_reminders(100).await.unwrap();
    assert!(reminder_texts(&server.outbox("email").await).is_empty());
}

#[tokio::test]
async fn a_practice_sets_its_own_reminder_days() {
    let (_server, owner, cal) = practice_on(TestServer::start().await).await;
    let defaults = owner.get("/api/v1/settings/reminders").await;
    assert_eq!(
        defaults.body,
        json!({"email_days": [7, 1], "sms_days": 2, "sms_short_notice_days": 1})
    );
    let bad = owner
        .put(
            "/api/v1/settings/reminders",
            &json!({"email_days": [0], "sms_days": 20, "sms_short_notice_days": 1}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body["fields"]["email_days"].is_array());
    assert!(bad.body["fields"]["sms_days"].is_array());
    let saved = owner
        .put(
            "/api/v1/settings/reminders",
            &json!({"email_days": [], "sms_days": 3, "sms_short_notice_days": 0}),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    let booked = cal.book(&owner, &cal.dr_b, "2026-04-20T09:00").await;
    let planned = reminders(&owner, booked.body["id"].as_str().unwrap()).await;
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0]["due_at"], "2026-04-17T07:00:00Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_queue_each_reminder_once_on_postgres() {
    let Some((first, second)) = TestServer::two_instances_on_postgres().await else {
        return;
    };
    let (first, owner, cal) = practice_on(first).await;
    let mut count = 0;
    for day in ["2026-03-30", "2026-03-31", "2026-04-01"] {
        for time in ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"] {
            for dr in [&cal.dr_a, &cal.dr_b] {
                let booked = cal.book(&owner, dr, &format!("{day}T{time}")).await;
                assert_eq!(booked.status, 201);
                count += 1;
            }
        }
    }
    let later = at("2026-04-02T00:00:00Z");
    first.clock.set(later);
    second.clock.set(later);
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            first.services.send_due_reminders(1000),
            second.services.send_due_reminders(1000)
        );
        a.unwrap();
        b.unwrap();
    }
    let mut sms = reminder_texts(&first.outbox("sms").await);
    sms.extend(reminder_texts(&second.outbox("sms").await));
    assert_eq!(
        sms.len(),
        count,
        "each appointment's one SMS reminder, once"
    );
}
