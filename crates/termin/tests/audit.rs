//! The audit log (issue 5): security events land in each practice's hash chain; the chain
//! verifies, and altering, deleting or reordering rows in the database is detected and
//! named; old entries go only whole from the start, with the anchor kept; administrators
//! with the right read and export it (CSV, JSON lines).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use termin_domain::audit::Break;
use termin_testkit::{Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, TestServer};

async fn practice_with_history() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    // A failure and another sign-in: three or more entries.
    let other = Browser::new(&server, CHROME);
    assert_eq!(
        other.login(OWNER_EMAIL, "Falsch-Geraten-1!").await.status,
        401
    );
    server.signed_in_owner(CHROME).await;
    (server, owner)
}

async fn verdict(server: &TestServer) -> Result<usize, Break> {
    let reports = server.services.verify_audit(None).await.unwrap();
    assert_eq!(reports.len(), 1);
    reports[0].result.clone()
}

#[tokio::test]
async fn security_events_land_in_the_practice_chain_and_it_verifies() {
    let (server, owner) = practice_with_history().await;
    let log = owner.get("/api/v1/audit").await;
    assert_eq!(log.status, 200);
    let entries = log.body["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"login_succeeded"), "{actions:?}");
    assert!(actions.contains(&"login_failed"), "{actions:?}");
    let failed = entries
        .iter()
        .find(|e| e["action"] == "login_failed")
        .unwrap();
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["source"], "127.0.0.1");
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(verdict(&server).await, Ok(entries.len()));
    // Nothing of the password in the log.
    assert!(!log.body.to_string().contains(OWNER_PASSWORD));
}

#[tokio::test]
async fn an_altered_entry_is_named() {
    let (server, _owner) = practice_with_history().await;
    server
        .db()
        .execute_raw("UPDATE audit_log SET outcome = 'ok' WHERE seq = 2")
        .await;
    server
        .db()
        .execute_raw("UPDATE audit_log SET action = 'nothing_happened' WHERE seq = 2")
        .await;
    assert_eq!(verdict(&server).await, Err(Break::Altered { seq: 2 }));
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let (server, _owner) = practice_with_history().await;
    server
        .db()
        .execute_raw("DELETE FROM audit_log WHERE seq = 2")
        .await;
    assert_eq!(
        verdict(&server).await,
        Err(Break::Missing {
            expected_seq: 2,
            found_seq: 3
        })
    );
}

#[tokio::test]
async fn reordered_entries_are_detected() {
    let (server, _owner) = practice_with_history().await;
    for sql in [
        "UPDATE audit_log SET seq = 1000 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 1000",
    ] {
        server.db().execute_raw(sql).await;
    }
    assert_eq!(verdict(&server).await, Err(Break::Altered { seq: 2 }));
}

#[tokio::test]
async fn old_entries_go_whole_from_the_start_and_the_anchor_keeps_the_chain() {
    let (server, owner) = practice_with_history().await;
    let before = owner.get("/api/v1/audit").await.body["entries"]
        .as_array()
        .unwrap()
        .len();
    server.clock.advance(SignedDuration::from_hours(400 * 24));
    let owner = server.signed_in_owner(FIREFOX).await;
    // Asking for less than a year keeps a year all the same.
    let removed = server
        .services
        .prune_audit(SignedDuration::from_hours(24))
        .await
        .unwrap();
    assert_eq!(removed, before as u64);
    let left = owner.get("/api/v1/audit").await.body["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!left.is_empty());
    assert_eq!(left[0]["seq"].as_i64().unwrap(), before as i64 + 1);
    assert_eq!(verdict(&server).await, Ok(left.len()));
    assert_eq!(
        server
            .services
            .prune_audit(SignedDuration::from_hours(365 * 24))
            .await
            .unwrap(),
        0,
        "nothing younger than a year goes"
    );
}

#[tokio::test]
async fn the_log_is_exported_as_csv_and_json_lines_for_those_with_the_right() {
    let (server, owner) = practice_with_history().await;
    let json = owner.get("/api/v1/audit").await;
    let count = json.body["entries"].as_array().unwrap().len();
    let csv = server
        .client()
        .get(server.url("/api/v1/audit?format=csv"))
        .header(
            "cookie",
            format!(
                "__Host-termin_session={}",
                owner.cookie("__Host-termin_session").unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), count + 1);
    assert!(text.starts_with("seq,at,actor_id,action,target,source,outcome,hash\n"));
    let lines = owner
        .get("/api/v1/audit?format=jsonl&action=login_failed")
        .await;
    // One line of JSON reads as one JSON value.
    let body = match &lines.body {
        serde_json::Value::String(text) => text.clone(),
        value => value.to_string(),
    };
    assert_eq!(body.lines().count(), 1);
    let entry: serde_json::Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(entry["action"], "login_failed");
    assert_eq!(owner.get("/api/v1/audit?format=xml").await.status, 422);
    assert_eq!(owner.get("/api/v1/audit?from=yesterday").await.status, 422);
    let page = owner.get("/practices/praxis-am-see/audit").await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains("login_failed"));

    let assistant = server
        .join_practice(
            &owner,
            ("mia@praxis.example", "+4915112340031", "assistant"),
            "Kaffee&Kuchen2026",
        )
        .await;
    assert_eq!(assistant.get("/api/v1/audit").await.status, 403);
}

/// Thirty appends racing on one practice's chain: no fork, no gap.
async fn concurrent_appends_keep_one_chain(server: TestServer) {
    let store = server.services.store.clone();
    let (org, _) = store.audited_orgs().await.unwrap().remove(0);
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                tx.append_audit(
                    org,
                    &termin_storage::NewAuditEntry {
                        at: jiff::Timestamp::now(),
                        actor_id: None,
                        action: "concurrent",
                        target: String::new(),
                        source: "127.0.0.1",
                        outcome: "ok",
                    },
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let ((_, _), entries) = store.audit_chain(org).await.unwrap();
    assert_eq!(
        entries.iter().filter(|e| e.action == "concurrent").count(),
        30
    );
    assert_eq!(verdict(&server).await, Ok(entries.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_one_chain_on_sqlite() {
    let server = TestServer::start().await;
    server.with_practice().await;
    concurrent_appends_keep_one_chain(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_one_chain_on_postgres() {
    let Some(server) = TestServer::on_postgres().await else {
        return;
    };
    server.with_practice().await;
    concurrent_appends_keep_one_chain(server).await;
}
