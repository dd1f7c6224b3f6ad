//! SMS through an HTTP gateway, end to end through the outbox: a real HTTP server, a gateway
//! that fails and recovers, permanent refusals, and no message sent twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use jiff::SignedDuration;
use termin_app::delivery::{Deliverer, DeliveryRound};
use termin_delivery::{FileTransport, SmsBodyFormat, SmsHttpConfig, SmsHttpTransport};
use termin_domain::ManualClock;
use termin_domain::delivery::{Channel, Message};
use termin_domain::user::PhoneNumber;
use termin_storage::{DeliveryStatus, Store};
use termin_testkit::{TestBackend, TestDb, test_epoch};

use support::FakeGateway;

fn gateway_config(url: &str, format: SmsBodyFormat) -> SmsHttpConfig {
    SmsHttpConfig {
        url: url.parse().unwrap(),
        authorization: Some("Bearer gw-secret".into()),
        format,
        to_field: "to".into(),
        text_field: "text".into(),
        from: Some(("sender".into(), "Praxis".into())),
        timeout: Duration::from_secs(5),
    }
}

async fn setup(
    gateway: &FakeGateway,
    format: SmsBodyFormat,
) -> (TestDb, Store, ManualClock, Deliverer, tempfile::TempDir) {
    let db = TestDb::new(TestBackend::Sqlite).await;
    let store = db.store().await;
    let clock = ManualClock::new(test_epoch());
    let dir = tempfile::tempdir().unwrap();
    let sms = SmsHttpTransport::new(gateway_config(&gateway.url, format)).unwrap();
    let deliverer = Deliverer::new(
        store.clone(),
        Arc::new(clock.clone()),
        Arc::new(FileTransport::new(dir.path(), Channel::Email)),
        Arc::new(sms),
    );
    (db, store, clock, deliverer, dir)
}

async fn enqueue_sms(store: &Store, text: &str) -> String {
    let phone = PhoneNumber::parse("+4915123456789").unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .enqueue_message(&Message::sms(&phone, text), test_epoch())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn an_sms_is_posted_as_a_form_with_the_authorization_header() {
    let gateway = FakeGateway::start(0, StatusCode::OK).await;
    let (_db, store, _clock, deliverer, _dir) = setup(&gateway, SmsBodyFormat::Form).await;
    let id = enqueue_sms(&store, "Ihr Code: 123456").await;
    let round = deliverer.deliver_due().await.unwrap();
    assert_eq!(
        round,
        DeliveryRound {
            sent: 1,
            retrying: 0,
            failed: 0
        }
    );
    let requests = gateway.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].content_type,
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer gw-secret")
    );
    assert_eq!(
        requests[0].body,
        "to=%2B4915123456789&text=Ihr+Code%3A+123456&sender=Praxis"
    );
    assert_eq!(
        store.delivery_state(&id).await.unwrap().unwrap().status,
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn an_sms_can_be_posted_as_json() {
    let gateway = FakeGateway::start(0, StatusCode::OK).await;
    let (_db, store, _clock, deliverer, _dir) = setup(&gateway, SmsBodyFormat::Json).await;
    enqueue_sms(&store, "Ihr Code: 123456").await;
    deliverer.deliver_due().await.unwrap();
    let request = &gateway.requests()[0];
    assert_eq!(request.content_type, "application/json");
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"to": "+4915123456789", "text": "Ihr Code: 123456", "sender": "Praxis"})
    );
}

#[tokio::test]
async fn a_failing_gateway_is_retried_with_back_off_until_it_recovers_and_sends_once() {
    let gateway = FakeGateway::start(2, StatusCode::SERVICE_UNAVAILABLE).await;
    let (_db, store, clock, deliverer, _dir) = setup(&gateway, SmsBodyFormat::Form).await;
    let id = enqueue_sms(&store, "Ihr Code: 123456").await;

    let first = deliverer.deliver_due().await.unwrap();
    assert_eq!(
        first,
        DeliveryRound {
            sent: 0,
            retrying: 1,
            failed: 0
        }
    );
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(state.attempts, 1);
    assert_eq!(
        state.last_error.as_deref(),
        Some("SMS gateway answered HTTP 503")
    );
    assert_eq!(
        state.next_attempt_at,
        test_epoch()
            .checked_add(SignedDuration::from_secs(15))
            .unwrap()
    );

    // Not yet due: nothing happens.
    clock.advance(SignedDuration::from_secs(14));
    assert_eq!(
        deliverer.deliver_due().await.unwrap(),
        DeliveryRound::default()
    );
    clock.advance(SignedDuration::from_secs(1));
    assert_eq!(deliverer.deliver_due().await.unwrap().retrying, 1);
    clock.advance(SignedDuration::from_secs(30));
    assert_eq!(deliverer.deliver_due().await.unwrap().sent, 1);

    // Sent once; later passes send nothing more.
    clock.advance(SignedDuration::from_hours(3));
    assert_eq!(
        deliverer.deliver_due().await.unwrap(),
        DeliveryRound::default()
    );
    assert_eq!(gateway.requests().len(), 3, "two failures and one success");
    assert_eq!(
        store.delivery_state(&id).await.unwrap().unwrap().status,
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn a_gateway_refusal_is_permanent() {
    let gateway = FakeGateway::start(usize::MAX, StatusCode::BAD_REQUEST).await;
    let (_db, store, clock, deliverer, _dir) = setup(&gateway, SmsBodyFormat::Form).await;
    let id = enqueue_sms(&store, "Ihr Code: 123456").await;
    assert_eq!(deliverer.deliver_due().await.unwrap().failed, 1);
    clock.advance(SignedDuration::from_hours(24));
    assert_eq!(
        deliverer.deliver_due().await.unwrap(),
        DeliveryRound::default()
    );
    assert_eq!(gateway.requests().len(), 1);
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Failed);
    assert_eq!(
        state.last_error.as_deref(),
        Some("SMS gateway answered HTTP 400")
    );
}

#[tokio::test]
async fn an_unreachable_gateway_is_a_temporary_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = FakeGateway::start(0, StatusCode::OK).await;
    let (_db, store, _clock, _unused, dir) = setup(&unreachable, SmsBodyFormat::Form).await;
    let sms = SmsHttpTransport::new(gateway_config(
        &format!("http://127.0.0.1:{port}/send"),
        SmsBodyFormat::Form,
    ))
    .unwrap();
    let deliverer = Deliverer::new(
        store.clone(),
        Arc::new(ManualClock::new(test_epoch())),
        Arc::new(FileTransport::new(dir.path(), Channel::Email)),
        Arc::new(sms),
    );
    let id = enqueue_sms(&store, "Ihr Code: 123456").await;
    assert_eq!(deliverer.deliver_due().await.unwrap().retrying, 1);
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(
        state.last_error.as_deref(),
        Some("SMS gateway unreachable: connection failed")
    );
}

#[tokio::test]
async fn two_deliverers_on_one_database_send_each_message_once() {
    let gateway = FakeGateway::start(0, StatusCode::OK).await;
    let (_db, store, clock, first, dir) = setup(&gateway, SmsBodyFormat::Form).await;
    let second = Deliverer::new(
        store.clone(),
        Arc::new(clock.clone()),
        Arc::new(FileTransport::new(dir.path(), Channel::Email)),
        Arc::new(SmsHttpTransport::new(gateway_config(&gateway.url, SmsBodyFormat::Form)).unwrap()),
    );
    for n in 0..30 {
        enqueue_sms(&store, &format!("Nachricht {n}")).await;
    }
    let (a, b) = tokio::join!(first.deliver_due(), second.deliver_due());
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 30);
    let mut bodies: Vec<String> = gateway.requests().into_iter().map(|r| r.body).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 30);
    assert_eq!(gateway.requests().len(), 30);
}
