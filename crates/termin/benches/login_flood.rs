//! Benchmark (not a test) for S12: while one loopback address floods the login at ten times
//! its rate limit, how fast are other clients' authenticated requests, compared with no
//! flood? And how many of the flood's requests got through to a password check?
//!
//! `cargo bench -p termin --bench login_flood` (optionally `-- SECONDS`, default 20 per
//! phase). A real HTTPS server on SQLite with the default limits; the clock follows real
//! time. Other clients come from 127.0.0.2–5, the flood from 127.0.0.9. Three scenarios: the
//! defaults (sign-in limit 30 a minute: the flood sends 5 a second; after 50 failures the
//! address is blocked), a raised sign-in limit (600 a minute: the flood sends 100 a second),
//! and the raised limit with address blocks switched off, where the rate limit alone stands
//! and every admitted attempt costs a password hash. Results go to docs/BENCHMARKS.md by
//! hand, with the machine and date.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program: a failed step ends it, results are printed"
)]

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use termin::config::RawConfig;
use termin_testkit::{Browser, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer};

/// Requests per second of each authenticated client.
const CLIENT_RATE: u64 = 8;
const CLIENTS: [&str; 4] = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
const FLOODER: &str = "127.0.0.9";

#[derive(Default)]
struct FloodCount {
    sent: AtomicU64,
    checked: AtomicU64,
    throttled: AtomicU64,
    other: AtomicU64,
}

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// Every client sends `GET /api/v1/me` at [`CLIENT_RATE`] for `length`; all latencies.
async fn measure(clients: &[Arc<Browser>], length: Duration) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for client in clients {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(1000 / CLIENT_RATE));
            let end = Instant::now() + length;
            let mut latencies = Vec::new();
            while Instant::now() < end {
                ticks.tick().await;
                let started = Instant::now();
                let answer = client.get("/api/v1/me").await;
                assert_eq!(answer.status, 200, "an authenticated request failed");
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort();
    all
}

/// Sends wrong-password logins from [`FLOODER`] at `per_second` until `stop`.
fn flood(
    server: &TestServer,
    per_second: u64,
    stop: Arc<AtomicBool>,
    count: Arc<FloodCount>,
) -> tokio::task::JoinHandle<()> {
    let client = Arc::new(Browser::from_address(server, FIREFOX, ip(FLOODER)));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
        let mut inflight = tokio::task::JoinSet::new();
        while !stop.load(Ordering::Relaxed) {
            ticks.tick().await;
            let client = client.clone();
            let count = count.clone();
            count.sent.fetch_add(1, Ordering::Relaxed);
            inflight.spawn(async move {
                let answer = client
                    .post(
                        "/api/v1/auth/login",
                        &json!({"email": OWNER_EMAIL, "password": "Falsch-Geraten-1!"}),
                    )
                    .await;
                let counter = match answer.status {
                    401 => &count.checked,
                    429 => &count.throttled,
                    _ => &count.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            });
            while inflight.try_join_next().is_some() {}
        }
        while inflight.join_next().await.is_some() {}
    })
}

async fn scenario(name: &str, auth_per_minute: u32, source_blocks: bool, length: Duration) {
    let server = TestServer::builder()
        .configure(move |raw: &mut RawConfig| {
            // The test kit raises the limits for tests; the benchmark wants them as shipped.
            raw.limits = termin::config::RawLimits::default();
            raw.limits.auth_requests_per_minute = auth_per_minute;
            if !source_blocks {
                termin_testkit::guards::no_source_blocks(raw);
            }
        })
        .start()
        .await;
    // The manual test clock follows real time, so that rates refill.
    let clock = server.clock.clone();
    let (start_real, start_clock) = (Instant::now(), termin_domain::Clock::now(&clock));
    let follower = tokio::spawn(async move {
        loop {
            let elapsed = jiff::SignedDuration::try_from(start_real.elapsed()).unwrap();
            clock.set(start_clock.checked_add(elapsed).unwrap());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    server.with_practice().await;
    let mut clients = Vec::new();
    for address in CLIENTS {
        let browser = Browser::from_address(&server, FIREFOX, ip(address));
        server
            .sign_in(&browser, OWNER_EMAIL, OWNER_PHONE, OWNER_PASSWORD)
            .await;
        clients.push(Arc::new(browser));
    }
    // Warm up connections and caches.
    measure(&clients, Duration::from_secs(2)).await;

    let quiet = measure(&clients, length).await;
    let flood_rate = u64::from(auth_per_minute) * 10 / 60;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(FloodCount::default());
    let flooding = flood(&server, flood_rate.max(1), stop.clone(), count.clone());
    let loud = measure(&clients, length).await;
    stop.store(true, Ordering::Relaxed);
    flooding.await.unwrap();
    follower.abort();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (q50, q99) = (percentile(&quiet, 0.5), percentile(&quiet, 0.99));
    let (l50, l99) = (percentile(&loud, 0.5), percentile(&loud, 0.99));
    println!("scenario: {name} (sign-in limit {auth_per_minute}/min, flood {flood_rate}/s)");
    println!(
        "  without flood: {} requests, p50 {:.2} ms, p99 {:.2} ms",
        quiet.len(),
        ms(q50),
        ms(q99)
    );
    println!(
        "  with flood:    {} requests, p50 {:.2} ms, p99 {:.2} ms (p99 ratio {:.2})",
        loud.len(),
        ms(l50),
        ms(l99),
        ms(l99) / ms(q99)
    );
    println!(
        "  flood: {} sent, {} reached a password check (401), {} refused (429), {} other",
        count.sent.load(Ordering::Relaxed),
        count.checked.load(Ordering::Relaxed),
        count.throttled.load(Ordering::Relaxed),
        count.other.load(Ordering::Relaxed)
    );
    server.stop().await.unwrap();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u64>().ok())
        .unwrap_or(20);
    let length = Duration::from_secs(seconds);
    scenario("defaults", 30, true, length).await;
    scenario("raised sign-in limit", 600, true, length).await;
    scenario(
        "raised sign-in limit, no address blocks",
        600,
        false,
        length,
    )
    .await;
}
