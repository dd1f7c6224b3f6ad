//! The signed-in user's own account: password change and trusted devices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::json;
use termin_domain::setup::NewPracticeInput;
use termin_testkit::{
    Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer,
};

async fn owner_on_two_browsers() -> (TestServer, Browser, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let first = Browser::new(&server, FIREFOX);
    server
        .sign_in(&first, OWNER_EMAIL, OWNER_PHONE, OWNER_PASSWORD)
        .await;
    let second = Browser::new(&server, CHROME);
    server
        .sign_in(&second, OWNER_EMAIL, OWNER_PHONE, OWNER_PASSWORD)
        .await;
    (server, first, second)
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_follows_the_policy() {
    let (_server, first, _second) = owner_on_two_browsers().await;
    let wrong = first
        .post(
            "/api/v1/me/password",
            &json!({"current_password": "nope", "new_password": "Lm8#qwzu-Birke"}),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong.body["fields"]["current_password"],
        json!(["is not your current password"])
    );

    let weak = first
        .post(
            "/api/v1/me/password",
            &json!({"current_password": OWNER_PASSWORD, "new_password": "owner2026!X"}),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.body["error"], "password_policy");
    assert_eq!(weak.body["violations"], json!(["contains_personal_data"]));
}

#[tokio::test]
async fn a_new_password_ends_the_other_sessions_and_replaces_the_old_one() {
    let (server, first, second) = owner_on_two_browsers().await;
    let changed = first
        .post(
            "/api/v1/me/password",
            &json!({"current_password": OWNER_PASSWORD, "new_password": "Lm8#qwzu-Birke"}),
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(
        first.get("/api/v1/me").await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        second.get("/api/v1/me").await.status,
        401,
        "the other one ended"
    );
    let third = Browser::new(&server, FIREFOX);
    assert_eq!(third.login(OWNER_EMAIL, OWNER_PASSWORD).await.status, 401);
    assert_eq!(third.login(OWNER_EMAIL, "Lm8#qwzu-Birke").await.status, 200);
}

#[tokio::test]
async fn other_sessions_may_be_kept_on_request() {
    let (_server, first, second) = owner_on_two_browsers().await;
    let changed = first
        .post(
            "/api/v1/me/password",
            &json!({"current_password": OWNER_PASSWORD, "new_password": "Lm8#qwzu-Birke", "end_other_sessions": false}),
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(second.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn trusted_devices_are_listed_and_a_removed_one_needs_a_code_again() {
    let (server, first, second) = owner_on_two_browsers().await;
    let listed = first.get("/api/v1/me/devices").await;
    assert_eq!(listed.status, 200);
    let devices = listed.body["devices"].as_array().unwrap().clone();
    assert_eq!(devices.len(), 2);
    let mine = devices.iter().find(|d| d["current"] == true).unwrap();
    assert_eq!(mine["name"], "Firefox on Linux");
    let other = devices.iter().find(|d| d["current"] == false).unwrap();
    assert_eq!(other["name"], "Chrome on Windows");
    assert!(other["ip"].as_str().unwrap().starts_with("127."));

    let id = other["id"].as_str().unwrap();
    assert_eq!(
        first
            .delete(&format!("/api/v1/me/devices/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(
        first
            .delete(&format!("/api/v1/me/devices/{id}"))
            .await
            .status,
        404
    );
    let again = second.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(again.body["status"], "second_factor_required");
    drop(server);
}

#[tokio::test]
async fn another_users_device_cannot_be_seen_or_removed() {
    let (server, first, _second) = owner_on_two_browsers().await;
    server
        .services
        .create_practice_as_operator(NewPracticeInput {
            org_name: "Praxis Nord",
            time_zone: None,
            owner_email: "nord@praxis-nord.example",
            owner_phone: "+4915199887766",
            password: "Qz4!ptkw-Eiche",
        })
        .await
        .unwrap();
    let theirs = Browser::new(&server, CHROME);
    server
        .sign_in(
            &theirs,
            "nord@praxis-nord.example",
            "+4915199887766",
            "Qz4!ptkw-Eiche",
        )
        .await;
    let their_devices = theirs.get("/api/v1/me/devices").await.body["devices"].clone();
    let their_id = their_devices[0]["id"].as_str().unwrap();
    assert_eq!(
        first
            .delete(&format!("/api/v1/me/devices/{their_id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        first.get("/api/v1/me/devices").await.body["devices"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        theirs.get("/api/v1/me/devices").await.body["devices"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_signs_out_elsewhere() {
    let (server, first, second) = owner_on_two_browsers().await;
    let page = first.get("/account").await;
    assert_eq!(page.status, 200);
    let csrf = page.form_csrf();
    let wrong = first
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "nicht-es"),
                ("new_password", "Neues&Passwort2026"),
                ("end_other_sessions", "yes"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong
            .body
            .as_str()
            .unwrap()
            .contains("Das aktuelle Passwort stimmt nicht")
    );
    let weak = first
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", OWNER_PASSWORD),
                ("new_password", "kurz"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(second.get("/api/v1/me").await.status, 200);
    let changed = first
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", OWNER_PASSWORD),
                ("new_password", "Neues&Passwort2026"),
                ("end_other_sessions", "yes"),
            ],
        )
        .await;
    assert_eq!(changed.status, 200);
    assert!(
        changed
            .body
            .as_str()
            .unwrap()
            .contains("Ihr Passwort ist geändert")
    );
    assert_eq!(first.get("/api/v1/me").await.status, 200);
    assert_eq!(second.get("/api/v1/me").await.status, 401);
    let again = Browser::new(&server, FIREFOX);
    assert_eq!(
        again.login(OWNER_EMAIL, "Neues&Passwort2026").await.status,
        200
    );
}
