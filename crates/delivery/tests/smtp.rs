//! E-mail through a real SMTP server (aiosmtpd): plain to a local relay, STARTTLS with
//! authentication, refusals and temporary failures, all through the outbox.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use termin_app::delivery::{Deliverer, DeliveryRound, Transport};
use termin_delivery::{FileTransport, SmtpConfig, SmtpSecurity, SmtpTransport};
use termin_domain::ManualClock;
use termin_domain::delivery::{Channel, Message};
use termin_domain::user::Email;
use termin_storage::{DeliveryStatus, Store};
use termin_testkit::pki::TestCa;
use termin_testkit::{TestBackend, TestDb, test_epoch};

use support::{SmtpOptions, SmtpServer};

fn config(port: u16, security: SmtpSecurity) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security,
        username: None,
        password: None,
        from: "Praxis am See <termin@praxis.example>".into(),
        ca_pem: None,
        timeout: Duration::from_secs(10),
    }
}

async fn outbox_with(transport: SmtpTransport) -> (TestDb, Store, Deliverer, tempfile::TempDir) {
    let db = TestDb::new(TestBackend::Sqlite).await;
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let deliverer = Deliverer::new(
        store.clone(),
        Arc::new(ManualClock::new(test_epoch())),
        Arc::new(transport),
        Arc::new(FileTransport::new(dir.path(), Channel::Sms)),
    );
    (db, store, deliverer, dir)
}

async fn enqueue_email(store: &Store, to: &str) -> String {
    let to = Email::parse(to).unwrap();
    let mut tx = store.begin().await.unwrap();
    let message = Message::email(
        &to,
        "Ihr Bestätigungscode",
        "Ihr Code lautet 123456.\nPraxis am See",
    );
    let id = tx.enqueue_message(&message, test_epoch()).await.unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn an_email_reaches_a_local_relay() {
    let Some(server) = SmtpServer::start(SmtpOptions {
        starttls: None,
        auth: None,
    }) else {
        return;
    };
    let transport = SmtpTransport::new(&config(server.port, SmtpSecurity::None)).unwrap();
    let (_db, store, deliverer, _dir) = outbox_with(transport).await;
    let id = enqueue_email(&store, "owner@praxis.example").await;
    assert_eq!(
        deliverer.deliver_due().await.unwrap(),
        DeliveryRound {
            sent: 1,
            retrying: 0,
            failed: 0
        }
    );

    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["from"], "termin@praxis.example");
    assert_eq!(
        received[0]["to"],
        serde_json::json!(["owner@praxis.example"])
    );
    let data = received[0]["data"].as_str().unwrap();
    assert!(
        data.contains("Subject: Ihr =?utf-8?b?QmVzdMOkdGlndW5nc2NvZGU=?="),
        "{data}"
    );
    assert!(data.contains("Ihr Code lautet 123456."), "{data}");
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    assert_eq!(
        store.delivery_state(&id).await.unwrap().unwrap().status,
        DeliveryStatus::Sent
    );
}

/// An aiosmtpd relay that requires STARTTLS (certificate from a test CA) and login as
/// `termin` / `s3cret-relay`, and a client configuration trusting that CA with user
/// `termin` (the password is the test's to set). The temp dir holds the PEM files.
fn starttls_relay() -> Option<(SmtpServer, SmtpConfig, tempfile::TempDir)> {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("chain.pem"), dir.path().join("key.pem"));
    ca.issue_localhost(&cert, &key);
    let server = SmtpServer::start(SmtpOptions {
        starttls: Some((&cert, &key)),
        auth: Some("termin:s3cret-relay"),
    })?;
    let mut cfg = config(server.port, SmtpSecurity::StartTls);
    cfg.host = "localhost".into();
    cfg.ca_pem = Some(ca.root_pem.clone().into_bytes());
    cfg.username = Some("termin".into());
    Some((server, cfg, dir))
}

#[tokio::test]
async fn starttls_with_authentication_is_used_when_configured() {
    let Some((server, mut cfg, _pki)) = starttls_relay() else {
        return;
    };
    cfg.password = Some("s3cret-relay".into());
    let transport = SmtpTransport::new(&cfg).unwrap();
    assert_eq!(
        transport.describe(),
        format!("SMTP localhost:{} (STARTTLS)", server.port)
    );
    let (_db, store, deliverer, _dir) = outbox_with(transport).await;
    enqueue_email(&store, "owner@praxis.example").await;
    assert_eq!(deliverer.deliver_due().await.unwrap().sent, 1);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["tls"], true);
    assert_eq!(received[0]["auth"], "termin");
}

#[tokio::test]
async fn a_wrong_relay_password_fails_for_good() {
    let Some((server, mut cfg, _pki)) = starttls_relay() else {
        return;
    };
    cfg.password = Some("wrong".into());
    let (_db, store, deliverer, _dir) = outbox_with(SmtpTransport::new(&cfg).unwrap()).await;
    let id = enqueue_email(&store, "owner@praxis.example").await;
    assert_eq!(deliverer.deliver_due().await.unwrap().failed, 1);
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Failed);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_rejected_recipient_fails_for_good_and_a_deferral_is_retried() {
    let Some(server) = SmtpServer::start(SmtpOptions {
        starttls: None,
        auth: None,
    }) else {
        return;
    };
    let transport = SmtpTransport::new(&config(server.port, SmtpSecurity::None)).unwrap();
    let (_db, store, deliverer, _dir) = outbox_with(transport).await;
    let rejected = enqueue_email(&store, "reject@praxis.example").await;
    let deferred = enqueue_email(&store, "later@praxis.example").await;
    let round = deliverer.deliver_due().await.unwrap();
    assert_eq!(
        round,
        DeliveryRound {
            sent: 0,
            retrying: 1,
            failed: 1
        }
    );
    let rejected = store.delivery_state(&rejected).await.unwrap().unwrap();
    assert_eq!(rejected.status, DeliveryStatus::Failed);
    assert_eq!(rejected.last_error.as_deref(), Some("SMTP reply 550"));
    let deferred = store.delivery_state(&deferred).await.unwrap().unwrap();
    assert_eq!(deferred.status, DeliveryStatus::Pending);
    assert_eq!(deferred.last_error.as_deref(), Some("SMTP reply 451"));
}

#[tokio::test]
async fn a_relay_that_is_down_is_a_temporary_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let transport = SmtpTransport::new(&config(port, SmtpSecurity::None)).unwrap();
    let (_db, store, deliverer, _dir) = outbox_with(transport).await;
    let id = enqueue_email(&store, "owner@praxis.example").await;
    assert_eq!(deliverer.deliver_due().await.unwrap().retrying, 1);
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Pending);
    assert_eq!(
        state.last_error.as_deref(),
        Some("SMTP connection or protocol error")
    );
}

#[test]
fn plain_smtp_to_a_remote_relay_is_refused() {
    let mut cfg = config(25, SmtpSecurity::None);
    cfg.host = "mail.example.net".into();
    assert!(SmtpTransport::new(&cfg).is_err());
}
