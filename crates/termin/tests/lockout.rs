//! Blocking account theft (S8): per-account delays and locks with their exact thresholds,
//! the permanent lock and its two ways out, per-IP and per-network blocks (credential
//! stuffing included), no user enumeration (status, body and time), concurrency, and the
//! administrators' view. The clock is moved, never slept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::net::IpAddr;

use jiff::SignedDuration;
use serde_json::{Value, json};
use termin::config::RawConfig;
use termin_domain::Clock;
use termin_domain::guard::LoginSubject;
use termin_testkit::guards::no_source_blocks;
use termin_testkit::{
    Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestDb, TestServer,
};

const WRONG: &str = "Falsch-Geraten-1!";
const ADMIN: (&str, &str, &str) = ("lena@praxis.example", "+4915112340001", "administrator");
const ADMIN_PASSWORD: &str = "Regen&Schirm2026";

/// A practice with its owner signed in, on SQLite unless a database is given.
async fn practice_on(db: Option<TestDb>, configure: fn(&mut RawConfig)) -> (TestServer, Browser) {
    let mut builder = TestServer::builder().configure(configure);
    if let Some(db) = db {
        builder = builder.db(db);
    }
    let server = builder.start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    (server, owner)
}

async fn login_status(browser: &Browser, email: &str, password: &str) -> u16 {
    browser.login(email, password).await.status
}

fn advance(server: &TestServer, secs: i64) {
    server.clock.advance(SignedDuration::from_secs(secs));
}

async fn failures_of(server: &TestServer, email: &str) -> u32 {
    server
        .services
        .store
        .guard_of(&LoginSubject::for_email(email))
        .await
        .unwrap()
        .unwrap_or_default()
        .failures
}

fn mails_to<'a>(mails: &'a [Value], to: &str, subject_part: &str) -> Vec<&'a Value> {
    mails
        .iter()
        .filter(|m| m["to"] == to && m["subject"].as_str().unwrap().contains(subject_part))
        .collect()
}

#[tokio::test]
async fn delays_from_the_fifth_failure_a_lock_at_the_tenth_and_a_reset_on_success() {
    let (server, _owner) = practice_on(None, no_source_blocks).await;
    let attacker = Browser::new(&server, CHROME);
    for n in 1..=5 {
        assert_eq!(
            login_status(&attacker, OWNER_EMAIL, WRONG).await,
            401,
            "failure {n}"
        );
    }
    // From the fifth failure on, each attempt waits: 1 s now. Even the right password is
    // refused unchecked inside the delay, and accepted after it.
    let owner_again = Browser::new(&server, FIREFOX);
    assert_eq!(
        login_status(&owner_again, OWNER_EMAIL, OWNER_PASSWORD).await,
        401
    );
    advance(&server, 1);
    assert_eq!(
        login_status(&owner_again, OWNER_EMAIL, OWNER_PASSWORD).await,
        200
    );
    assert_eq!(
        failures_of(&server, OWNER_EMAIL).await,
        5,
        "a right password before the second step neither counts nor resets"
    );

    for n in 6..=9 {
        advance(&server, 10);
        assert_eq!(
            login_status(&attacker, OWNER_EMAIL, WRONG).await,
            401,
            "failure {n}"
        );
    }
    // The failure before the lock: nine failures, the account still opens.
    advance(&server, 10);
    assert_eq!(
        login_status(&owner_again, OWNER_EMAIL, OWNER_PASSWORD).await,
        200
    );
    assert!(mails_to(&server.outbox("email").await, OWNER_EMAIL, "gesperrt").is_empty());

    // The tenth locks for fifteen minutes, and the owner is told.
    advance(&server, 10);
    let locked_at = server.clock.now();
    assert_eq!(login_status(&attacker, OWNER_EMAIL, WRONG).await, 401);
    let mails = server.outbox("email").await;
    let notice = mails_to(&mails, OWNER_EMAIL, "gesperrt");
    assert_eq!(notice.len(), 1);
    let body = notice[0]["body"].as_str().unwrap();
    assert!(body.contains("10") && body.contains("15 minutes"), "{body}");
    assert!(!body.contains(OWNER_PASSWORD) && !body.contains(WRONG));

    advance(&server, 15 * 60 - 1);
    assert_eq!(
        login_status(&owner_again, OWNER_EMAIL, OWNER_PASSWORD).await,
        401,
        "still locked one second before the end"
    );
    assert_eq!(
        server.clock.now().duration_since(locked_at),
        SignedDuration::from_secs(15 * 60 - 1)
    );
    advance(&server, 1);
    server
        .sign_in(&owner_again, OWNER_EMAIL, OWNER_PHONE, OWNER_PASSWORD)
        .await;
    assert_eq!(
        failures_of(&server, OWNER_EMAIL).await,
        0,
        "a completed login resets the count"
    );
    // After the reset the next failure causes no delay.
    assert_eq!(login_status(&attacker, OWNER_EMAIL, WRONG).await, 401);
    assert_eq!(
        login_status(&Browser::new(&server, FIREFOX), OWNER_EMAIL, OWNER_PASSWORD).await,
        200
    );
}

#[tokio::test]
async fn each_further_lock_lasts_twice_as_long() {
    let (server, _owner) = practice_on(None, no_source_blocks).await;
    let attacker = Browser::new(&server, CHROME);
    for _ in 1..=10 {
        advance(&server, 10);
        assert_eq!(login_status(&attacker, OWNER_EMAIL, WRONG).await, 401);
    }
    advance(&server, 15 * 60);
    for _ in 11..=20 {
        advance(&server, 10);
        assert_eq!(login_status(&attacker, OWNER_EMAIL, WRONG).await, 401);
    }
    let owner = Browser::new(&server, FIREFOX);
    advance(&server, 30 * 60 - 1);
    assert_eq!(login_status(&owner, OWNER_EMAIL, OWNER_PASSWORD).await, 401);
    advance(&server, 1);
    assert_eq!(login_status(&owner, OWNER_EMAIL, OWNER_PASSWORD).await, 200);
    let mails = server.outbox("email").await;
    let notices = mails_to(&mails, OWNER_EMAIL, "gesperrt");
    assert_eq!(notices.len(), 2);
    assert!(notices[1]["body"].as_str().unwrap().contains("30 minutes"));
}

/// Moves the clock just past the delay or lock that `failures` failures in a row impose.
fn wait_out(server: &TestServer, failures: u32) {
    let policy = termin_domain::guard::AccountPolicy::default();
    let wait = policy
        .lock_for(failures)
        .unwrap_or_default()
        .max(policy.delay(failures));
    server.clock.advance(wait);
}

/// `count` more wrong passwords for `email`, each one checked (the clock waits out every
/// delay and lock first); the address had no failures before or exactly those counted here.
async fn checked_failures(server: &TestServer, browser: &Browser, email: &str, count: u32) {
    for _ in 0..count {
        wait_out(server, failures_of(server, email).await);
        assert_eq!(login_status(browser, email, WRONG).await, 401);
    }
}

async fn hammer(browser: &Browser, email: &str, times: usize) {
    for _ in 0..times {
        assert_eq!(login_status(browser, email, WRONG).await, 401);
    }
}

async fn me_slug(browser: &Browser) -> String {
    browser.get("/api/v1/me").await.body["organizations"][0]["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn user_id_of(server: &TestServer, email: &str) -> String {
    server
        .services
        .store
        .find_user_by_email(&termin_domain::user::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn a_hundred_failures_in_a_day_lock_until_an_administrator_unlocks() {
    let (server, owner) = practice_on(None, no_source_blocks).await;
    server.join_practice(&owner, ADMIN, ADMIN_PASSWORD).await;
    let attacker = Browser::new(&server, CHROME);
    // Refused attempts cost nothing and do not bring the permanent lock nearer.
    hammer(&attacker, ADMIN.0, 150).await;
    assert_eq!(failures_of(&server, ADMIN.0).await, 5);
    checked_failures(&server, &attacker, ADMIN.0, 94).await;
    let admin = Browser::new(&server, CHROME);
    wait_out(&server, 99);
    assert_eq!(
        login_status(&admin, ADMIN.0, ADMIN_PASSWORD).await,
        200,
        "ninety-nine failures do not lock for good"
    );
    checked_failures(&server, &attacker, ADMIN.0, 1).await;
    let mails = server.outbox("email").await;
    let permanent = mails_to(&mails, ADMIN.0, "gesperrt")
        .into_iter()
        .filter(|m| {
            m["body"]
                .as_str()
                .unwrap()
                .contains("until you reset your password")
        })
        .count();
    assert_eq!(permanent, 1, "one notice for the permanent lock");
    advance(&server, 25 * 3600);
    assert_eq!(
        login_status(&admin, ADMIN.0, ADMIN_PASSWORD).await,
        401,
        "a day later still locked"
    );

    let admin_id = user_id_of(&server, ADMIN.0).await;
    // The owner's session has long timed out: they sign in again.
    let owner = server.signed_in_owner(FIREFOX).await;
    let view = owner.get("/api/v1/security/lockouts").await;
    assert_eq!(view.status, 200);
    let locked = view.body["locked_accounts"].as_array().unwrap();
    assert_eq!(locked.len(), 1);
    assert_eq!(locked[0]["user_id"], admin_id.as_str());
    assert_eq!(locked[0]["permanent"], true);
    assert_eq!(locked[0]["locked_until"], Value::Null);
    let failures = view.body["recent_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 100, "the latest hundred");
    assert!(failures.iter().all(|f| f["email"] == ADMIN.0));

    // Another practice's owner sees nothing of it and cannot unlock it.
    let stranger = server.other_practice_owner().await;
    let theirs = stranger.get("/api/v1/security/lockouts").await;
    assert_eq!(theirs.body["locked_accounts"], json!([]));
    assert_eq!(theirs.body["recent_failures"], json!([]));
    let path = format!("/api/v1/security/lockouts/{admin_id}/unlock");
    assert_eq!(stranger.post(&path, &json!({})).await.status, 404);
    assert_eq!(login_status(&admin, ADMIN.0, ADMIN_PASSWORD).await, 401);

    assert_eq!(owner.post(&path, &json!({})).await.status, 204);
    assert_eq!(login_status(&admin, ADMIN.0, ADMIN_PASSWORD).await, 200);
    let events = server
        .db()
        .raw_strings(
            "SELECT kind FROM security_events WHERE kind NOT LIKE 'login_%' \
             AND kind NOT LIKE 'second_factor_%' ORDER BY at, kind",
        )
        .await;
    let events: Vec<_> = events.into_iter().flatten().collect();
    // Ten temporary locks on the way (every tenth failure), then the permanent one.
    let temporary = events.iter().filter(|e| *e == "account_locked").count();
    assert_eq!(temporary, 10, "{events:?}");
    assert_eq!(
        events[events.len() - 2..],
        ["account_locked_permanently", "account_unlocked"],
        "{events:?}"
    );
}

#[tokio::test]
async fn a_password_reset_lifts_a_permanent_lock() {
    let (server, _owner) = practice_on(None, no_source_blocks).await;
    let attacker = Browser::new(&server, CHROME);
    checked_failures(&server, &attacker, OWNER_EMAIL, 100).await;
    let owner = Browser::new(&server, FIREFOX);
    advance(&server, 25 * 3600);
    assert_eq!(login_status(&owner, OWNER_EMAIL, OWNER_PASSWORD).await, 401);

    let requested = server
        .post_json(
            "/api/v1/auth/password-reset",
            &json!({"email": OWNER_EMAIL}),
        )
        .await;
    assert_eq!(requested.status(), 202);
    let mails = server.outbox("email").await;
    let mail = mails_to(&mails, OWNER_EMAIL, "zurücksetzen")[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = mail.find("/reset/").unwrap() + "/reset/".len();
    let token = &mail[start..start + 64];
    let code = server.latest_code("sms", OWNER_PHONE).await;
    let new_password = "Neues&Passwort2026";
    let confirmed = server
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": token, "method": "sms", "code": code, "new_password": new_password}),
        )
        .await;
    assert_eq!(confirmed.status(), 204);
    assert_eq!(login_status(&owner, OWNER_EMAIL, new_password).await, 200);
}

async fn fifty_concurrent_wrong_passwords_are_checked_five_times(db: Option<TestDb>) {
    let (server, _owner) = practice_on(db, no_source_blocks).await;
    let attacker = std::sync::Arc::new(Browser::new(&server, CHROME));
    let tries: Vec<_> = (0..50)
        .map(|_| {
            let attacker = attacker.clone();
            tokio::spawn(async move { login_status(&attacker, OWNER_EMAIL, WRONG).await })
        })
        .collect();
    for try_ in tries {
        assert_eq!(try_.await.unwrap(), 401);
    }
    assert_eq!(failures_of(&server, OWNER_EMAIL).await, 5);
    let rows = server
        .db()
        .raw_strings("SELECT kind FROM auth_failures ORDER BY kind")
        .await;
    let checked = rows
        .iter()
        .filter(|k| k.as_deref() == Some("password"))
        .count();
    let refused = rows
        .iter()
        .filter(|k| k.as_deref() == Some("refused"))
        .count();
    assert_eq!((checked, refused), (5, 45));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_passwords_are_checked_five_times_on_sqlite() {
    fifty_concurrent_wrong_passwords_are_checked_five_times(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_wrong_passwords_are_checked_five_times_on_postgres() {
    if let Some(db) = TestDb::postgres_if_configured().await {
        fifty_concurrent_wrong_passwords_are_checked_five_times(Some(db)).await;
    }
}

#[tokio::test]
async fn wrong_second_factors_count_against_the_account() {
    let (server, _owner) = practice_on(None, no_source_blocks).await;
    let first = Browser::new(&server, CHROME);
    assert_eq!(login_status(&first, OWNER_EMAIL, OWNER_PASSWORD).await, 200);
    for _ in 0..4 {
        assert_eq!(first.verify("sms", "000000").await.status, 422);
    }
    assert_eq!(failures_of(&server, OWNER_EMAIL).await, 4);
    let second = Browser::new(&server, CHROME);
    assert_eq!(
        login_status(&second, OWNER_EMAIL, OWNER_PASSWORD).await,
        200
    );
    assert_eq!(second.verify("sms", "000000").await.status, 422);
    let code = server.latest_code("sms", OWNER_PHONE).await;
    // Five failures: the right code waits out the delay too.
    assert_eq!(second.verify("sms", &code).await.status, 422);
    advance(&server, 1);
    let done = second.verify("sms", &code).await;
    assert_eq!(done.body["status"], "authenticated", "{:?}", done.body);
    assert_eq!(failures_of(&server, OWNER_EMAIL).await, 0);
}

#[tokio::test]
async fn unknown_addresses_wrong_passwords_and_locked_accounts_answer_alike() {
    let (server, _owner) = practice_on(None, no_source_blocks).await;
    let client = Browser::new(&server, CHROME);
    let unknown = client.login("niemand@praxis.example", WRONG).await;
    let wrong = client.login(OWNER_EMAIL, WRONG).await;
    for _ in 0..9 {
        advance(&server, 10);
        hammer(&client, OWNER_EMAIL, 1).await;
    }
    advance(&server, 10);
    let locked = client.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    for answer in [&unknown, &wrong, &locked] {
        assert_eq!(answer.status, 401);
        assert_eq!(answer.body, unknown.body);
        assert!(answer.headers.get("retry-after").is_none());
    }
    assert_eq!(unknown.body["error"], "invalid_credentials");
    // The unknown address is delayed and locked exactly like an account.
    hammer(&client, "niemand@praxis.example", 20).await;
    assert_eq!(failures_of(&server, "niemand@praxis.example").await, 5);
}

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

#[tokio::test]
async fn an_address_with_too_many_failures_is_blocked_for_a_growing_time() {
    let (server, _owner) = practice_on(None, |raw| {
        no_source_blocks(raw);
        raw.lockout.max_failures_per_ip = 5;
    })
    .await;
    let attacker = Browser::new(&server, CHROME);
    hammer(&attacker, "a@praxis.example", 5).await;
    let blocked = attacker.login("a@praxis.example", WRONG).await;
    assert_eq!(blocked.status, 429);
    assert_eq!(blocked.body["error"], "throttled");
    assert_eq!(blocked.headers["retry-after"], "900");
    // Blocked even with the right password of a real account; other addresses are not.
    assert_eq!(
        login_status(&attacker, OWNER_EMAIL, OWNER_PASSWORD).await,
        429
    );
    let neighbour = Browser::from_address(&server, FIREFOX, ip("127.0.0.2"));
    assert_eq!(
        login_status(&neighbour, OWNER_EMAIL, OWNER_PASSWORD).await,
        200
    );

    advance(&server, 15 * 60 - 1);
    assert_eq!(
        login_status(&attacker, "a@praxis.example", WRONG).await,
        429
    );
    advance(&server, 1);
    assert_eq!(
        login_status(&attacker, "a@praxis.example", WRONG).await,
        401
    );
    hammer(&attacker, "a@praxis.example", 4).await;
    let again = attacker.login("a@praxis.example", WRONG).await;
    assert_eq!(
        again.headers["retry-after"], "1800",
        "the second block doubles"
    );
}

#[tokio::test]
async fn failures_across_many_accounts_block_the_address() {
    let (server, _owner) = practice_on(None, |raw| {
        no_source_blocks(raw);
        raw.lockout.max_accounts_per_ip = 3;
    })
    .await;
    let stuffer = Browser::new(&server, CHROME);
    for who in ["a", "b", "c"] {
        assert_eq!(
            login_status(&stuffer, &format!("{who}@praxis.example"), WRONG).await,
            401
        );
    }
    assert_eq!(login_status(&stuffer, "d@praxis.example", WRONG).await, 429);
    let reasons = server
        .db()
        .raw_strings("SELECT reason FROM source_blocks")
        .await;
    assert_eq!(reasons, [Some("credential_stuffing".to_owned())]);
}

#[tokio::test]
async fn a_network_is_blocked_and_an_administrator_can_unblock_it() {
    let (server, owner) = practice_on(None, |raw| {
        no_source_blocks(raw);
        raw.lockout.max_failures_per_network = 4;
    })
    .await;
    // Every test client is in 127.0.0.0/24: the other practice signs in before the block.
    let stranger = server.other_practice_owner().await;
    for address in ["127.0.0.2", "127.0.0.3"] {
        let attacker = Browser::from_address(&server, CHROME, ip(address));
        hammer(&attacker, OWNER_EMAIL, 2).await;
    }
    let elsewhere = Browser::from_address(&server, CHROME, ip("127.0.0.4"));
    assert_eq!(login_status(&elsewhere, OWNER_EMAIL, WRONG).await, 429);
    // Signed-in staff keep working: only sign-in attempts are refused.
    assert_eq!(owner.get("/api/v1/me").await.status, 200);

    let view = owner.get("/api/v1/security/lockouts").await;
    let blocked = view.body["blocked_sources"].as_array().unwrap();
    assert_eq!(blocked.len(), 1, "{:?}", view.body);
    assert_eq!(blocked[0]["source"], "127.0.0.0/24");
    assert_eq!(blocked[0]["kind"], "network");

    let unblock = |source: &str| json!({ "source": source });
    let path = "/api/v1/security/blocked-sources/unblock";
    assert_eq!(
        stranger.post(path, &unblock("127.0.0.0/24")).await.status,
        404
    );
    assert_eq!(owner.post(path, &unblock("10.9.9.0/24")).await.status, 404);
    advance(&server, 60);
    assert_eq!(owner.post(path, &unblock("127.0.0.0/24")).await.status, 204);
    advance(&server, 10);
    assert_eq!(login_status(&elsewhere, OWNER_EMAIL, WRONG).await, 401);
    let events: Vec<_> = server
        .db()
        .raw_strings(
            "SELECT kind FROM security_events WHERE kind NOT LIKE 'login_%' \
             AND kind NOT LIKE 'second_factor_%' ORDER BY at, kind",
        )
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(events, ["source_blocked", "source_unblocked"]);
}

#[tokio::test]
async fn a_source_that_also_tried_other_accounts_is_the_operators_to_unblock() {
    let (server, owner) = practice_on(None, |raw| {
        no_source_blocks(raw);
        raw.lockout.max_failures_per_ip = 3;
    })
    .await;
    let attacker = Browser::from_address(&server, CHROME, ip("127.0.0.7"));
    hammer(&attacker, OWNER_EMAIL, 2).await;
    hammer(&attacker, "fremd@andere-praxis.example", 1).await;
    assert_eq!(login_status(&attacker, OWNER_EMAIL, WRONG).await, 429);
    let view = owner.get("/api/v1/security/lockouts").await;
    let blocked = view.body["blocked_sources"].as_array().unwrap();
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["source"], "127.0.0.7");
    assert_eq!(blocked[0]["can_unblock"], false);
    let lifted = owner
        .post(
            "/api/v1/security/blocked-sources/unblock",
            &json!({"source": "127.0.0.7"}),
        )
        .await;
    assert_eq!(lifted.status, 403);
    assert_eq!(login_status(&attacker, OWNER_EMAIL, WRONG).await, 429);
}

#[tokio::test]
async fn administrators_end_every_session_of_a_member_of_their_practice_only() {
    let (server, owner) = practice_on(None, no_source_blocks).await;
    let admin = server.join_practice(&owner, ADMIN, ADMIN_PASSWORD).await;
    let admin_id = user_id_of(&server, ADMIN.0).await;
    let owner_id = user_id_of(&server, OWNER_EMAIL).await;
    let end = |id: &str| format!("/api/v1/users/{id}/sessions/end-all");

    // An administrator cannot act on an owner; another practice cannot act at all.
    assert_eq!(admin.post(&end(&owner_id), &json!({})).await.status, 403);
    let stranger = server.other_practice_owner().await;
    assert_eq!(stranger.post(&end(&admin_id), &json!({})).await.status, 404);
    assert_eq!(admin.get("/api/v1/me").await.status, 200);

    let ended = owner.post(&end(&admin_id), &json!({})).await;
    assert_eq!(ended.status, 200);
    assert_eq!(ended.body["ended"], 1);
    assert_eq!(admin.get("/api/v1/me").await.status, 401);
    assert_eq!(owner.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn the_protection_page_lists_and_acts_for_administrators_only() {
    let (server, owner) = practice_on(None, no_source_blocks).await;
    let admin = server.join_practice(&owner, ADMIN, ADMIN_PASSWORD).await;
    let slug = me_slug(&owner).await;
    let attacker = Browser::new(&server, CHROME);
    for _ in 0..10 {
        advance(&server, 10);
        hammer(&attacker, ADMIN.0, 1).await;
    }
    let page = owner.get(&format!("/practices/{slug}/protection")).await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains(ADMIN.0) && html.contains("protection/unlock"));

    let admin_id = user_id_of(&server, ADMIN.0).await;
    let csrf = page.form_csrf();
    let done = owner
        .post_form(
            &format!("/practices/{slug}/protection/unlock"),
            &[("csrf", &csrf), ("user_id", &admin_id)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(failures_of(&server, ADMIN.0).await, 0);
    // Without the form's token nothing happens.
    let forged = owner
        .post_form(
            &format!("/practices/{slug}/protection/end-sessions"),
            &[("csrf", "forged"), ("user_id", &admin_id)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(admin.get("/api/v1/me").await.status, 200);
    let done = owner
        .post_form(
            &format!("/practices/{slug}/protection/end-sessions"),
            &[("csrf", &csrf), ("user_id", &admin_id)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(admin.get("/api/v1/me").await.status, 401);

    // An assistant is not shown the page.
    let assistant = server
        .join_practice(
            &owner,
            ("mia@praxis.example", "+4915112340002", "assistant"),
            "Kaffee&Kuchen2026",
        )
        .await;
    assert_eq!(
        assistant
            .get(&format!("/practices/{slug}/protection"))
            .await
            .status,
        403
    );
}
