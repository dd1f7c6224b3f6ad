//! No double booking under concurrency: 100 simultaneous attempts to book one slot give
//! exactly one 201 and 99 × 409 `slot_taken` — on SQLite, on PostgreSQL, and with two
//! Termin instances sharing one PostgreSQL database (the guarantee lives in the database,
//! not in a process). Over HTTP the requests rarely overlap at the critical moment, so this
//! test alone would not catch a missing lock; `storage/tests/calendar.rs` opens the competing
//! transactions before any books, and fails without the practitioner's lock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::sync::Arc;

use termin_testkit::calendar::{self, MONDAY};
use termin_testkit::{Browser, FIREFOX, TestServer};

const ATTEMPTS: usize = 100;

/// Fires the attempts through `browsers` in turn, all at once; returns the statuses.
async fn race(browsers: Vec<Browser>, body: serde_json::Value) -> Vec<u16> {
    let browsers: Vec<Arc<Browser>> = browsers.into_iter().map(Arc::new).collect();
    let mut tasks = Vec::new();
    for i in 0..ATTEMPTS {
        let browser = Arc::clone(&browsers[i % browsers.len()]);
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            browser.post("/api/v1/appointments", &body).await
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let answer = task.await.unwrap();
        if answer.status == 409 {
            assert_eq!(answer.body["error"], "slot_taken");
        }
        statuses.push(answer.status);
    }
    statuses
}

fn assert_one_winner(statuses: &[u16]) {
    let won = statuses.iter().filter(|s| **s == 201).count();
    let taken = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((won, taken), (1, ATTEMPTS - 1), "{statuses:?}");
}

async fn one_instance(server: TestServer) {
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    let statuses = race(
        vec![owner.for_server(&server)],
        cal.booking(&cal.dr_a, &format!("{MONDAY}T09:00")),
    )
    .await;
    assert_one_winner(&statuses);
    let listed = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(listed.body["appointments"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_winner_among_100_on_sqlite() {
    one_instance(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_winner_among_100_on_postgres() {
    let Some(server) = TestServer::on_postgres().await else {
        return;
    };
    one_instance(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_winner_among_100_across_two_instances_on_postgres() {
    let Some((first, second)) = TestServer::two_instances_on_postgres().await else {
        return;
    };
    first.with_practice().await;
    let on_first = first.signed_in_owner(FIREFOX).await;
    let on_second = on_first.for_server(&second);
    let cal = calendar::set_up(&on_first).await;
    let statuses = race(
        vec![on_first, on_second],
        cal.booking(&cal.dr_b, &format!("{MONDAY}T15:00")),
    )
    .await;
    assert_one_winner(&statuses);
}
