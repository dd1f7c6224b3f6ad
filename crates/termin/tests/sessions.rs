//! Sessions (seed promise S6): a user sees where they are signed in and ends one session,
//! every other one, or all; an ended session is refused from its next request on, on every
//! instance sharing the database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::json;
use termin_testkit::{Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, TestServer};

fn ids(list: &serde_json::Value) -> Vec<String> {
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_list_shows_every_signed_in_browser_and_marks_the_current_one() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let laptop = server.signed_in_owner(FIREFOX).await;
    let office = server.signed_in_owner(CHROME).await;
    // A login still waiting for its code is not a session yet.
    Browser::new(&server, CHROME)
        .login(OWNER_EMAIL, OWNER_PASSWORD)
        .await;

    let list = laptop.get("/api/v1/sessions").await;
    assert_eq!(list.status, 200);
    let sessions = list.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Firefox on Linux");
    assert_eq!(current[0]["user_agent"], FIREFOX);
    assert!(current[0]["ip"].as_str().unwrap().starts_with("127.0.0.1"));
    let other: Vec<_> = sessions.iter().filter(|s| s["current"] == false).collect();
    assert_eq!(other[0]["device"], "Chrome on Windows");
    assert!(other[0]["created_at"].is_string() && other[0]["last_seen_at"].is_string());
    assert_eq!(
        ids(&office.get("/api/v1/sessions").await.body).len(),
        2,
        "both see the same sessions"
    );
}

#[tokio::test]
async fn ending_a_session_deletes_it_and_its_cookie_stops_working() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let laptop = server.signed_in_owner(FIREFOX).await;
    let office = server.signed_in_owner(CHROME).await;
    let office_id = office.get("/api/v1/sessions").await.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ended = laptop
        .delete(&format!("/api/v1/sessions/{office_id}"))
        .await;
    assert_eq!(ended.status, 204);
    assert_eq!(office.get("/api/v1/me").await.status, 401);
    assert_eq!(
        laptop
            .delete(&format!("/api/v1/sessions/{office_id}"))
            .await
            .status,
        404,
        "it is gone, not flagged"
    );
    let rows = server.db().raw_strings("SELECT id FROM sessions").await;
    assert_eq!(
        rows,
        vec![Some(
            ids(&laptop.get("/api/v1/sessions").await.body)[0].clone()
        )]
    );
    assert_eq!(laptop.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn nobody_ends_another_users_session() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let colleague = server
        .join_practice(
            &owner,
            ("mia@praxis.example", "+4915112345679", "administrator"),
            "Kaffee&Kuchen2026",
        )
        .await;
    let colleague_id = ids(&colleague.get("/api/v1/sessions").await.body)[0].clone();
    assert_eq!(
        owner
            .delete(&format!("/api/v1/sessions/{colleague_id}"))
            .await
            .status,
        404
    );
    assert!(!ids(&owner.get("/api/v1/sessions").await.body).contains(&colleague_id));
    assert_eq!(colleague.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn end_all_keeps_the_current_session_only_when_asked() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let laptop = server.signed_in_owner(FIREFOX).await;
    let office = server.signed_in_owner(CHROME).await;
    let phone = server.signed_in_owner(CHROME).await;

    let kept = laptop
        .post("/api/v1/sessions/end-all", &json!({"keep_current": true}))
        .await;
    assert_eq!(kept.status, 204);
    assert_eq!(office.get("/api/v1/me").await.status, 401);
    assert_eq!(phone.get("/api/v1/me").await.status, 401);
    assert_eq!(ids(&laptop.get("/api/v1/sessions").await.body).len(), 1);

    let all = laptop
        .post("/api/v1/sessions/end-all", &json!({"keep_current": false}))
        .await;
    assert_eq!(all.status, 204);
    let cleared = all.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(laptop.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn a_session_ended_on_one_instance_is_refused_on_another_on_postgres() {
    let Some((first, second)) = TestServer::two_instances_on_postgres().await else {
        return;
    };
    first.with_practice().await;
    let on_first = first.signed_in_owner(FIREFOX).await;
    // The same cookie jar, talking to the other instance.
    let on_second = on_first.for_server(&second);
    assert_eq!(on_second.get("/api/v1/me").await.status, 200);
    let sessions = on_second.get("/api/v1/sessions").await;
    let id = ids(&sessions.body)[0].clone();

    assert_eq!(
        on_second
            .delete(&format!("/api/v1/sessions/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(on_first.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn the_account_page_lists_sessions_and_signs_out_elsewhere() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let laptop = server.signed_in_owner(FIREFOX).await;
    let office = server.signed_in_owner(CHROME).await;
    let page = laptop.get("/account").await;
    let html = page.body.as_str().unwrap().to_owned();
    assert!(html.contains("Chrome on Windows") && html.contains("Firefox on Linux"));
    let csrf = page.form_csrf();
    let done = laptop
        .post_form("/account/sessions/end-others", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(done.status, 303, "{:?}", done.body);
    assert_eq!(office.get("/api/v1/me").await.status, 401);
    assert_eq!(laptop.get("/api/v1/me").await.status, 200);

    let unknown = laptop
        .post_form("/account/widgets/1/remove", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(unknown.status, 404);

    // Ending the session in use signs this browser out.
    let own = ids(&laptop.get("/api/v1/sessions").await.body)[0].clone();
    let out = laptop
        .post_form(
            &format!("/account/sessions/{own}/remove"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.headers["location"], "/login");
    assert_eq!(laptop.get("/api/v1/me").await.status, 401);
}
