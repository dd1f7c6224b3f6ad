//! No user enumeration by time (S8): a login or a password-reset request for an unknown
//! address takes as long as one for an account. One test in its own binary, so that no
//! other test shares the two cores while it measures; the order of the two kinds alternates
//! so that any drift falls on both.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use termin_testkit::guards::no_sign_in_guards;
use termin_testkit::{Browser, CHROME, FIREFOX, OWNER_EMAIL, TestServer};

const WRONG: &str = "Falsch-Geraten-1!";
/// Allowed difference of the medians.
const NOISE: Duration = Duration::from_millis(5);

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Runs `probe` `rounds` times for a known and an unknown address, alternating which goes
/// first; returns the medians (known, unknown).
async fn medians<F, Fut>(rounds: usize, probe: F) -> (Duration, Duration)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let nobody = format!("niemand{round}@praxis.example");
        let order = if round % 2 == 0 {
            [(OWNER_EMAIL.to_owned(), true), (nobody, false)]
        } else {
            [(nobody, false), (OWNER_EMAIL.to_owned(), true)]
        };
        for (email, is_known) in order {
            let started = Instant::now();
            probe(email).await;
            let took = started.elapsed();
            if is_known {
                known.push(took);
            } else {
                unknown.push(took);
            }
        }
    }
    (median(known), median(unknown))
}

#[tokio::test]
async fn unknown_and_known_addresses_take_the_same_time() {
    let server = TestServer::builder()
        .configure(no_sign_in_guards)
        .start()
        .await;
    server.with_practice().await;
    server.signed_in_owner(FIREFOX).await;
    let client = Browser::new(&server, CHROME);
    // Warm up: the dummy hash is made on first use.
    client.login("warm@praxis.example", WRONG).await;

    let (known, unknown) = medians(200, |email| {
        let client = &client;
        async move {
            let answer = client.login(&email, WRONG).await;
            assert_eq!(answer.status, 401);
            assert_eq!(answer.body["error"], "invalid_credentials");
        }
    })
    .await;
    assert!(
        known.abs_diff(unknown) < NOISE,
        "login: median known {known:?} vs unknown {unknown:?}"
    );

    let (known, unknown) = medians(30, |email| {
        let server = &server;
        async move {
            let response = server
                .post_json("/api/v1/auth/password-reset", &json!({"email": email}))
                .await;
            assert_eq!(response.status(), 202);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body, json!({"status": "requested"}));
        }
    })
    .await;
    assert!(
        known.abs_diff(unknown) < NOISE,
        "password reset: median known {known:?} vs unknown {unknown:?}"
    );
}
