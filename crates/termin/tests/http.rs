//! Behaviour every response shares: security headers, error shapes, health, redirects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use serde_json::{Value, json};
use termin_testkit::TestServer;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
}

fn assert_security_headers(response: &reqwest::Response) {
    let hsts = header(response, "strict-transport-security");
    let max_age: u64 = hsts
        .split(';')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age >= 31_536_000, "HSTS max-age {max_age}");
    let csp = header(response, "content-security-policy");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert!(header(response, "permissions-policy").contains("camera=()"));
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let server = TestServer::start().await;
    for path in [
        "/healthz",
        "/",
        "/no/such/page",
        "/api/v1/no-such-thing",
        "/assets/app.css",
    ] {
        let response = server.get(path).await;
        assert_security_headers(&response);
    }
    let token = server.setup_token();
    let page = server.get(&format!("/setup/{token}")).await;
    assert_eq!(page.status(), 200);
    assert_security_headers(&page);
}

#[tokio::test]
async fn pages_and_api_answers_are_never_cached_but_assets_are() {
    let server = TestServer::start().await;
    let token = server.setup_token();
    for path in [
        "/",
        "/healthz",
        "/api/v1/nothing",
        &format!("/setup/{token}"),
    ] {
        assert_eq!(
            header(&server.get(path).await, "cache-control"),
            "no-store",
            "{path}"
        );
    }
    let css = server.get("/assets/app.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(header(&css, CACHE_CONTROL.as_str()), "public, max-age=3600");
    assert_eq!(
        header(&css, CONTENT_TYPE.as_str()),
        "text/css; charset=utf-8"
    );
    assert_eq!(server.get("/assets/nope.js").await.status(), 404);
}

#[tokio::test]
async fn unknown_api_routes_answer_the_contract_json_error() {
    let server = TestServer::start().await;
    let response = server.get("/api/v1/nothing-here/42").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"error": "not_found", "message": "Not found."}));
}

#[tokio::test]
async fn a_wrong_method_answers_405_in_the_contract_shape() {
    let server = TestServer::start().await;
    let response = server.get("/api/v1/setup").await;
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "method_not_allowed");
    let page = server
        .client()
        .delete(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 405);
    assert!(header(&page, "content-type").starts_with("text/html"));
}

#[tokio::test]
async fn unknown_pages_answer_an_html_page_in_the_browsers_language() {
    let server = TestServer::start().await;
    let german = server.get("/nirgendwo").await;
    assert_eq!(german.status(), 404);
    assert!(header(&german, "content-type").starts_with("text/html"));
    let html = german.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"de\">") && html.contains("Nicht gefunden"),
        "{html}"
    );

    let english = server
        .client()
        .get(server.url("/nowhere"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let html = english.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Not found"),
        "{html}"
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_contract_shape() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .post(server.url("/api/v1/setup"))
        .header("content-type", "application/json")
        .body("{\"token\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "malformed");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_any_handler() {
    let server = TestServer::start().await;
    let response = server
        .client()
        .post(server.url("/api/v1/setup"))
        .header("content-type", "application/json")
        .body(format!("{{\"token\":\"{}\"}}", "a".repeat(512 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "too_large");
}

#[tokio::test]
async fn readyz_is_200_when_migrated_and_503_with_retry_after_when_not() {
    let server = TestServer::start().await;
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "ready", "backup": {"status": "unprotected", "problems": ["too_few_targets"]}})
    );

    server
        .db()
        .execute_raw("DELETE FROM _sqlx_migrations")
        .await;
    let not_ready = server.get("/readyz").await;
    assert_eq!(not_ready.status(), 503);
    assert_eq!(header(&not_ready, RETRY_AFTER.as_str()), "5");
    assert_eq!(
        not_ready.json::<Value>().await.unwrap()["error"],
        "not_ready"
    );
    assert_eq!(
        server.get("/healthz").await.status(),
        200,
        "alive all the same"
    );
}

#[tokio::test]
async fn request_ids_are_echoed_only_when_plain() {
    let server = TestServer::start().await;
    let plain = server
        .client()
        .get(server.url("/healthz"))
        .header("x-request-id", "lb-1234_abc")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&plain, "x-request-id"), "lb-1234_abc");
    let hostile = server
        .client()
        .get(server.url("/healthz"))
        .header("x-request-id", "x\" forged=1 status=200")
        .send()
        .await
        .unwrap();
    let id = header(&hostile, "x-request-id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn the_plain_http_listener_only_redirects_to_https() {
    let server = TestServer::builder()
        .configure(|raw| raw.http.redirect_listen = Some("127.0.0.1:0".parse().unwrap()))
        .start()
        .await;
    let plain = server.info.redirect_addr.expect("redirect listener bound");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path) in [("GET", "/healthz?probe=1"), ("POST", "/api/v1/setup")] {
        let response = client
            .request(
                method.parse().unwrap(),
                format!("http://localhost:{}{path}", plain.port()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 308, "{method} {path}");
        assert_eq!(
            header(&response, LOCATION.as_str()),
            format!("https://localhost:{}{path}", server.port())
        );
        assert!(
            response.text().await.unwrap().is_empty(),
            "serves nothing but the redirect"
        );
    }
}

#[tokio::test]
async fn graceful_shutdown_returns_cleanly_and_stops_listening() {
    let server = TestServer::start().await;
    let addr = server.info.https_addr;
    assert_eq!(server.get("/healthz").await.status(), 200);
    server.stop().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn a_request_in_flight_is_finished_during_graceful_shutdown() {
    let server = TestServer::start().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let request = server
        .client()
        .post(server.url("/api/v1/setup"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let in_flight = tokio::spawn(request);
    tx.send(Ok(br#"{"token":"#.to_vec())).await.unwrap();
    // Real network ordering, not domain time: let the request reach the server first.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the request in flight"
    );
    tx.send(Ok(format!(r#""{}"}}"#, "0".repeat(64)).into_bytes()))
        .await
        .unwrap();
    drop(tx);

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(
        response.status(),
        404,
        "answered normally: unknown set-up link"
    );
    stopping.await.unwrap().unwrap();
}
