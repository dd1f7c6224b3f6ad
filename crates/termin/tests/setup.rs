//! First run: the one-time set-up link printed by `serve`, its page and its API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use serde_json::{Value, json};
use termin_domain::user::{Email, UserStatus};
use termin_testkit::{TestBackend, TestDb, TestServer};

fn practice(token: &str) -> Value {
    json!({
        "token": token,
        "org_name": "Praxis Dr. Müller",
        "owner_email": "Owner@Praxis-Mueller.example",
        "owner_phone": "+49 151 2345 6789",
        "password": "Kx7!vbnq-Ahorn",
    })
}

#[tokio::test]
async fn a_fresh_server_issues_a_setup_link_and_an_initialised_one_does_not() {
    let server = TestServer::start().await;
    let link = server
        .info
        .setup_link
        .clone()
        .expect("first run prints a link");
    assert!(
        link.starts_with(&format!("https://localhost:{}/setup/", server.port())),
        "{link}"
    );
    let created = server
        .post_json("/api/v1/setup", &practice(&server.setup_token()))
        .await;
    assert_eq!(created.status(), 201);
    let db = server.stop().await.unwrap();

    let again = TestServer::builder().db(db).start().await;
    assert_eq!(again.info.setup_link, None);
}

#[tokio::test]
async fn the_setup_page_shows_a_form_in_german_by_default_and_english_on_request() {
    let server = TestServer::start().await;
    let path = format!("/setup/{}", server.setup_token());
    let german = server.get(&path).await;
    assert_eq!(german.status(), 200);
    let html = german.text().await.unwrap();
    assert!(html.contains("Praxis einrichten"), "{html}");
    assert!(html.contains("name=\"owner_phone\""));
    assert!(!html.contains("<script>"), "no inline script");

    let english = server
        .client()
        .get(server.url(&path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Set up your practice"));
}

#[tokio::test]
async fn setup_creates_the_practice_and_a_pending_owner_with_an_argon2id_hash() {
    let server = TestServer::start().await;
    let response = server
        .post_json("/api/v1/setup", &practice(&server.setup_token()))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["slug"], "praxis-dr-mueller");
    assert_eq!(body["owner_status"], "verification_pending");

    let store = &server.services.store;
    let owner = store
        .find_user_by_email(&Email::parse("owner@praxis-mueller.example").unwrap())
        .await
        .unwrap()
        .expect("owner stored");
    assert_eq!(owner.status, UserStatus::VerificationPending);
    assert_eq!(owner.phone.as_str(), "+4915123456789");
    assert!(
        owner
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        owner.password_hash
    );
    assert!(!owner.password_hash.contains("Kx7!vbnq"));
    let memberships = store.memberships_of(owner.id).await.unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].role.as_str(), "owner");
    assert_eq!(body["org_id"], memberships[0].org_id.to_string());
}

#[tokio::test]
async fn a_setup_link_works_once() {
    let server = TestServer::start().await;
    let token = server.setup_token();
    assert_eq!(
        server
            .post_json("/api/v1/setup", &practice(&token))
            .await
            .status(),
        201
    );
    let mut second = practice(&token);
    second["owner_email"] = json!("someone.else@praxis.example");
    let again = server.post_json("/api/v1/setup", &second).await;
    assert_eq!(again.status(), 404);
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "not_found");
    assert_eq!(server.get(&format!("/setup/{token}")).await.status(), 404);
}

#[tokio::test]
async fn once_a_practice_exists_every_other_outstanding_link_is_dead() {
    let server = TestServer::start().await;
    let first = server.setup_token();
    // A second instance (or a restart) printed another link in the meantime.
    let second = server
        .services
        .issue_setup_link_if_needed()
        .await
        .unwrap()
        .expect("still no practice, so a link is issued");
    assert_eq!(
        server
            .get(&format!("/setup/{}", second.reveal()))
            .await
            .status(),
        200
    );

    assert_eq!(
        server
            .post_json("/api/v1/setup", &practice(&first))
            .await
            .status(),
        201
    );
    assert_eq!(
        server
            .get(&format!("/setup/{}", second.reveal()))
            .await
            .status(),
        404
    );
    let mut other = practice(second.reveal());
    other["owner_email"] = json!("intruder@elsewhere.example");
    assert_eq!(
        server.post_json("/api/v1/setup", &other).await.status(),
        404
    );
    assert_eq!(
        server.services.store.count_organizations().await.unwrap(),
        1
    );
    assert!(
        server
            .services
            .issue_setup_link_if_needed()
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn setup_on_the_command_line_retires_the_printed_link() {
    let server = TestServer::start().await;
    let created = server
        .services
        .create_practice_as_operator(termin_domain::setup::NewPracticeInput {
            org_name: "Praxis am See",
            time_zone: None,
            owner_email: "owner@see.example",
            owner_phone: "+4915123456789",
            password: "Kx7!vbnq-Ahorn",
        })
        .await
        .unwrap();
    assert_eq!(created.slug.as_str(), "praxis-am-see");
    let path = format!("/setup/{}", server.setup_token());
    assert_eq!(server.get(&path).await.status(), 404);
}

#[tokio::test]
async fn a_setup_link_expires_after_exactly_one_hour() {
    let server = TestServer::start().await;
    let path = format!("/setup/{}", server.setup_token());
    server.clock.advance(SignedDuration::from_secs(3599));
    assert_eq!(server.get(&path).await.status(), 200, "59:59 after issue");
    server.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(server.get(&path).await.status(), 404, "60:00 after issue");
    let late = server
        .post_json("/api/v1/setup", &practice(&server.setup_token()))
        .await;
    assert_eq!(late.status(), 404);
}

#[tokio::test]
async fn unknown_and_malformed_links_are_not_found() {
    let server = TestServer::start().await;
    let unknown = "0".repeat(64);
    for path in [format!("/setup/{unknown}"), "/setup/not-a-token".to_owned()] {
        assert_eq!(server.get(&path).await.status(), 404, "{path}");
    }
    let response = server.post_json("/api/v1/setup", &practice(&unknown)).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn invalid_fields_are_all_reported_and_the_link_stays_usable() {
    let server = TestServer::start().await;
    let token = server.setup_token();
    let response = server
        .post_json(
            "/api/v1/setup",
            &json!({
                "token": token,
                "org_name": "P",
                "owner_email": "owner-at-praxis",
                "owner_phone": "0151 2345",
                "password": "Kx7!vbnq-Ahorn",
            }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "validation");
    let fields = body["fields"].as_object().unwrap();
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["org_name", "owner_email", "owner_phone"]);
    assert_eq!(
        server
            .post_json("/api/v1/setup", &practice(&token))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn a_weak_password_lists_every_violated_rule() {
    let server = TestServer::start().await;
    let mut body = practice(&server.setup_token());
    body["password"] = json!("abcdefg");
    let response = server.post_json("/api/v1/setup", &body).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "password_policy");
    assert_eq!(
        body["violations"],
        json!(["too_short", "no_uppercase", "no_digit", "no_special"])
    );
}

#[tokio::test]
async fn a_leaked_password_is_refused_even_when_it_meets_the_composition_rule() {
    let server = TestServer::start().await;
    let mut body = practice(&server.setup_token());
    body["password"] = json!("Password1!");
    let response = server.post_json("/api/v1/setup", &body).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["violations"], json!(["common_password"]));
}

#[tokio::test]
async fn the_setup_page_lists_the_password_rules_for_live_checking() {
    let server = TestServer::start().await;
    let html = server
        .client()
        .get(server.url(&format!("/setup/{}", server.setup_token())))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for rule in ["length", "upper", "lower", "digit", "special"] {
        assert!(html.contains(&format!("data-rule=\"{rule}\"")), "{rule}");
    }
    assert!(html.contains("At least 8 characters"));
    assert!(html.contains("<script src=\"/assets/app.js\" defer></script>"));
}

#[tokio::test]
async fn the_form_re_renders_with_field_errors_and_never_echoes_the_password() {
    let server = TestServer::start().await;
    let path = format!("/setup/{}", server.setup_token());
    let response = server
        .client()
        .post(server.url(&path))
        .header("accept-language", "en")
        .form(&[
            ("org_name", "Praxis am See"),
            ("owner_email", "not-an-address"),
            ("owner_phone", "+4915123456789"),
            ("password", "Geheim-Passw0rt!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("is not a valid e-mail address"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("value=\"Praxis am See\""),
        "entered values are kept"
    );
    assert!(!html.contains("Geheim-Passw0rt!"));
}

#[tokio::test]
async fn the_form_creates_the_practice() {
    let server = TestServer::start().await;
    let path = format!("/setup/{}", server.setup_token());
    let response = server
        .client()
        .post(server.url(&path))
        .form(&[
            ("org_name", "Praxis am See"),
            ("time_zone", "Europe/Berlin"),
            ("owner_email", "owner@see.example"),
            ("owner_phone", "+4915123456789"),
            ("password", "Kx7!vbnq-Ahorn"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("/book/praxis-am-see"), "{html}");
}

async fn fifty_concurrent_setups_with_one_link_create_one_practice(backend: TestBackend) {
    let Some(db) = (match backend {
        TestBackend::Sqlite => Some(TestDb::new(backend).await),
        TestBackend::Postgres => TestDb::postgres_if_configured().await,
    }) else {
        return;
    };
    let server = TestServer::builder().db(db).start().await;
    let token = server.setup_token();
    let attempts = (0..50).map(|i| {
        let client = server.client().clone();
        let url = server.url("/api/v1/setup");
        let mut body = practice(&token);
        body["owner_email"] = json!(format!("owner{i}@praxis.example"));
        tokio::spawn(async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(
        server.services.store.count_organizations().await.unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_setups_with_one_link_create_one_practice_on_sqlite() {
    fifty_concurrent_setups_with_one_link_create_one_practice(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_setups_with_one_link_create_one_practice_on_postgres() {
    fifty_concurrent_setups_with_one_link_create_one_practice(TestBackend::Postgres).await;
}
