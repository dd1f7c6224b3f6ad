//! Benchmark (not a test) for issue 7: how fast does the public booking API answer, on
//! SQLite and on PostgreSQL, against the ceiling of a minimal handler (`GET /healthz`) on
//! the same server, stack and connection in the same run?
//!
//! `cargo bench -p termin --bench online_booking` (optionally `-- COUNT`, default 1000
//! requests per measurement, 8 in flight). PostgreSQL runs when `TERMIN_TEST_POSTGRES_URL`
//! is set. Measured: the ceiling; the public slot search (one practitioner, one week);
//! confirmed bookings, as holds (each texts a code) then confirmations (each turns a hold
//! into an appointment with its patient record, manage link, reminders and messages), in
//! rounds of 200 (the practice's cap on open holds). Results go to docs/BENCHMARKS.md by
//! hand, with the machine and date.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program: a failed step ends it, results are printed"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use termin_testkit::calendar::{self, Calendar};
use termin_testkit::{Browser, CHROME, FIREFOX, TestBackend, TestDb, TestServer};

const IN_FLIGHT: usize = 8;
const ROUND: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// Sends `requests` (method, path, body) with [`IN_FLIGHT`] at a time; returns the wall
/// time and every latency, and the answers in order.
async fn run(
    client: &Arc<Browser>,
    requests: Vec<(bool, String, Value)>,
) -> (Duration, Vec<Duration>, Vec<Value>) {
    let requests = Arc::new(requests);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, requests, next) =
            (Arc::clone(client), Arc::clone(&requests), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((post, path, body)) = requests.get(i) else {
                    return done;
                };
                let sent = Instant::now();
                let answer = if *post {
                    client.post(path, body).await
                } else {
                    client.get(path).await
                };
                assert!(
                    answer.status < 300,
                    "{path}: {} {:?}",
                    answer.status,
                    answer.body
                );
                done.push((i, sent.elapsed(), answer.body));
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort_by_key(|(i, _, _)| *i);
    let latencies = all.iter().map(|(_, l, _)| *l).collect();
    (
        elapsed,
        latencies,
        all.into_iter().map(|(_, _, b)| b).collect(),
    )
}

fn report(label: &str, count: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "  {label}: {:.0}/s; p50 {:.1} ms, p99 {:.1} ms ({count} in {:.2} s)",
        count as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        elapsed.as_secs_f64(),
    );
}

/// The `i`-th free half hour from Monday 2026-04-06 on, in the practice's weekday hours.
fn slot(i: usize) -> String {
    let day = i / 16;
    let week = day / 5;
    let weekday = day % 5;
    let date = jiff::civil::date(2026, 4, 6)
        .checked_add(jiff::Span::new().days((week * 7 + weekday) as i64))
        .unwrap();
    let half_hour = i % 16;
    let minutes = if half_hour < 8 {
        8 * 60 + half_hour * 30
    } else {
        14 * 60 + (half_hour - 8) * 30
    };
    format!("{date}T{:02}:{:02}", minutes / 60, minutes % 60)
}

async fn measure(label: &str, server: TestServer, count: usize) {
    println!("{label}:");
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal: Calendar = calendar::set_up(&owner).await;
    let patient = Arc::new(Browser::new(&server, CHROME));

    let ceiling: Vec<_> = (0..count)
        .map(|_| (false, "/healthz".to_owned(), Value::Null))
        .collect();
    let (elapsed, latencies, _) = run(&patient, ceiling).await;
    report("ceiling GET /healthz", count, elapsed, latencies);

    let search = format!(
        "/api/v1/public/praxis-am-see/slots?visit_type_id={}&practitioner_id={}&from=2026-04-06&to=2026-04-12",
        cal.checkup, cal.dr_a
    );
    let searches: Vec<_> = (0..count)
        .map(|_| (false, search.clone(), Value::Null))
        .collect();
    let (elapsed, latencies, _) = run(&patient, searches).await;
    report(
        "slot search (1 practitioner, 1 week)",
        count,
        elapsed,
        latencies,
    );

    let (mut hold_time, mut confirm_time) = (Duration::ZERO, Duration::ZERO);
    let (mut hold_latencies, mut confirm_latencies) = (Vec::new(), Vec::new());
    for round in 0..count.div_ceil(ROUND) {
        let size = ROUND.min(count - round * ROUND);
        let phones: Vec<String> = (0..size)
            .map(|i| format!("+491510{:07}", round * ROUND + i))
            .collect();
        let holds: Vec<_> = (0..size)
            .map(|i| {
                let body = json!({
                    "visit_type_id": cal.checkup,
                    "practitioner_id": cal.dr_a,
                    "start": slot(round * ROUND + i),
                    "patient": {"given_name": "Test", "family_name": format!("Person{}", round * ROUND + i),
                                "birth_date": "1980-01-01", "phone": phones[i]},
                });
                (true, "/api/v1/public/praxis-am-see/bookings".to_owned(), body)
            })
            .collect();
        let (elapsed, latencies, answers) = run(&patient, holds).await;
        hold_time += elapsed;
        hold_latencies.extend(latencies);
        // Every code of the round from the outbox (delivered in batches: until all are out).
        let mut codes: HashMap<String, String> = HashMap::new();
        for _ in 0..100 {
            codes = server
                .outbox("sms")
                .await
                .into_iter()
                .filter_map(|m| {
                    let body = m["body"].as_str()?.to_owned();
                    let code = body.split("your code: ").nth(1)?.get(..6)?.to_owned();
                    Some((m["to"].as_str()?.to_owned(), code))
                })
                .collect();
            if phones.iter().all(|p| codes.contains_key(p)) {
                break;
            }
        }
        let confirms: Vec<_> = answers
            .iter()
            .zip(&phones)
            .map(|(answer, phone)| {
                let path = format!(
                    "/api/v1/public/praxis-am-see/bookings/{}/confirm",
                    answer["booking_id"].as_str().unwrap()
                );
                (true, path, json!({"code": codes[phone]}))
            })
            .collect();
        let (elapsed, latencies, _) = run(&patient, confirms).await;
        confirm_time += elapsed;
        confirm_latencies.extend(latencies);
    }
    report("holds (POST bookings)", count, hold_time, hold_latencies);
    report("confirmations", count, confirm_time, confirm_latencies);
    println!(
        "  confirmed bookings (hold + confirm): {:.0}/s",
        count as f64 / (hold_time + confirm_time).as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let count = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    measure("SQLite", TestServer::start().await, count).await;
    match TestDb::postgres_if_configured().await {
        Some(db) => {
            let server = TestServer::builder()
                .backend(TestBackend::Postgres)
                .db(db)
                .start()
                .await;
            measure("PostgreSQL", server, count).await;
        }
        None => println!("PostgreSQL: skipped (TERMIN_TEST_POSTGRES_URL not set)"),
    }
}
