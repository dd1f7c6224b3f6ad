//! Password reset (link + second factor) and the new-device notice with "this wasn't me".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use serde_json::json;
use termin_testkit::{
    Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer,
};

const NEW_PASSWORD: &str = "Rt5%ybnm-Ulme";

async fn sign_in(server: &TestServer, browser: &Browser, password: &str) {
    server
        .sign_in(browser, OWNER_EMAIL, OWNER_PHONE, password)
        .await;
}

async fn owner() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let browser = Browser::new(&server, FIREFOX);
    sign_in(&server, &browser, OWNER_PASSWORD).await;
    (server, browser)
}

/// The token of the newest link to `path_prefix` (e.g. "/reset/") e-mailed to the owner.
async fn link_token(server: &TestServer, path_prefix: &str) -> Option<String> {
    let mails = server.outbox("email").await;
    let prefix = format!("https://localhost:{}{path_prefix}", server.port());
    mails
        .iter()
        .rev()
        .filter(|m| m["to"] == OWNER_EMAIL)
        .find_map(|m| {
            let body = m["body"].as_str().unwrap();
            body.find(&prefix)
                .map(|i| body[i + prefix.len()..i + prefix.len() + 64].to_owned())
        })
}

async fn request_reset(server: &TestServer, email: &str) -> (u16, serde_json::Value) {
    let response = server
        .post_json("/api/v1/auth/password-reset", &json!({"email": email}))
        .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn confirm(server: &TestServer, token: &str, code: &str, password: &str) -> u16 {
    server
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "method": "sms", "code": code, "new_password": password}),
        )
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_reset_request_answers_the_same_for_known_and_unknown_addresses() {
    let (server, _) = owner().await;
    let before = server.outbox("email").await.len();
    let unknown = request_reset(&server, "nobody@praxis-am-see.example").await;
    assert_eq!(
        server.outbox("email").await.len(),
        before,
        "nothing sent to unknown addresses"
    );
    let known = request_reset(&server, OWNER_EMAIL).await;
    assert_eq!(unknown, known);
    assert_eq!(known, (202, json!({"status": "requested"})));
    assert!(link_token(&server, "/reset/").await.is_some());
}

#[tokio::test]
async fn a_reset_needs_the_link_and_the_sms_code_and_signs_out_everywhere() {
    let (server, first) = owner().await;
    request_reset(&server, OWNER_EMAIL).await;
    let token = link_token(&server, "/reset/").await.unwrap();
    let code = server.latest_code("sms", OWNER_PHONE).await;
    assert_eq!(server.get(&format!("/reset/{token}")).await.status(), 200);

    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(confirm(&server, &token, &wrong, NEW_PASSWORD).await, 422);
    assert_eq!(confirm(&server, &token, &code, NEW_PASSWORD).await, 204);
    assert_eq!(
        confirm(&server, &token, &code, NEW_PASSWORD).await,
        404,
        "used once"
    );

    assert_eq!(
        first.get("/api/v1/me").await.status,
        401,
        "every session ended"
    );
    assert_eq!(first.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 401);
    let again = first.login(OWNER_EMAIL, NEW_PASSWORD).await;
    assert_eq!(
        again.body["status"], "second_factor_required",
        "no device is trusted any more"
    );
}

#[tokio::test]
async fn a_reset_link_lasts_thirty_minutes() {
    let (server, _) = owner().await;
    request_reset(&server, OWNER_EMAIL).await;
    let token = link_token(&server, "/reset/").await.unwrap();
    let code = server.latest_code("sms", OWNER_PHONE).await;
    server
        .clock
        .advance(SignedDuration::from_mins(30) - SignedDuration::from_secs(1));
    assert_eq!(server.get(&format!("/reset/{token}")).await.status(), 200);
    server.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(server.get(&format!("/reset/{token}")).await.status(), 404);
    assert_eq!(confirm(&server, &token, &code, NEW_PASSWORD).await, 404);
}

#[tokio::test]
async fn five_wrong_codes_use_the_link_up_and_a_weak_password_costs_no_attempt() {
    let (server, _) = owner().await;
    request_reset(&server, OWNER_EMAIL).await;
    let token = link_token(&server, "/reset/").await.unwrap();
    let code = server.latest_code("sms", OWNER_PHONE).await;
    for _ in 0..10 {
        let weak = confirm(&server, &token, &code, "password").await;
        assert_eq!(weak, 422);
    }
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        assert_eq!(confirm(&server, &token, &wrong, NEW_PASSWORD).await, 422);
    }
    assert_eq!(
        confirm(&server, &token, &code, NEW_PASSWORD).await,
        404,
        "the link is used up"
    );
}

#[tokio::test]
async fn a_new_device_login_sends_a_notice_and_this_wasnt_me_secures_the_account() {
    let (server, first) = owner().await;
    assert!(
        link_token(&server, "/not-me/").await.is_none(),
        "the account's first login is no news"
    );
    let intruder = Browser::new(&server, CHROME);
    sign_in(&server, &intruder, OWNER_PASSWORD).await;
    let token = link_token(&server, "/not-me/")
        .await
        .expect("a new-device notice");
    let notice = server.outbox("email").await;
    let body = notice
        .iter()
        .rev()
        .find(|m| m["to"] == OWNER_EMAIL)
        .unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("Chrome on Windows"), "{body}");

    // Opening the link only asks; it does not act.
    assert_eq!(server.get(&format!("/not-me/{token}")).await.status(), 200);
    assert_eq!(intruder.get("/api/v1/me").await.status, 200);

    let secured = server
        .post_json("/api/v1/auth/not-me", &json!({"token": token}))
        .await;
    assert_eq!(secured.status(), 204);
    assert_eq!(intruder.get("/api/v1/me").await.status, 401);
    assert_eq!(first.get("/api/v1/me").await.status, 401);
    assert_eq!(
        first.login(OWNER_EMAIL, OWNER_PASSWORD).await.status,
        401,
        "a reset is required"
    );
    assert_eq!(
        server
            .post_json("/api/v1/auth/not-me", &json!({"token": token}))
            .await
            .status(),
        404
    );

    let reset = link_token(&server, "/reset/")
        .await
        .expect("a reset link was sent right away");
    let code = server.latest_code("sms", OWNER_PHONE).await;
    assert_eq!(confirm(&server, &reset, &code, NEW_PASSWORD).await, 204);
    assert_eq!(first.login(OWNER_EMAIL, NEW_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn the_forgotten_password_page_sends_the_link_and_says_the_same_for_anyone() {
    let (server, _owner) = owner().await;
    let visitor = Browser::new(&server, FIREFOX);
    let login = visitor.get("/login").await;
    assert!(login.body.as_str().unwrap().contains("href=\"/reset\""));
    assert_eq!(visitor.get("/reset").await.status, 200);
    let unknown = visitor
        .post_form("/reset", &[("email", "niemand@praxis.example")])
        .await;
    let known = visitor.post_form("/reset", &[("email", OWNER_EMAIL)]).await;
    assert_eq!((unknown.status, known.status), (200, 200));
    assert_eq!(unknown.body, known.body);
    let token = link_token(&server, "/reset/").await.expect("a reset link");
    assert_eq!(visitor.get(&format!("/reset/{token}")).await.status, 200);
}
