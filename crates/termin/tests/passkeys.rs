//! Passkeys through the API with a software authenticator: enrolment, list and removal,
//! signing in a new device, and everything that must be refused — a replayed answer, an
//! answer from another origin, a challenge answered twice, too many wrong answers, another
//! user's passkey. The same flow in a real browser is in `browser.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::{Value, json};
use termin_testkit::{
    Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, SoftPasskey, TestServer,
};

async fn signed_in_owner(server: &TestServer) -> Browser {
    server.with_practice().await;
    server.signed_in_owner(FIREFOX).await
}

/// Enrols a software passkey named `name` for the signed-in `browser`; the relying party
/// is the server's host.
async fn enrol(server: &TestServer, browser: &Browser, name: &str) -> (SoftPasskey, String) {
    let options = browser
        .post("/api/v1/me/passkeys/challenge", &json!({}))
        .await;
    assert_eq!(options.body["publicKey"]["rp"]["id"], "localhost");
    SoftPasskey::enrol(server, browser, name).await
}

/// A login on a device Termin does not know yet, waiting for its second factor.
async fn new_device(server: &TestServer) -> (Browser, Value) {
    let browser = Browser::new(server, CHROME);
    let login = browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(login.body["status"], "second_factor_required");
    (browser, login.body)
}

async fn challenge(browser: &Browser) -> Value {
    let options = browser
        .post("/api/v1/auth/passkey/challenge", &json!({}))
        .await;
    assert_eq!(options.status, 200, "{:?}", options.body);
    options.body
}

async fn answer(browser: &Browser, credential: &Value) -> termin_testkit::Answer {
    browser
        .post(
            "/api/v1/auth/verify",
            &json!({"method": "passkey", "credential": credential}),
        )
        .await
}

async fn a_passkey_signs_in_a_new_device(server: TestServer) {
    let owner = signed_in_owner(&server).await;
    let (mut passkey, id) = enrol(&server, &owner, "YubiKey").await;

    let listed = owner.get("/api/v1/me/passkeys").await;
    assert_eq!(listed.body["passkeys"][0]["id"], id.as_str());
    assert_eq!(listed.body["passkeys"][0]["name"], "YubiKey");
    assert_eq!(listed.body["passkeys"][0]["last_used_at"], Value::Null);

    let (browser, login) = new_device(&server).await;
    assert_eq!(login["methods"], json!(["sms", "passkey"]));
    let options = challenge(&browser).await;
    assert_eq!(
        options["publicKey"]["allowCredentials"][0]["id"],
        passkey.id().as_str()
    );
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let done = answer(&browser, &passkey.get(&options)).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["status"], "authenticated");
    assert_eq!(browser.get("/api/v1/me").await.body["email"], OWNER_EMAIL);

    let listed = owner.get("/api/v1/me/passkeys").await;
    assert!(listed.body["passkeys"][0]["last_used_at"].is_string());
}

#[tokio::test]
async fn a_passkey_signs_in_a_new_device_on_sqlite() {
    a_passkey_signs_in_a_new_device(TestServer::start().await).await;
}

#[tokio::test]
async fn a_passkey_signs_in_a_new_device_on_postgres() {
    let Some(server) = TestServer::on_postgres().await else {
        return;
    };
    a_passkey_signs_in_a_new_device(server).await;
}

#[tokio::test]
async fn an_answer_is_accepted_once_and_only_for_its_own_challenge() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let (mut passkey, _) = enrol(&server, &owner, "Laptop").await;

    let (first, _) = new_device(&server).await;
    let options = challenge(&first).await;
    let assertion = passkey.get(&options);
    assert_eq!(
        answer(&first, &assertion).await.body["status"],
        "authenticated"
    );

    // Replayed into another login that asked for its own challenge.
    let (second, _) = new_device(&server).await;
    let fresh = challenge(&second).await;
    let replay = answer(&second, &assertion).await;
    assert_eq!(
        (replay.status, replay.body["error"].as_str()),
        (422, Some("invalid_code"))
    );
    // The challenge that the replay was sent against is used up as well.
    let late = answer(&second, &passkey.get(&fresh)).await;
    assert_eq!(late.body["error"], "invalid_code");
    // A new challenge works.
    let again = challenge(&second).await;
    assert_eq!(
        answer(&second, &passkey.get(&again)).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn an_answer_made_for_another_site_is_refused() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let (mut passkey, _) = enrol(&server, &owner, "Phone").await;
    let (browser, _) = new_device(&server).await;
    let options = challenge(&browser).await;
    let phished = passkey.get_for_origin(&options, "https://termin-login.example");
    let refused = answer(&browser, &phished).await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (422, Some("invalid_code"))
    );
    assert_eq!(browser.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn five_wrong_answers_end_the_login() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let (mut passkey, _) = enrol(&server, &owner, "Phone").await;
    let (browser, _) = new_device(&server).await;
    for attempt in 1..=5 {
        let options = challenge(&browser).await;
        let wrong = passkey.get_for_origin(&options, "https://evil.example");
        assert_eq!(
            answer(&browser, &wrong).await.body["error"],
            "invalid_code",
            "attempt {attempt}"
        );
    }
    // The sixth answer, although right, is one too many: it ends the login. (Waited for
    // past the account's delay, which would refuse it before the login's own count.)
    server.clock.advance(jiff::SignedDuration::from_secs(10));
    let options = challenge(&browser).await;
    let right = answer(&browser, &passkey.get(&options)).await;
    assert_eq!(right.body["error"], "invalid_code");
    let after = browser.verify("sms", "000000").await;
    assert_eq!(
        (after.status, after.body["error"].as_str()),
        (401, Some("not_authenticated"))
    );
}

#[tokio::test]
async fn an_enrolment_challenge_is_answered_once_and_names_are_checked() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let options = owner
        .post("/api/v1/me/passkeys/challenge", &json!({}))
        .await;
    let (_, credential) = SoftPasskey::create(&server.url(""), &options.body);

    let unnamed = owner
        .post(
            "/api/v1/me/passkeys",
            &json!({"name": "  ", "credential": credential}),
        )
        .await;
    assert_eq!(unnamed.status, 422);
    assert!(
        unnamed.body["fields"]["name"].is_array(),
        "{:?}",
        unnamed.body
    );

    let garbage = owner
        .post(
            "/api/v1/me/passkeys",
            &json!({"name": "Key", "credential": {"id": 1}}),
        )
        .await;
    assert_eq!(garbage.status, 422);
    assert!(garbage.body["fields"]["credential"].is_array());

    let created = owner
        .post(
            "/api/v1/me/passkeys",
            &json!({"name": "Key", "credential": credential}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let twice = owner
        .post(
            "/api/v1/me/passkeys",
            &json!({"name": "Key", "credential": credential}),
        )
        .await;
    assert_eq!(twice.status, 422, "{:?}", twice.body);
    assert_eq!(
        owner.get("/api/v1/me/passkeys").await.body["passkeys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in_and_others_cannot_remove_it() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let (mut passkey, id) = enrol(&server, &owner, "Old key").await;

    // A colleague cannot see or remove the owner's passkey.
    let colleague = server
        .join_practice(
            &owner,
            ("mia@praxis.example", "+4915112345679", "assistant"),
            "Kaffee&Kuchen2026",
        )
        .await;
    assert_eq!(
        colleague.get("/api/v1/me/passkeys").await.body["passkeys"],
        json!([])
    );
    assert_eq!(
        colleague
            .delete(&format!("/api/v1/me/passkeys/{id}"))
            .await
            .status,
        404
    );

    assert_eq!(
        owner
            .delete(&format!("/api/v1/me/passkeys/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        owner
            .delete(&format!("/api/v1/me/passkeys/{id}"))
            .await
            .status,
        404
    );
    let (browser, login) = new_device(&server).await;
    assert_eq!(login["methods"], json!(["sms"]));
    let refused = browser
        .post("/api/v1/auth/passkey/challenge", &json!({}))
        .await;
    assert_eq!(refused.status, 422);
    // An answer from the removed key finds no challenge to answer.
    let stale = answer(
        &browser,
        &passkey.get(&json!({"publicKey": {"challenge": "AAAA"}})),
    )
    .await;
    assert_eq!(stale.body["error"], "invalid_code");
}

#[tokio::test]
async fn passkey_endpoints_need_the_right_kind_of_session() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let anonymous = Browser::new(&server, FIREFOX);
    for path in [
        "/api/v1/me/passkeys/challenge",
        "/api/v1/auth/passkey/challenge",
    ] {
        assert_eq!(anonymous.post(path, &json!({})).await.status, 401, "{path}");
    }
    assert_eq!(anonymous.get("/api/v1/me/passkeys").await.status, 401);
    // A login still waiting for its codes cannot enrol a passkey.
    let pending = Browser::new(&server, FIREFOX);
    pending.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(
        pending
            .post("/api/v1/me/passkeys/challenge", &json!({}))
            .await
            .status,
        401
    );
}
