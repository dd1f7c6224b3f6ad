//! The outbox on both backends: transactional enqueue, leases, retries, erasure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::collections::HashSet;
use std::sync::Arc;

use jiff::SignedDuration;
use termin_domain::delivery::Message;
use termin_domain::user::{Email, PhoneNumber};
use termin_storage::{DeliveryStatus, Store};
use termin_testkit::{TestDb, on_both_backends, test_epoch};

on_both_backends!(
    a_message_exists_only_if_its_transaction_commits,
    a_leased_message_is_not_claimed_twice_until_the_lease_runs_out,
    a_sent_message_keeps_no_text,
    a_failed_attempt_waits_for_its_retry_time,
    giving_up_marks_failed_and_erases_the_text,
    concurrent_workers_claim_each_message_exactly_once,
);

fn email(n: usize) -> Message {
    Message::email(
        &Email::parse(&format!("user{n}@praxis.example")).unwrap(),
        "Ihr Code",
        format!("Code {n:06}"),
    )
}

async fn enqueue(store: &Store, message: &Message) -> String {
    let mut tx = store.begin().await.unwrap();
    let id = tx.enqueue_message(message, test_epoch()).await.unwrap();
    tx.commit().await.unwrap();
    id
}

const LEASE: SignedDuration = SignedDuration::from_secs(60);

async fn a_message_exists_only_if_its_transaction_commits(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_message(&email(1), test_epoch()).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(
        store
            .claim_due_messages("w1", test_epoch(), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let sms = Message::sms(
        &PhoneNumber::parse("+4915123456789").unwrap(),
        "Code 123456",
    );
    let id = enqueue(&store, &sms).await;
    let claimed = store
        .claim_due_messages("w1", test_epoch(), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    assert_eq!(claimed[0].message, sms);
    assert_eq!(claimed[0].attempts, 0);
    assert_eq!(claimed[0].created_at, test_epoch());
}

async fn a_leased_message_is_not_claimed_twice_until_the_lease_runs_out(db: &TestDb) {
    let store = db.store().await;
    let id = enqueue(&store, &email(1)).await;
    let now = test_epoch();
    assert_eq!(
        store
            .claim_due_messages("w1", now, LEASE, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let almost = now.checked_add(SignedDuration::from_secs(59)).unwrap();
    assert!(
        store
            .claim_due_messages("w2", almost, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // w1 died: at the end of its lease w2 takes over, and w1 can no longer report.
    let expired = now.checked_add(LEASE).unwrap();
    let taken = store
        .claim_due_messages("w2", expired, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert!(!store.mark_message_sent(&id, "w1", expired).await.unwrap());
    assert!(store.mark_message_sent(&id, "w2", expired).await.unwrap());
    assert_eq!(
        store.delivery_state(&id).await.unwrap().unwrap().status,
        DeliveryStatus::Sent
    );
}

async fn a_sent_message_keeps_no_text(db: &TestDb) {
    let store = db.store().await;
    let id = enqueue(&store, &email(7)).await;
    store
        .claim_due_messages("w1", test_epoch(), LEASE, 10)
        .await
        .unwrap();
    assert!(
        store
            .mark_message_sent(&id, "w1", test_epoch())
            .await
            .unwrap()
    );
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Sent);
    assert_eq!(state.sent_at, Some(test_epoch()));
    let rows = db.raw_strings("SELECT body FROM outbox").await;
    assert_eq!(rows, vec![Some(String::new())]);
    let subjects = db.raw_strings("SELECT subject FROM outbox").await;
    assert_eq!(subjects, vec![None]);
    assert!(
        store
            .claim_due_messages("w1", test_epoch(), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_failed_attempt_waits_for_its_retry_time(db: &TestDb) {
    let store = db.store().await;
    let id = enqueue(&store, &email(1)).await;
    let now = test_epoch();
    store
        .claim_due_messages("w1", now, LEASE, 10)
        .await
        .unwrap();
    let retry_at = now.checked_add(SignedDuration::from_secs(15)).unwrap();
    assert!(
        store
            .mark_message_attempt_failed(&id, "w1", Some(retry_at), "451 try later")
            .await
            .unwrap()
    );

    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!((state.status, state.attempts), (DeliveryStatus::Pending, 1));
    assert_eq!(state.last_error.as_deref(), Some("451 try later"));
    let before = retry_at
        .checked_sub(SignedDuration::from_micros(1))
        .unwrap();
    assert!(
        store
            .claim_due_messages("w1", before, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim_due_messages("w1", retry_at, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
}

async fn giving_up_marks_failed_and_erases_the_text(db: &TestDb) {
    let store = db.store().await;
    let id = enqueue(&store, &email(1)).await;
    store
        .claim_due_messages("w1", test_epoch(), LEASE, 10)
        .await
        .unwrap();
    assert!(
        store
            .mark_message_attempt_failed(&id, "w1", None, "550 no such user")
            .await
            .unwrap()
    );
    let state = store.delivery_state(&id).await.unwrap().unwrap();
    assert_eq!(state.status, DeliveryStatus::Failed);
    assert_eq!(
        db.raw_strings("SELECT body FROM outbox").await,
        vec![Some(String::new())]
    );
    let later = test_epoch()
        .checked_add(SignedDuration::from_hours(48))
        .unwrap();
    assert!(
        store
            .claim_due_messages("w1", later, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn concurrent_workers_claim_each_message_exactly_once(db: &TestDb) {
    let store = Arc::new(db.store().await);
    for n in 0..60 {
        enqueue(&store, &email(n)).await;
    }
    let workers = (0..12).map(|w| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_due_messages(&format!("w{w}"), test_epoch(), LEASE, 4)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|m| m.id));
            }
        })
    });
    let mut all = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        all.extend(worker.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "every message claimed");
    assert_eq!(distinct.len(), 60, "none claimed twice");
}
