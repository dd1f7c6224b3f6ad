//! Denial-of-service hardening (S12): per-source request rates (stricter on sign-in) with
//! 429 and Retry-After, refilled by moving the clock; load shedding with 503 and
//! Retry-After; connection caps per address; header and body size limits; the header-read
//! timeout against slowloris.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::json;
use termin::config::RawConfig;
use termin_testkit::{Browser, CHROME, TestServer};
use tokio::io::AsyncReadExt;

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

async fn server(configure: fn(&mut RawConfig)) -> TestServer {
    TestServer::builder().configure(configure).start().await
}

#[tokio::test]
async fn sign_in_is_limited_strictly_per_source_and_refills_with_time() {
    let server = server(|raw| {
        raw.limits.auth_requests_per_minute = 6;
        raw.limits.auth_burst = 2;
    })
    .await;
    let client = Browser::new(&server, CHROME);
    let login = json!({"email": "a@praxis.example", "password": "x"});
    for _ in 0..2 {
        assert_eq!(client.post("/api/v1/auth/login", &login).await.status, 401);
    }
    let throttled = client.post("/api/v1/auth/login", &login).await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.body["error"], "throttled");
    assert_eq!(throttled.headers["retry-after"], "10");
    // Other endpoints, and other sources, are not affected by the sign-in limit.
    assert_eq!(client.get("/api/v1/me").await.status, 401);
    let other = Browser::from_address(&server, CHROME, ip("127.0.0.2"));
    assert_eq!(other.post("/api/v1/auth/login", &login).await.status, 401);

    server.clock.advance(SignedDuration::from_secs(9));
    assert_eq!(client.post("/api/v1/auth/login", &login).await.status, 429);
    server.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(client.post("/api/v1/auth/login", &login).await.status, 401);
    assert_eq!(client.post("/api/v1/auth/login", &login).await.status, 429);
}

#[tokio::test]
async fn every_endpoint_is_limited_per_source() {
    let server = server(|raw| {
        raw.limits.requests_per_minute = 60;
        raw.limits.burst = 3;
    })
    .await;
    let client = Browser::new(&server, CHROME);
    for path in ["/", "/login", "/api/v1/me"] {
        assert_ne!(client.get(path).await.status, 429, "{path}");
    }
    let throttled = client.get("/login").await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.headers["retry-after"], "1");
    // Health probes stay answered.
    assert_eq!(client.get("/healthz").await.status, 200);
    server.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(client.get("/login").await.status, 200);
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_are_shed_with_503() {
    let server = server(|raw| raw.limits.max_in_flight = 1).await;
    // One request whose body never finishes holds the only place.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"{\"email\":".to_vec())).await.unwrap();
    let body = reqwest::Body::wrap_stream(tokio_stream_of(rx));
    let slow = tokio::spawn(
        server
            .client()
            .post(server.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send(),
    );
    let mut shed = None;
    for _ in 0..50 {
        let response = server.get("/healthz").await;
        if response.status() == 503 {
            shed = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shed = shed.expect("a request is shed while the only place is taken");
    assert_eq!(shed.headers()["retry-after"], "5");
    let body: serde_json::Value = shed.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    drop(tx);
    let finished = slow.await.unwrap().unwrap();
    assert_eq!(finished.status(), 400, "the cut-off body is malformed");
    assert_eq!(server.get("/healthz").await.status(), 200);
}

/// The receiver as a stream, for a request body fed by hand.
fn tokio_stream_of(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// A raw TCP connection from `from`; whether the server closed it within `wait`.
async fn closed_at_once(from: IpAddr, to: SocketAddr) -> (tokio::net::TcpStream, bool) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let mut stream = socket.connect(to).await.unwrap();
    let mut buf = [0_u8; 16];
    let closed = matches!(
        tokio::time::timeout(Duration::from_millis(700), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    );
    (stream, closed)
}

#[tokio::test]
async fn connections_are_capped_per_address() {
    let server = server(|raw| raw.limits.max_connections_per_ip = 2).await;
    let to = server.info.https_addr;
    let (first, closed) = closed_at_once(ip("127.0.0.1"), to).await;
    assert!(!closed);
    let (_second, closed) = closed_at_once(ip("127.0.0.1"), to).await;
    assert!(!closed);
    let (_third, closed) = closed_at_once(ip("127.0.0.1"), to).await;
    assert!(
        closed,
        "a third connection from one address is closed at once"
    );
    let (_other, closed) = closed_at_once(ip("127.0.0.2"), to).await;
    assert!(!closed, "another address is not affected");
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_again, closed) = closed_at_once(ip("127.0.0.1"), to).await;
    assert!(!closed, "a closed connection frees its place");
}

#[tokio::test]
async fn oversized_headers_and_bodies_are_refused() {
    let server = server(|raw| {
        raw.limits.max_header_bytes = 16 * 1024;
        raw.limits.max_body_bytes = 64 * 1024;
    })
    .await;
    let http1 = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .http1_only()
        .build()
        .unwrap();
    let big_header = "a".repeat(32 * 1024);
    let refused = http1
        .get(server.url("/healthz"))
        .header("x-filler", &big_header)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 431);

    let big_body = json!({"email": "a@praxis.example", "password": "x".repeat(100 * 1024)});
    let refused = server.post_json("/api/v1/auth/login", &big_body).await;
    assert_eq!(refused.status(), 413);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_large");
}

#[tokio::test]
async fn a_request_whose_headers_never_end_is_cut_off() {
    let server = server(|raw| raw.limits.header_read_timeout_secs = 1).await;
    let addr = server.info.https_addr;
    let pem = std::fs::read(&server.info.certificate.cert_path).unwrap();
    let took = tokio::task::spawn_blocking(move || {
        termin_testkit::tls_probe::time_until_closed(
            addr,
            &pem,
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap()
    .unwrap()
    .expect("the server closes the connection");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_answered_503() {
    let server = server(|raw| raw.limits.request_timeout_secs = 1).await;
    // A body that never finishes keeps the handler waiting past the request time limit.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(b"{\"email\":".to_vec())).await.unwrap();
    let started = std::time::Instant::now();
    let answer = server
        .client()
        .post(server.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(tokio_stream_of(rx)))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "5");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "cut off at the limit"
    );
    drop(tx);
}
