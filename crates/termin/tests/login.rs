//! Logging in (S3, S4): account verification by e-mail and SMS code, an SMS code on every
//! new device, trusted devices, code limits, CSRF, logout. Codes come from the outbox.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use serde_json::json;
use termin_domain::user::{Email, UserStatus};
use termin_testkit::{
    Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer,
};

async fn practice() -> TestServer {
    let server = TestServer::start().await;
    server.with_practice().await;
    server
}

/// Logs the owner in on `browser` and completes the account's verification.
async fn verified_owner(server: &TestServer, browser: &Browser) {
    assert_eq!(browser.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    assert_eq!(browser.verify("email", &email_code).await.status, 200);
    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    let done = browser.verify("sms", &sms_code).await;
    assert_eq!(done.body["status"], "authenticated", "{:?}", done.body);
}

#[tokio::test]
async fn a_new_owner_verifies_email_and_phone_then_is_active() {
    let server = practice().await;
    let browser = Browser::new(&server, FIREFOX);
    let login = browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["status"], "verification_required");
    assert_eq!(login.body["pending"], json!(["email", "phone"]));
    assert_eq!(login.body["methods"], json!(["email", "sms"]));
    assert_eq!(
        browser.get("/api/v1/me").await.status,
        401,
        "not signed in yet"
    );

    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    let step = browser.verify("email", &email_code).await;
    assert_eq!(step.status, 200);
    assert_eq!(step.body["status"], "verification_required");
    assert_eq!(step.body["pending"], json!(["phone"]));

    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    let done = browser.verify("sms", &sms_code).await;
    assert_eq!(done.body["status"], "authenticated");
    assert!(
        browser.cookie("__Host-termin_device").is_some(),
        "this device is now trusted"
    );

    let me = browser.get("/api/v1/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], OWNER_EMAIL);
    assert_eq!(me.body["phone"], OWNER_PHONE);
    assert_eq!(me.body["organizations"][0]["slug"], "praxis-am-see");
    assert_eq!(me.body["organizations"][0]["role"], "owner");
    let user = server
        .services
        .store
        .find_user_by_email(&Email::parse(OWNER_EMAIL).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::Active);
}

#[tokio::test]
async fn cookies_are_host_prefixed_http_only_strict() {
    let server = practice().await;
    let browser = Browser::new(&server, FIREFOX);
    let login = browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let cookie = login.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-termin_session="), "{cookie}");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn wrong_password_unknown_email_and_malformed_email_answer_identically() {
    let server = practice().await;
    let browser = Browser::new(&server, FIREFOX);
    let wrong = browser.login(OWNER_EMAIL, "Kx7!vbnq-Falsch").await;
    let unknown = browser
        .login("nobody@praxis-am-see.example", OWNER_PASSWORD)
        .await;
    let malformed = browser.login("not an address", OWNER_PASSWORD).await;
    for answer in [&wrong, &unknown, &malformed] {
        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.body,
            json!({"error": "invalid_credentials", "message": "The e-mail address or the password is wrong."})
        );
        assert!(answer.headers.get("set-cookie").is_none());
    }
    assert!(
        server.outbox("email").await.is_empty(),
        "nothing sent for failed logins"
    );
}

#[tokio::test]
async fn a_second_browser_needs_the_sms_code_and_the_first_does_not() {
    let server = practice().await;
    let first = Browser::new(&server, FIREFOX);
    verified_owner(&server, &first).await;

    let second = Browser::new(&server, CHROME);
    let login = second.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(login.body["status"], "second_factor_required");
    assert_eq!(login.body["methods"], json!(["sms"]));
    assert_eq!(second.get("/api/v1/me").await.status, 401);
    let code = server.latest_code("sms", OWNER_PHONE).await;
    assert_eq!(
        second.verify("sms", &code).await.body["status"],
        "authenticated"
    );
    assert_eq!(second.get("/api/v1/me").await.status, 200);

    // The first browser is trusted: password alone completes its next login.
    let again = first.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(again.body["status"], "authenticated");
    assert_eq!(again.body["methods"], json!([]));
}

#[tokio::test]
async fn a_device_cookie_of_another_user_or_a_forged_one_does_not_count() {
    let server = practice().await;
    let first = Browser::new(&server, FIREFOX);
    verified_owner(&server, &first).await;
    let forged = Browser::new(&server, FIREFOX);
    forged.set_cookie("__Host-termin_device", &"ab".repeat(32));
    assert_eq!(
        forged.login(OWNER_EMAIL, OWNER_PASSWORD).await.body["status"],
        "second_factor_required"
    );
}

async fn new_device_login(server: &TestServer) -> Browser {
    let browser = Browser::new(server, CHROME);
    let login = browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(
        login.body["status"], "second_factor_required",
        "{:?}",
        login.body
    );
    browser
}

/// The same on PostgreSQL, when a server is configured.
async fn active_owner_server_on_postgres() -> Option<TestServer> {
    let db = termin_testkit::TestDb::postgres_if_configured().await?;
    let server = TestServer::builder().db(db).start().await;
    server.with_practice().await;
    verified_owner(&server, &Browser::new(&server, FIREFOX)).await;
    Some(server)
}

async fn active_owner_server() -> TestServer {
    let server = practice().await;
    verified_owner(&server, &Browser::new(&server, FIREFOX)).await;
    server
}

#[tokio::test]
async fn a_code_is_valid_for_ten_minutes_inclusive() {
    let server = active_owner_server().await;
    let on_time = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    server.clock.advance(SignedDuration::from_mins(10));
    assert_eq!(
        on_time.verify("sms", &code).await.body["status"],
        "authenticated"
    );

    let late = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    server
        .clock
        .advance(SignedDuration::from_mins(10) + SignedDuration::from_secs(1));
    let answer = late.verify("sms", &code).await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["error"], "invalid_code");
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn the_fifth_attempt_still_counts_and_the_sixth_is_refused_even_with_the_right_code() {
    let server = active_owner_server().await;
    let browser = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    for _ in 0..4 {
        assert_eq!(
            browser.verify("sms", &wrong(&code)).await.body["error"],
            "invalid_code"
        );
    }
    // Attempt five with the right code works.
    assert_eq!(
        browser.verify("sms", &code).await.body["status"],
        "authenticated"
    );

    let exhausted = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    for _ in 0..5 {
        assert_eq!(
            exhausted.verify("sms", &wrong(&code)).await.body["error"],
            "invalid_code"
        );
    }
    let sixth = exhausted.verify("sms", &code).await;
    assert_eq!(
        (sixth.status, sixth.body["error"].as_str()),
        (422, Some("invalid_code"))
    );
}

#[tokio::test]
async fn a_code_from_one_login_does_not_work_in_another() {
    let server = active_owner_server().await;
    let first = new_device_login(&server).await;
    let first_code = server.latest_code("sms", OWNER_PHONE).await;
    let second = new_device_login(&server).await;
    let second_code = server.latest_code("sms", OWNER_PHONE).await;
    assert_ne!(first_code, second_code);
    assert_eq!(
        second.verify("sms", &first_code).await.body["error"],
        "invalid_code"
    );
    assert_eq!(
        first.verify("sms", &second_code).await.body["error"],
        "invalid_code"
    );
    assert_eq!(
        first.verify("sms", &first_code).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn a_used_code_cannot_be_replayed() {
    let server = practice().await;
    let browser = Browser::new(&server, FIREFOX);
    browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    assert_eq!(
        browser.verify("email", &email_code).await.body["pending"],
        json!(["phone"])
    );
    let replay = browser.verify("email", &email_code).await;
    assert_eq!(
        (replay.status, replay.body["error"].as_str()),
        (422, Some("invalid_code"))
    );
}

#[tokio::test]
async fn the_pending_token_is_worthless_once_the_login_completes() {
    let server = active_owner_server().await;
    let browser = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    let pending_cookie = browser.cookie("__Host-termin_session").unwrap();
    let pending_csrf = browser.csrf().unwrap();
    assert_eq!(
        browser.verify("sms", &code).await.body["status"],
        "authenticated"
    );
    assert_ne!(
        browser.cookie("__Host-termin_session").unwrap(),
        pending_cookie
    );

    let replay = Browser::new(&server, CHROME);
    replay.set_cookie("__Host-termin_session", &pending_cookie);
    replay.set_csrf(&pending_csrf);
    assert_eq!(replay.verify("sms", &code).await.status, 401);
    assert_eq!(replay.get("/api/v1/me").await.status, 401);
}

async fn fifty_concurrent_wrong_codes_are_evaluated_at_most_five_times(server: TestServer) {
    let browser = std::sync::Arc::new(new_device_login(&server).await);
    let code = server.latest_code("sms", OWNER_PHONE).await;
    let bad = wrong(&code);
    let attempts = (0..50).map(|_| {
        let browser = std::sync::Arc::clone(&browser);
        let bad = bad.clone();
        tokio::spawn(async move { browser.verify("sms", &bad).await.status })
    });
    for attempt in attempts.collect::<Vec<_>>() {
        assert_eq!(attempt.await.unwrap(), 422);
    }
    let counted = server
        .db()
        .raw_strings(
            "SELECT CAST(attempts AS TEXT) FROM one_time_codes WHERE purpose = 'new_device'",
        )
        .await;
    assert_eq!(counted.last().cloned().flatten().as_deref(), Some("5"));
    // The account guard let five through and refused the rest unchecked; fifty failures
    // from one address within the hour also blocked the address.
    let after = browser.verify("sms", &code).await;
    assert_eq!(after.status, 429);
    assert_eq!(after.body["error"], "throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_codes_are_evaluated_at_most_five_times_on_sqlite() {
    fifty_concurrent_wrong_codes_are_evaluated_at_most_five_times(active_owner_server().await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_codes_are_evaluated_at_most_five_times_on_postgres() {
    if let Some(server) = active_owner_server_on_postgres().await {
        fifty_concurrent_wrong_codes_are_evaluated_at_most_five_times(server).await;
    }
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token() {
    let server = active_owner_server().await;
    let browser = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    let csrf = browser.csrf().unwrap();
    browser.forget_csrf();
    let without = browser.verify("sms", &code).await;
    assert_eq!(
        (without.status, without.body["error"].as_str()),
        (403, Some("csrf"))
    );
    browser.set_csrf(&"0".repeat(64));
    assert_eq!(
        browser.verify("sms", &code).await.status,
        403,
        "a wrong token"
    );
    // The refused requests did not count as attempts: with the token the code works.
    browser.set_csrf(&csrf);
    assert_eq!(
        browser.verify("sms", &code).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn resending_is_limited_to_one_code_per_thirty_seconds_and_retires_the_old_code() {
    let server = active_owner_server().await;
    let browser = new_device_login(&server).await;
    let first = server.latest_code("sms", OWNER_PHONE).await;
    let early = browser
        .post("/api/v1/auth/resend", &json!({"method": "sms"}))
        .await;
    assert_eq!(early.status, 429);
    assert_eq!(early.headers["retry-after"], "30");
    server.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(
        browser
            .post("/api/v1/auth/resend", &json!({"method": "sms"}))
            .await
            .status,
        204
    );
    let second = server.latest_code("sms", OWNER_PHONE).await;
    if first != second {
        assert_eq!(
            browser.verify("sms", &first).await.body["error"],
            "invalid_code"
        );
    }
    assert_eq!(
        browser.verify("sms", &second).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn at_most_five_codes_an_hour() {
    let server = active_owner_server().await;
    // The verification of the account used none of the new-device budget.
    let browser = new_device_login(&server).await;
    for _ in 0..4 {
        server.clock.advance(SignedDuration::from_secs(30));
        assert_eq!(
            browser
                .post("/api/v1/auth/resend", &json!({"method": "sms"}))
                .await
                .status,
            204
        );
    }
    server.clock.advance(SignedDuration::from_secs(30));
    let sixth = browser
        .post("/api/v1/auth/resend", &json!({"method": "sms"}))
        .await;
    assert_eq!(sixth.status, 429);
}

#[tokio::test]
async fn logins_count_against_the_hourly_code_cap() {
    let server = active_owner_server().await;
    for _ in 0..5 {
        new_device_login(&server).await;
    }
    let sixth = Browser::new(&server, CHROME)
        .login(OWNER_EMAIL, OWNER_PASSWORD)
        .await;
    assert_eq!(
        (sixth.status, sixth.body["error"].as_str()),
        (429, Some("throttled"))
    );
    assert_eq!(sixth.headers["retry-after"], "3600");
    server
        .clock
        .advance(SignedDuration::from_hours(1) + SignedDuration::from_secs(1));
    assert!(
        new_device_login(&server).await.csrf().is_some(),
        "an hour later it works again"
    );
}

async fn twenty_concurrent_resends_send_one_code(server: TestServer) {
    let browser = std::sync::Arc::new(new_device_login(&server).await);
    let sent_before = server.outbox("sms").await.len();
    server.clock.advance(SignedDuration::from_secs(30));
    let attempts = (0..20).map(|_| {
        let browser = std::sync::Arc::clone(&browser);
        tokio::spawn(async move {
            browser
                .post("/api/v1/auth/resend", &json!({"method": "sms"}))
                .await
                .status
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        19,
        "{statuses:?}"
    );
    assert_eq!(server.outbox("sms").await.len(), sent_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_resends_send_one_code_on_sqlite() {
    twenty_concurrent_resends_send_one_code(active_owner_server().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_resends_send_one_code_on_postgres() {
    if let Some(server) = active_owner_server_on_postgres().await {
        twenty_concurrent_resends_send_one_code(server).await;
    }
}

#[tokio::test]
async fn logout_deletes_the_session() {
    let server = active_owner_server().await;
    let device_less = Browser::new(&server, FIREFOX);
    let login = device_less.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(login.body["status"], "second_factor_required");
    let code = server.latest_code("sms", OWNER_PHONE).await;
    device_less.verify("sms", &code).await;
    let cookie = device_less.cookie("__Host-termin_session").unwrap();
    assert_eq!(
        device_less
            .post("/api/v1/auth/logout", &json!({}))
            .await
            .status,
        204
    );
    let stale = Browser::new(&server, FIREFOX);
    stale.set_cookie("__Host-termin_session", &cookie);
    assert_eq!(stale.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let server = active_owner_server().await;
    let browser = new_device_login(&server).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    browser.verify("sms", &code).await;
    server.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(browser.get("/api/v1/me").await.status, 200);
    server.clock.advance(SignedDuration::from_mins(30));
    assert_eq!(browser.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn an_old_password_hash_is_upgraded_at_login() {
    let server = active_owner_server().await;
    let weak = termin_app::PasswordHasher::new(
        termin_app::passwords::HashCost {
            memory_kib: 8192,
            iterations: 1,
            parallelism: 1,
        },
        1,
    );
    let store = &server.services.store;
    let user = store
        .find_user_by_email(&Email::parse(OWNER_EMAIL).unwrap())
        .await
        .unwrap()
        .unwrap();
    let old = weak
        .hash(&termin_domain::password::Password::new(OWNER_PASSWORD))
        .await
        .unwrap();
    store
        .set_password_hash(user.id, &old, termin_testkit::test_epoch())
        .await
        .unwrap();

    let browser = Browser::new(&server, FIREFOX);
    assert_eq!(browser.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    let upgraded = store
        .find_user(user.id)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
}

#[tokio::test]
async fn logging_in_again_ends_the_browsers_previous_session() {
    let server = active_owner_server().await;
    let browser = Browser::new(&server, FIREFOX);
    verified_or_trusted(&server, &browser).await;
    let old = browser.cookie("__Host-termin_session").unwrap();
    assert_eq!(browser.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 200);
    assert_ne!(browser.cookie("__Host-termin_session").unwrap(), old);
    let stale = Browser::new(&server, FIREFOX);
    stale.set_cookie("__Host-termin_session", &old);
    assert_eq!(stale.get("/api/v1/me").await.status, 401);
}

/// Completes a login on `browser` (a new device: the SMS code).
async fn verified_or_trusted(server: &TestServer, browser: &Browser) {
    server
        .sign_in(browser, OWNER_EMAIL, OWNER_PHONE, OWNER_PASSWORD)
        .await;
}
