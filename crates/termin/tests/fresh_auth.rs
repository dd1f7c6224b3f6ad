//! Session rules of S6 beyond the list: sensitive actions need a password entered within
//! ten minutes (and confirming it gives the session new tokens), and a practice sets how
//! long its members' sessions live, within bounds. The clock is moved, never slept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use serde_json::json;
use termin_testkit::{Browser, FIREFOX, OWNER_PASSWORD, TestServer};

async fn owner() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let browser = server.signed_in_owner(FIREFOX).await;
    (server, browser)
}

fn minutes(server: &TestServer, m: i64) {
    server.clock.advance(SignedDuration::from_mins(m));
}

const SETTINGS: &str = "/api/v1/settings/security";

fn settings(idle: i64, hours: i64) -> serde_json::Value {
    json!({
        "password_policy": "composition",
        "strong_factor_roles": [],
        "session_idle_minutes": idle,
        "session_max_hours": hours,
    })
}

#[tokio::test]
async fn sensitive_actions_need_the_password_within_ten_minutes() {
    let (server, owner) = owner().await;
    server.clock.advance(SignedDuration::from_secs(9 * 60 + 59));
    assert_eq!(owner.put(SETTINGS, &settings(30, 12)).await.status, 200);
    server.clock.advance(SignedDuration::from_secs(1));

    let invite =
        json!({"email": "neu@praxis.example", "phone": "+4915112340003", "role": "assistant"});
    for answer in [
        owner.put(SETTINGS, &settings(30, 12)).await,
        owner.post("/api/v1/me/totp", &json!({})).await,
        owner
            .post("/api/v1/me/passkeys/challenge", &json!({}))
            .await,
        owner.post("/api/v1/invitations", &invite).await,
    ] {
        assert_eq!(answer.status, 403, "{:?}", answer.body);
        assert_eq!(answer.body["error"], "reauthentication_required");
    }
    // Reading is not sensitive.
    assert_eq!(owner.get(SETTINGS).await.status, 200);

    let wrong = owner
        .post(
            "/api/v1/auth/reauthenticate",
            &json!({"password": "nicht-es"}),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body["fields"]["password"].is_array());

    let old_cookie = owner.cookie("__Host-termin_session").unwrap();
    let confirmed = owner
        .post(
            "/api/v1/auth/reauthenticate",
            &json!({"password": OWNER_PASSWORD}),
        )
        .await;
    assert_eq!(confirmed.status, 200);
    assert_eq!(confirmed.body["status"], "authenticated");
    assert_ne!(
        owner.cookie("__Host-termin_session").unwrap(),
        old_cookie,
        "new tokens after a privilege change"
    );
    let replay = Browser::new(&server, FIREFOX);
    replay.set_cookie("__Host-termin_session", &old_cookie);
    assert_eq!(replay.get("/api/v1/me").await.status, 401);

    assert_eq!(owner.put(SETTINGS, &settings(30, 12)).await.status, 200);
    assert_eq!(owner.post("/api/v1/invitations", &invite).await.status, 201);
    minutes(&server, 10);
    assert_eq!(owner.put(SETTINGS, &settings(30, 12)).await.status, 403);
}

/// Opens the security settings page (looking needs no confirmation) and saves the
/// length-only rule with it.
async fn save_settings_page(owner: &Browser) -> termin_testkit::Answer {
    let page = owner.get("/practices/praxis-am-see/security").await;
    assert_eq!(page.status, 200);
    let csrf = page.form_csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("password_policy", "length_only"),
        ("session_idle_minutes", "30"),
        ("session_max_hours", "12"),
    ];
    owner
        .post_form("/practices/praxis-am-see/security", &fields)
        .await
}

#[tokio::test]
async fn a_page_asks_for_the_password_and_returns_to_the_page() {
    let (server, owner) = owner().await;
    minutes(&server, 11);
    let asked = save_settings_page(&owner).await;
    assert_eq!(asked.status, 303);
    assert_eq!(
        asked.headers["location"],
        "/reauth?next=/practices/praxis-am-see/security"
    );
    let form = owner
        .get("/reauth?next=/practices/praxis-am-see/security")
        .await;
    assert_eq!(form.status, 200);
    let csrf = form.form_csrf();
    let next = "/practices/praxis-am-see/security";
    let wrong = owner
        .post_form(
            "/reauth",
            &[("csrf", &csrf), ("password", "nicht-es"), ("next", next)],
        )
        .await;
    assert_eq!(wrong.status, 422);
    let back = owner
        .post_form(
            "/reauth",
            &[
                ("csrf", &csrf),
                ("password", OWNER_PASSWORD),
                ("next", next),
            ],
        )
        .await;
    assert_eq!(back.status, 303);
    assert_eq!(back.headers["location"], next);
    let saved = save_settings_page(&owner).await;
    assert_eq!(saved.status, 200);
    assert_eq!(
        owner.get(SETTINGS).await.body["password_policy"],
        "length_only"
    );
}

#[tokio::test]
async fn the_reauthentication_page_follows_only_local_paths() {
    let (_server, owner) = owner().await;
    let form = owner.get("/reauth?next=//evil.example/").await;
    let csrf = form.form_csrf();
    let back = owner
        .post_form(
            "/reauth",
            &[
                ("csrf", &csrf),
                ("password", OWNER_PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(back.headers["location"], "/app");
}

#[tokio::test]
async fn a_practice_shortens_its_members_sessions() {
    let (server, owner) = owner().await;
    let bad = owner.put(SETTINGS, &settings(4, 25)).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body["fields"]["session_idle_minutes"].is_array());
    assert!(bad.body["fields"]["session_max_hours"].is_array());
    assert_eq!(owner.put(SETTINGS, &settings(10, 2)).await.status, 200);

    minutes(&server, 9);
    assert_eq!(owner.get("/api/v1/me").await.status, 200);
    minutes(&server, 10);
    assert_eq!(
        owner.get("/api/v1/me").await.status,
        401,
        "ten idle minutes end it"
    );

    // However active, two hours end it.
    let active = server.signed_in_owner(FIREFOX).await;
    for _ in 0..13 {
        minutes(&server, 9);
        assert_eq!(active.get("/api/v1/me").await.status, 200);
    }
    minutes(&server, 2);
    assert_eq!(active.get("/api/v1/me").await.status, 200, "1 h 59 min");
    minutes(&server, 1);
    assert_eq!(active.get("/api/v1/me").await.status, 401, "2 h");
}

#[tokio::test]
async fn by_default_an_active_session_ends_after_twelve_hours() {
    let (server, owner) = owner().await;
    for _ in 0..24 {
        minutes(&server, 29);
        assert_eq!(owner.get("/api/v1/me").await.status, 200);
    }
    // 11 h 36 min so far.
    minutes(&server, 23);
    assert_eq!(owner.get("/api/v1/me").await.status, 200, "11 h 59 min");
    minutes(&server, 1);
    assert_eq!(owner.get("/api/v1/me").await.status, 401, "12 h");
}

#[tokio::test]
async fn the_ten_minutes_run_from_the_password_not_from_the_second_step() {
    let (server, _owner) = owner().await;
    let browser = Browser::new(&server, termin_testkit::CHROME);
    assert_eq!(
        browser
            .login(termin_testkit::OWNER_EMAIL, OWNER_PASSWORD)
            .await
            .status,
        200
    );
    minutes(&server, 9);
    let code = server.latest_code("sms", termin_testkit::OWNER_PHONE).await;
    assert_eq!(
        browser.verify("sms", &code).await.body["status"],
        "authenticated"
    );
    minutes(&server, 1);
    let late = browser.put(SETTINGS, &settings(30, 12)).await;
    assert_eq!(late.body["error"], "reauthentication_required");
}
