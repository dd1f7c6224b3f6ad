//! Granular rights (S7): roles as presets, per-member additions and removals, calendar
//! permissions narrowed to practitioners, nobody granting what they do not hold, the last
//! owner kept, changes effective on the very next request, another practice's users "not
//! found".
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::{Value, json};
use termin_testkit::{Browser, FIREFOX, OWNER_EMAIL, TestServer};

const ASSISTANT: (&str, &str, &str) = ("mia@praxis.example", "+4915112340011", "assistant");
const ADMIN: (&str, &str, &str) = ("lena@praxis.example", "+4915112340012", "administrator");
const PASSWORD: &str = "Kaffee&Kuchen2026";
const DR_A: &str = "00000000-0000-4000-8000-00000000000a";
const DR_B: &str = "00000000-0000-4000-8000-00000000000b";

async fn practice() -> (TestServer, Browser) {
    practice_on(None).await
}

async fn practice_on(db: Option<termin_testkit::TestDb>) -> (TestServer, Browser) {
    let server = match db {
        Some(db) => TestServer::builder().db(db).start().await,
        None => TestServer::start().await,
    };
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    (server, owner)
}

async fn id_of(browser: &Browser, email: &str) -> String {
    let users = browser.get("/api/v1/users").await;
    assert_eq!(users.status, 200, "{:?}", users.body);
    users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

async fn permissions(browser: &Browser, id: &str, body: Value) -> termin_testkit::Answer {
    browser
        .put(&format!("/api/v1/users/{id}/permissions"), &body)
        .await
}

#[tokio::test]
async fn the_user_list_shows_roles_permissions_and_status_to_managers_only() {
    let (server, owner) = practice().await;
    let assistant = server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let list = owner.get("/api/v1/users").await;
    assert_eq!(list.status, 200);
    let users = list.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    let owner_row = users.iter().find(|u| u["email"] == OWNER_EMAIL).unwrap();
    assert_eq!(owner_row["role"], "owner");
    assert_eq!(owner_row["status"], "active");
    assert_eq!(owner_row["permissions"].as_array().unwrap().len(), 13);
    let mia = users.iter().find(|u| u["email"] == ASSISTANT.0).unwrap();
    assert_eq!(
        names(&mia["permissions"]),
        [
            "view_calendar",
            "manage_appointments",
            "manage_availability",
            "book_outside_hours",
            "see_patient_contacts",
            "manage_patients"
        ]
    );
    let refused = assistant.get("/api/v1/users").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["error"], "forbidden");
}

#[tokio::test]
async fn an_added_right_works_on_the_next_request_and_a_removed_one_stops() {
    let (server, owner) = practice().await;
    let assistant = server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let id = id_of(&owner, ASSISTANT.0).await;
    assert_eq!(assistant.get("/api/v1/settings/security").await.status, 403);

    let granted = permissions(
        &owner,
        &id,
        json!({"grants": [{"permission": "manage_settings"}], "removals": ["manage_patients"]}),
    )
    .await;
    assert_eq!(granted.status, 200, "{:?}", granted.body);
    assert!(names(&granted.body["permissions"]).contains(&"manage_settings"));
    assert!(!names(&granted.body["permissions"]).contains(&"manage_patients"));
    assert_eq!(
        granted.body["adjustments"]["removals"],
        json!(["manage_patients"])
    );
    assert_eq!(assistant.get("/api/v1/settings/security").await.status, 200);

    assert_eq!(
        permissions(&owner, &id, json!({})).await.status,
        200,
        "back to the preset"
    );
    assert_eq!(assistant.get("/api/v1/settings/security").await.status, 403);
}

#[tokio::test]
async fn calendar_rights_can_be_narrowed_to_practitioners() {
    let (server, owner) = practice().await;
    server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let id = id_of(&owner, ASSISTANT.0).await;
    let narrowed = permissions(
        &owner,
        &id,
        json!({"grants": [
            {"permission": "manage_appointments", "practitioner_ids": [DR_A]},
            {"permission": "view_calendar", "practitioner_ids": [DR_A, DR_B]},
        ]}),
    )
    .await;
    assert_eq!(narrowed.status, 200, "{:?}", narrowed.body);
    assert_eq!(
        narrowed.body["scopes"]["manage_appointments"],
        json!([DR_A])
    );
    assert_eq!(
        narrowed.body["scopes"]["view_calendar"],
        json!([DR_A, DR_B])
    );

    let bad = permissions(
        &owner,
        &id,
        json!({"grants": [
            {"permission": "manage_users", "practitioner_ids": [DR_A]},
            {"permission": "fly"},
        ], "removals": ["swim"]}),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["fields"]["grants"].as_array().unwrap().len(), 2);
    assert_eq!(bad.body["fields"]["removals"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn nobody_grants_a_right_they_do_not_hold() {
    let (server, owner) = practice().await;
    let assistant = server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let other = ("tom@praxis.example", "+4915112340013", "reception");
    server.join_practice(&owner, other, PASSWORD).await;
    let mia = id_of(&owner, ASSISTANT.0).await;
    let tom = id_of(&owner, other.0).await;
    // The assistant may now manage users, but holds no medical notes and no owner rights.
    assert_eq!(
        permissions(
            &owner,
            &mia,
            json!({"grants": [{"permission": "manage_users"}]})
        )
        .await
        .status,
        200
    );
    let notes = permissions(
        &assistant,
        &tom,
        json!({"grants": [{"permission": "see_medical_notes"}]}),
    )
    .await;
    assert_eq!(notes.status, 403);
    let role = |r: &str| json!({ "role": r });
    let path = format!("/api/v1/users/{tom}/role");
    assert_eq!(
        assistant.put(&path, &role("practitioner")).await.status,
        403
    );
    assert_eq!(assistant.put(&path, &role("assistant")).await.status, 200);
    let owner_id = id_of(&owner, OWNER_EMAIL).await;
    assert_eq!(
        assistant
            .put(
                &format!("/api/v1/users/{owner_id}/role"),
                &role("reception")
            )
            .await
            .status,
        403,
        "nobody but an owner acts on an owner"
    );
}

#[tokio::test]
async fn only_owners_make_owners_and_the_last_owner_stays() {
    only_owners_make_owners_and_the_last_owner_stays_on(None).await;
}

#[tokio::test]
async fn rights_are_kept_alike_on_postgres() {
    let Some(db) = termin_testkit::TestDb::postgres_if_configured().await else {
        return;
    };
    only_owners_make_owners_and_the_last_owner_stays_on(Some(db)).await;
}

async fn only_owners_make_owners_and_the_last_owner_stays_on(db: Option<termin_testkit::TestDb>) {
    let (server, owner) = practice_on(db).await;
    let admin = server.join_practice(&owner, ADMIN, PASSWORD).await;
    let owner_id = id_of(&owner, OWNER_EMAIL).await;
    let admin_id = id_of(&owner, ADMIN.0).await;
    let role = |r: &str| json!({ "role": r });
    assert_eq!(
        admin
            .put(&format!("/api/v1/users/{admin_id}/role"), &role("owner"))
            .await
            .status,
        403
    );
    let demote_self = owner
        .put(
            &format!("/api/v1/users/{owner_id}/role"),
            &role("administrator"),
        )
        .await;
    assert_eq!(demote_self.status, 409);
    assert_eq!(demote_self.body["error"], "last_owner");
    let leave = owner.delete(&format!("/api/v1/users/{owner_id}")).await;
    assert_eq!(leave.status, 409);

    let promoted = owner
        .put(&format!("/api/v1/users/{admin_id}/role"), &role("owner"))
        .await;
    assert_eq!(promoted.status, 200);
    assert_eq!(promoted.body["role"], "owner");
    let demoted = owner
        .put(
            &format!("/api/v1/users/{owner_id}/role"),
            &role("administrator"),
        )
        .await;
    assert_eq!(demoted.status, 200, "{:?}", demoted.body);
    let events: Vec<_> = server
        .db()
        .raw_strings("SELECT kind FROM security_events WHERE kind = 'role_changed'")
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(events, ["role_changed", "role_changed"]);
}

#[tokio::test]
async fn another_practices_users_are_not_found() {
    let (server, owner) = practice().await;
    server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let mia = id_of(&owner, ASSISTANT.0).await;
    let stranger = server.other_practice_owner().await;
    let theirs = stranger.get("/api/v1/users").await;
    assert_eq!(theirs.body["users"].as_array().unwrap().len(), 1);
    for answer in [
        stranger
            .put(
                &format!("/api/v1/users/{mia}/role"),
                &json!({"role": "reception"}),
            )
            .await,
        permissions(&stranger, &mia, json!({})).await,
        stranger.delete(&format!("/api/v1/users/{mia}")).await,
    ] {
        assert_eq!(answer.status, 404, "{:?}", answer.body);
    }
    assert_eq!(
        stranger
            .put(
                "/api/v1/users/not-an-id/role",
                &json!({"role": "reception"})
            )
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_removed_member_loses_the_practice_at_once() {
    let (server, owner) = practice().await;
    let assistant = server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let mia = id_of(&owner, ASSISTANT.0).await;
    assert_eq!(
        assistant.get("/api/v1/me").await.body["organizations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        owner.delete(&format!("/api/v1/users/{mia}")).await.status,
        204
    );
    assert_eq!(
        assistant.get("/api/v1/me").await.body["organizations"],
        json!([])
    );
    assert_eq!(
        owner.get("/api/v1/users").await.body["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_users_page_changes_roles_rights_and_membership() {
    let (server, owner) = practice().await;
    let assistant = server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    let mia = id_of(&owner, ASSISTANT.0).await;
    let page = owner.get("/practices/praxis-am-see/users").await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains(ASSISTANT.0));
    let csrf = page.form_csrf();
    let base = format!("/practices/praxis-am-see/users/{mia}");

    let ticked = owner
        .post_form(
            &format!("{base}/permissions"),
            &[
                ("csrf", &csrf),
                ("permission", "view_calendar"),
                ("permission", "view_audit_log"),
            ],
        )
        .await;
    assert_eq!(ticked.status, 303);
    let users = owner.get("/api/v1/users").await;
    let row = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == ASSISTANT.0)
        .unwrap()
        .clone();
    assert_eq!(
        names(&row["permissions"]),
        ["view_calendar", "view_audit_log"]
    );
    assert_eq!(assistant.get("/api/v1/audit").await.status, 200);

    let role = owner
        .post_form(
            &format!("{base}/role"),
            &[("csrf", &csrf), ("role", "reception")],
        )
        .await;
    assert_eq!(role.status, 303);
    let forged = owner
        .post_form(&format!("{base}/remove"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    let removed = owner
        .post_form(&format!("{base}/remove"), &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(
        assistant.get("/api/v1/audit").await.status,
        404,
        "no practice left"
    );
}
