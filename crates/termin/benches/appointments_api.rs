//! Benchmark (not a test) for issue 6: how many appointments per second can staff create
//! through the JSON API, on SQLite and on PostgreSQL? Each booking is a full request over
//! HTTPS: session, rights, practice-bound reads, the practitioner's lock, the overlap check,
//! the insert, its history entry and the audit entry, committed.
//!
//! `cargo bench -p termin --bench appointments_api` (optionally `-- COUNT`, default 2000
//! bookings per backend, 8 in flight). PostgreSQL runs when `TERMIN_TEST_POSTGRES_URL` is
//! set. Results go to docs/BENCHMARKS.md by hand, with the machine and date.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program: a failed step ends it, results are printed"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use termin_testkit::calendar::{self, Calendar};
use termin_testkit::{Browser, FIREFOX, TestBackend, TestDb, TestServer};

const IN_FLIGHT: usize = 8;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// Books `count` distinct half hours (alternating practitioners) with [`IN_FLIGHT`]
/// requests at a time; prints throughput and latencies.
async fn run(label: &str, server: TestServer, count: usize) {
    server.with_practice().await;
    let owner = Arc::new(server.signed_in_owner(FIREFOX).await);
    let cal = Arc::new(calendar::set_up(&owner).await);
    let base: Timestamp = "2026-04-06T06:00:00Z".parse().unwrap();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (owner, cal, next) = (Arc::clone(&owner), Arc::clone(&cal), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            book_until(&owner, &cal, &next, base, count).await
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "{label}: {count} appointments in {:.2} s = {:.0}/s; latency p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
}

async fn book_until(
    owner: &Browser,
    cal: &Calendar,
    next: &std::sync::atomic::AtomicUsize,
    base: Timestamp,
    count: usize,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if i >= count {
            return latencies;
        }
        let practitioner = if i.is_multiple_of(2) {
            &cal.dr_a
        } else {
            &cal.dr_b
        };
        let start = base + SignedDuration::from_mins(30 * (i / 2) as i64);
        let body = cal.booking(practitioner, &start.to_string());
        let sent = Instant::now();
        let answer = owner.post("/api/v1/appointments", &body).await;
        latencies.push(sent.elapsed());
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let count = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    run("SQLite", TestServer::start().await, count).await;
    match TestDb::postgres_if_configured().await {
        Some(db) => {
            let server = TestServer::builder()
                .backend(TestBackend::Postgres)
                .db(db)
                .start()
                .await;
            run("PostgreSQL", server, count).await;
        }
        None => println!("PostgreSQL: skipped (TERMIN_TEST_POSTGRES_URL not set)"),
    }
}
