//! Inviting staff: single-use 72-hour links, verification at first login, who may invite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use serde_json::{Value, json};
use termin_testkit::{Browser, FIREFOX, OWNER_EMAIL, TestServer};

const NEW_PASSWORD: &str = "Wz9&hufl-Linde";

/// A new browser with `email` signed in.
async fn sign_in(server: &TestServer, email: &str, phone: &str, password: &str) -> Browser {
    let browser = Browser::new(server, FIREFOX);
    server.sign_in(&browser, email, phone, password).await;
    browser
}

async fn accept(server: &TestServer, token: &str, password: &str) -> reqwest::Response {
    server
        .post_json(
            "/api/v1/invitations/accept",
            &json!({"token": token, "password": password}),
        )
        .await
}

/// `inviter` invites `email` as `role`; the invitee accepts with `NEW_PASSWORD` and signs in.
async fn join(server: &TestServer, inviter: &Browser, email: &str, role: &str) -> Browser {
    server
        .join_practice(inviter, (email, "+4915211112222", role), NEW_PASSWORD)
        .await
}

async fn owner() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let browser = server.signed_in_owner(FIREFOX).await;
    (server, browser)
}

fn invitation(email: &str, role: &str) -> Value {
    json!({"email": email, "phone": "+4915211112222", "role": role})
}

async fn invitation_token(server: &TestServer, email: &str) -> String {
    server.invitation_token(email).await
}

#[tokio::test]
async fn an_invited_assistant_sets_a_password_verifies_and_belongs_to_the_practice() {
    let (server, owner) = owner().await;
    let created = owner
        .post(
            "/api/v1/invitations",
            &invitation("anna@praxis-am-see.example", "assistant"),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert!(created.body["id"].is_string());
    let token = invitation_token(&server, "anna@praxis-am-see.example").await;

    let page = server.get(&format!("/invite/{token}")).await;
    assert_eq!(page.status(), 200);
    let accepted = accept(&server, &token, NEW_PASSWORD).await;
    assert_eq!(accepted.status(), 200);

    let anna = Browser::new(&server, FIREFOX);
    let login = anna.login("anna@praxis-am-see.example", NEW_PASSWORD).await;
    assert_eq!(login.body["status"], "verification_required");
    assert_eq!(login.body["pending"], json!(["email", "phone"]));
    let anna = sign_in(
        &server,
        "anna@praxis-am-see.example",
        "+4915211112222",
        NEW_PASSWORD,
    )
    .await;
    let me = anna.get("/api/v1/me").await;
    assert_eq!(me.body["organizations"][0]["slug"], "praxis-am-see");
    assert_eq!(me.body["organizations"][0]["role"], "assistant");
}

#[tokio::test]
async fn an_invitation_link_works_once() {
    let (server, owner) = owner().await;
    owner
        .post(
            "/api/v1/invitations",
            &invitation("anna@praxis-am-see.example", "assistant"),
        )
        .await;
    let token = invitation_token(&server, "anna@praxis-am-see.example").await;
    let body = json!({"token": token, "password": NEW_PASSWORD});
    assert_eq!(
        server
            .post_json("/api/v1/invitations/accept", &body)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .post_json("/api/v1/invitations/accept", &body)
            .await
            .status(),
        404
    );
    assert_eq!(server.get(&format!("/invite/{token}")).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_acceptances_create_one_account() {
    let (server, owner) = owner().await;
    owner
        .post(
            "/api/v1/invitations",
            &invitation("anna@praxis-am-see.example", "assistant"),
        )
        .await;
    let token = invitation_token(&server, "anna@praxis-am-see.example").await;
    let attempts = (0..50).map(|_| {
        let client = server.client().clone();
        let url = server.url("/api/v1/invitations/accept");
        let body = json!({"token": token, "password": NEW_PASSWORD});
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
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 404),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_invitation_expires_after_seventy_two_hours() {
    let (server, owner) = owner().await;
    owner
        .post(
            "/api/v1/invitations",
            &invitation("anna@praxis-am-see.example", "assistant"),
        )
        .await;
    let token = invitation_token(&server, "anna@praxis-am-see.example").await;
    server
        .clock
        .advance(SignedDuration::from_hours(72) - SignedDuration::from_secs(1));
    assert_eq!(server.get(&format!("/invite/{token}")).await.status(), 200);
    server.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(server.get(&format!("/invite/{token}")).await.status(), 404);
    let late = accept(&server, &token, NEW_PASSWORD).await;
    assert_eq!(late.status(), 404);
}

#[tokio::test]
async fn a_weak_password_keeps_the_invitation_open() {
    let (server, owner) = owner().await;
    owner
        .post(
            "/api/v1/invitations",
            &invitation("anna@praxis-am-see.example", "assistant"),
        )
        .await;
    let token = invitation_token(&server, "anna@praxis-am-see.example").await;
    let weak = accept(&server, &token, "anna1234!A").await;
    assert_eq!(weak.status(), 422);
    assert_eq!(
        weak.json::<Value>().await.unwrap()["violations"],
        json!(["contains_personal_data"])
    );
    let ok = accept(&server, &token, NEW_PASSWORD).await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn only_managers_invite_and_nobody_grants_more_than_they_hold() {
    let (server, owner) = owner().await;
    let admin = join(
        &server,
        &owner,
        "admin@praxis-am-see.example",
        "administrator",
    )
    .await;
    assert_eq!(
        admin
            .post(
                "/api/v1/invitations",
                &invitation("x@praxis-am-see.example", "owner")
            )
            .await
            .status,
        403
    );
    assert_eq!(
        admin
            .post(
                "/api/v1/invitations",
                &invitation("y@praxis-am-see.example", "reception")
            )
            .await
            .status,
        201
    );
    let assistant = join(&server, &owner, "assi@praxis-am-see.example", "assistant").await;
    let refused = assistant
        .post(
            "/api/v1/invitations",
            &invitation("z@praxis-am-see.example", "read_only"),
        )
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (403, Some("forbidden"))
    );
}

#[tokio::test]
async fn invitations_validate_their_fields_and_do_not_tell_whether_an_account_exists() {
    let (_server, owner) = owner().await;
    let bad = owner
        .post(
            "/api/v1/invitations",
            &json!({"email": "nope", "phone": "0151", "role": "chef"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let mut fields: Vec<&str> = bad.body["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["email", "phone", "role"]);
    // An address with an account gets the same answer; its invitation asks to sign in.
    let existing = owner
        .post(
            "/api/v1/invitations",
            &invitation(&OWNER_EMAIL.to_uppercase(), "assistant"),
        )
        .await;
    let fresh = owner
        .post(
            "/api/v1/invitations",
            &invitation("neu@praxis.example", "assistant"),
        )
        .await;
    assert_eq!((existing.status, fresh.status), (201, 201));
    assert_eq!(
        existing
            .body
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        fresh.body.as_object().unwrap().keys().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_existing_account_joins_a_further_practice_and_switches_between_them() {
    let (server, owner) = owner().await;
    let nord = server.other_practice_owner().await;
    // Praxis Nord invites the owner of Praxis am See as a receptionist.
    let invited = nord
        .post("/api/v1/invitations", &invitation(OWNER_EMAIL, "reception"))
        .await;
    assert_eq!(invited.status, 201);
    let mails = server.outbox("email").await;
    let mail = mails.iter().rev().find(|m| m["to"] == OWNER_EMAIL).unwrap();
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("Sign in with your account")
    );
    let token = server.invitation_token(OWNER_EMAIL).await;
    // Setting a password with the link is refused: the account exists.
    let by_password = server
        .post_json(
            "/api/v1/invitations/accept",
            &json!({"token": token, "password": "Ganz&Neu2026!"}),
        )
        .await;
    assert_eq!(by_password.status(), 409);
    // Someone else signed in cannot use it.
    assert_eq!(
        nord.post("/api/v1/invitations/join", &json!({"token": token}))
            .await
            .status,
        404
    );
    // Signed in, the link's page offers to join with the account.
    let page = owner.get(&format!("/invite/{token}")).await;
    assert!(
        page.body
            .as_str()
            .unwrap()
            .contains(&format!("/invite/{token}/join"))
    );
    let joined = owner
        .post("/api/v1/invitations/join", &json!({"token": token}))
        .await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["slug"], "praxis-nord");
    let orgs = owner.get("/api/v1/me").await.body["organizations"].clone();
    let roles: Vec<(String, String)> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["slug"].as_str().unwrap().to_owned(),
                o["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("praxis-am-see".to_owned(), "owner".to_owned()),
            ("praxis-nord".to_owned(), "reception".to_owned())
        ]
    );
    // Two practices: each request names one, and the rights differ between them.
    let unnamed = owner.get("/api/v1/users").await;
    assert_eq!(unnamed.status, 422);
    assert!(unnamed.body["fields"]["X-Termin-Org"].is_array());
    assert_eq!(
        owner
            .get_with_header("/api/v1/users", ("x-termin-org", "praxis-am-see"))
            .await
            .status,
        200
    );
    assert_eq!(
        owner
            .get_with_header("/api/v1/users", ("x-termin-org", "praxis-nord"))
            .await
            .status,
        403
    );
    // Used once.
    assert_eq!(
        owner
            .post("/api/v1/invitations/join", &json!({"token": token}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn another_practice_named_in_the_header_is_not_found() {
    let (_server, owner) = owner().await;
    let answer = owner
        .post_with_header(
            "/api/v1/invitations",
            &invitation("anna@praxis-am-see.example", "assistant"),
            ("x-termin-org", "praxis-nord"),
        )
        .await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn an_invitation_dies_with_its_inviters_right_to_grant() {
    let (server, owner) = owner().await;
    let admin = join(
        &server,
        &owner,
        "admin@praxis-am-see.example",
        "administrator",
    )
    .await;
    let created = admin
        .post(
            "/api/v1/invitations",
            &invitation("rezeption@praxis-am-see.example", "reception"),
        )
        .await;
    assert_eq!(created.status, 201);
    let token = invitation_token(&server, "rezeption@praxis-am-see.example").await;
    // The administrator leaves the practice before the invitation is taken up.
    server
        .db()
        .execute_raw("DELETE FROM memberships WHERE role = 'administrator'")
        .await;
    let late = accept(&server, &token, NEW_PASSWORD).await;
    assert_eq!(late.status(), 404);
}
