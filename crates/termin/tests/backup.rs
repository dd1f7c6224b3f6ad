//! Backups through the library: round trips on both backends and across them, the schedule
//! that one instance runs, retention, and the status `/readyz` and the practice page show.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

#[path = "support/backup.rs"]
mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use termin_backup::{BackupSettings, Backups, Identities, Recipients, Target};
use termin_domain::ManualClock;
use termin_domain::backup::{DailyAt, Retention, TargetName, WeeklyAt};
use termin_domain::org::TimeZoneName;
use termin_storage::Store;
use termin_testkit::{CHROME, TestBackend, TestDb, TestServer, on_both_backends, test_epoch};

fn settings(dir: &Path, keys: &support::Keys, retention: Retention) -> BackupSettings {
    std::fs::create_dir_all(support::directory(dir)).unwrap();
    BackupSettings {
        recipients: Recipients::parse(std::slice::from_ref(&keys.recipient)).unwrap(),
        targets: vec![
            Target::directory(
                TargetName::parse("local").unwrap(),
                &support::directory(dir),
            )
            .unwrap(),
        ],
        time_zone: TimeZoneName::parse("Europe/Berlin").unwrap(),
        schedule: DailyAt::parse("02:00").unwrap(),
        verify_schedule: WeeklyAt::parse("sun 04:00").unwrap(),
        retention,
        retry_delays: Vec::new(),
        alert_emails: Vec::new(),
        signing_keys: Vec::new(),
        work_dir: dir.join("work"),
        verify_identity: None,
    }
}

async fn backend_db(backend: TestBackend) -> Option<TestDb> {
    match backend {
        TestBackend::Sqlite => Some(TestDb::new(TestBackend::Sqlite).await),
        TestBackend::Postgres => TestDb::postgres_if_configured().await,
    }
}

/// Backs up a populated `from` database and restores it into an empty `to` database: the
/// same rows, and Termin serves the practice from it.
async fn round_trip(from: TestBackend, to: TestBackend) {
    if from == TestBackend::Postgres || to == TestBackend::Postgres {
        // Both ends must exist; skip (or fail, when required) before populating.
        let Some(probe) = TestDb::postgres_if_configured().await else {
            return;
        };
        probe.cleanup().await;
    }
    let source = support::populated(from).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let store = source.store().await;
    let (before, _) = termin_backup::content_hash(&store).await.unwrap();
    let clock = ManualClock::new(test_epoch());
    let backups = Backups::new(
        store.clone(),
        Arc::new(clock.clone()),
        settings(dir.path(), &keys, Retention::default()),
    );
    let report = backups.run().await.unwrap();
    assert!(report.all_ok(), "{:?}", report.targets);
    assert_eq!(report.manifest.content_sha256, before);
    assert_eq!(report.manifest.row_counts["appointments"], 3);
    assert_eq!(report.manifest.source, store.backend().name());
    // The operator noted the installation's signing key: restores trust it.
    let signing_key = store.backup_signing_public_key().await.unwrap().unwrap();
    assert_eq!(report.manifest.signing_key, signing_key);
    store.close().await;
    let mut trusting = settings(dir.path(), &keys, Retention::default());
    trusting.signing_keys = vec![signing_key];
    let source_store = source.store().await;
    let backups = Backups::new(source_store.clone(), Arc::new(clock.clone()), trusting);

    let target = backend_db(to).await.unwrap();
    let into = target.connect().await;
    let identities = Identities::from_file(&keys.identity_file).unwrap();
    let outcome = backups
        .restore("local", &report.manifest.id, identities, &into, false)
        .await
        .unwrap();
    let restored: std::collections::BTreeMap<String, u64> =
        outcome.report.row_counts.iter().cloned().collect();
    assert_eq!(restored, report.manifest.row_counts);
    assert_eq!(outcome.report.replaced_rows, 0);
    let (after, _) = termin_backup::content_hash(&into).await.unwrap();
    assert_eq!(after, before, "{from:?} → {to:?}: the same rows");
    into.close().await;

    // The restored database is a working Termin: the owner signs in and sees the calendar.
    let server = TestServer::builder().db(target).start().await;
    let owner = server.signed_in_owner(CHROME).await;
    let week = owner
        .get("/api/v1/appointments?from=2026-03-30&to=2026-04-05")
        .await;
    assert_eq!(week.status, 200, "{:?}", week.body);
    assert_eq!(week.body["appointments"].as_array().unwrap().len(), 3);
    let patients = owner.get("/api/v1/patients?q=muller").await;
    assert_eq!(patients.body["patients"][0]["family_name"], "Müller");
    server.stop().await.unwrap().cleanup().await;
    source_store.close().await;
    source.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_sqlite_to_sqlite() {
    round_trip(TestBackend::Sqlite, TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_sqlite_to_postgres() {
    round_trip(TestBackend::Sqlite, TestBackend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_postgres_to_sqlite() {
    round_trip(TestBackend::Postgres, TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_postgres_to_postgres() {
    round_trip(TestBackend::Postgres, TestBackend::Postgres).await;
}

on_both_backends!(
    fifty_instances_claim_a_due_job_and_one_wins,
    a_lease_that_runs_out_lets_another_instance_take_the_job,
);

async fn fifty_instances_claim_a_due_job_and_one_wins(db: &TestDb) {
    let store = db.store().await;
    let now = test_epoch();
    let slot = now - SignedDuration::from_hours(1);
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..50 {
        let store = store.clone();
        tries.spawn(async move {
            store
                .claim_scheduled_job(
                    "backup",
                    slot,
                    &format!("instance-{i}"),
                    now,
                    SignedDuration::from_hours(6),
                )
                .await
                .unwrap()
        });
    }
    let mut won = Vec::new();
    while let Some(result) = tries.join_next().await {
        won.push(result.unwrap());
    }
    assert_eq!(
        won.iter().filter(|w| **w).count(),
        1,
        "exactly one instance runs it"
    );
    let winner = db
        .raw_strings("SELECT lease_owner FROM scheduled_jobs WHERE name = 'backup'")
        .await[0]
        .clone()
        .unwrap();
    store
        .finish_scheduled_job("backup", slot, &winner)
        .await
        .unwrap();
    // Done for this slot: nobody runs it again; the next slot is due once more.
    assert!(
        !store
            .claim_scheduled_job("backup", slot, "late", now, SignedDuration::from_hours(6))
            .await
            .unwrap()
    );
    let next = slot + SignedDuration::from_hours(24);
    let tomorrow = now + SignedDuration::from_hours(24);
    assert!(
        store
            .claim_scheduled_job(
                "backup",
                next,
                "late",
                tomorrow,
                SignedDuration::from_hours(6)
            )
            .await
            .unwrap()
    );
    store.close().await;
}

async fn a_lease_that_runs_out_lets_another_instance_take_the_job(db: &TestDb) {
    let store = db.store().await;
    let now = test_epoch();
    let lease = SignedDuration::from_hours(6);
    assert!(
        store
            .claim_scheduled_job("backup", now, "a", now, lease)
            .await
            .unwrap()
    );
    // "a" died without finishing. Until its lease ends nobody else may run the job …
    let almost = now + lease - SignedDuration::from_secs(1);
    assert!(
        !store
            .claim_scheduled_job("backup", now, "b", almost, lease)
            .await
            .unwrap()
    );
    // … from then on another instance takes it over.
    assert!(
        store
            .claim_scheduled_job("backup", now, "b", now + lease, lease)
            .await
            .unwrap()
    );
    // A finish by the instance that lost its lease changes nothing.
    store
        .finish_scheduled_job("backup", now, "a")
        .await
        .unwrap();
    assert_eq!(
        db.raw_strings("SELECT lease_owner FROM scheduled_jobs WHERE name = 'backup'")
            .await,
        [Some("b".to_owned())]
    );
    store.close().await;
}

/// The schedule: a missed backup runs at the first tick; the next at 02:00 in Berlin; two
/// instances on one database make one backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_backup_runs_once_per_day_across_instances() {
    let Some(db) = backend_db(TestBackend::Postgres).await else {
        return;
    };
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    // 2026-03-25T00:00Z is 01:00 in Berlin: yesterday's 02:00 has no backup yet.
    let clock = ManualClock::new(test_epoch());
    let one = Backups::new(
        store.clone(),
        Arc::new(clock.clone()),
        settings(dir.path(), &keys, Retention::default()),
    );
    let second_store = db.second_instance_handle().store().await;
    let two = Backups::new(
        second_store.clone(),
        Arc::new(clock.clone()),
        settings(dir.path(), &keys, Retention::default()),
    );
    let (a, b) = tokio::join!(one.run_due("one"), two.run_due("two"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        [a.backed_up, b.backed_up].iter().filter(|x| **x).count(),
        1,
        "one backup for the missed slot"
    );
    assert!(
        a.verified || b.verified,
        "the weekly check ran for its missed slot too"
    );
    assert!(
        !one.run_due("one").await.unwrap().backed_up,
        "nothing due until 02:00"
    );
    // 00:59:59Z is 01:59:59 in Berlin (CET): not yet; 01:00Z is 02:00: due.
    clock.set(Timestamp::from_second(1_774_400_399).unwrap());
    assert!(!two.run_due("two").await.unwrap().backed_up);
    clock.set(Timestamp::from_second(1_774_400_400).unwrap());
    let (a, b) = tokio::join!(one.run_due("one"), two.run_due("two"));
    assert_eq!(
        [a.unwrap().backed_up, b.unwrap().backed_up]
            .iter()
            .filter(|x| **x)
            .count(),
        1
    );
    // Both backups fell on the same Berlin day: retention keeps that day's newest.
    let listing = one.settings.targets[0].list().await.unwrap();
    assert_eq!(listing.complete.len(), 1);
    assert_eq!(
        listing.complete[0].manifest.created_at,
        Timestamp::from_second(1_774_400_400).unwrap()
    );
    assert!(listing.incomplete.is_empty());
    store.close().await;
    second_store.close().await;
    db.cleanup().await;
}

/// Retention on the target after each run: with 2 daily and nothing else, four days of
/// backups leave the two newest.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retention_keeps_what_the_rule_says_after_each_run() {
    let db = TestDb::new(TestBackend::Sqlite).await;
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let clock = ManualClock::new(test_epoch());
    let backups = Backups::new(
        store.clone(),
        Arc::new(clock.clone()),
        settings(dir.path(), &keys, Retention::checked(2, 0, 0).unwrap()),
    );
    let mut ids = Vec::new();
    for day in 0..4 {
        if day > 0 {
            clock.advance(SignedDuration::from_hours(24));
        }
        let report = backups.run().await.unwrap();
        ids.push(report.manifest.id.clone());
    }
    let listing = backups.settings.targets[0].list().await.unwrap();
    let kept: Vec<_> = listing
        .complete
        .iter()
        .map(|l| l.manifest.id.clone())
        .collect();
    assert_eq!(kept, ids[2..]);
    for gone in &ids[..2] {
        assert!(
            !support::directory(dir.path())
                .join(gone.as_str())
                .join("backup.age")
                .exists()
        );
    }
    store.close().await;
    db.cleanup().await;
}

/// A server whose configuration names these directory targets: its schedule makes the
/// missed backup at once.
async fn server_backing_up_to(
    keys: &support::Keys,
    targets: [(&'static str, std::path::PathBuf); 2],
) -> TestServer {
    let recipient = keys.recipient.clone();
    TestServer::builder()
        .configure(move |raw| {
            raw.backup.recipients = vec![recipient];
            raw.backup.retry_delays_secs = Vec::new();
            for (name, path) in targets {
                raw.backup.targets.push(termin::config::RawTarget {
                    name: name.into(),
                    kind: "directory".into(),
                    path: Some(path),
                    ..Default::default()
                });
            }
        })
        .start()
        .await
}

async fn readyz(server: &TestServer) -> Value {
    let answer = server.get("/readyz").await;
    assert_eq!(answer.status(), 200);
    answer.json::<Value>().await.unwrap()["backup"].clone()
}

/// Without targets `/readyz` says unprotected; with two the server's schedule backs up at
/// once and the status turns protected, shown on the practice's page and in the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readyz_and_the_backups_page_say_whether_the_installation_is_protected() {
    let bare = TestServer::start().await;
    assert_eq!(
        readyz(&bare).await,
        serde_json::json!({"status": "unprotected", "problems": ["too_few_targets"]})
    );
    bare.stop().await.unwrap().cleanup().await;

    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let (first, second) = (dir.path().join("one"), dir.path().join("two"));
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    let server = server_backing_up_to(&keys, [("disk-a", first), ("disk-b", second)]).await;
    server.with_practice().await;
    let mut status = readyz(&server).await;
    for _ in 0..300 {
        if status["status"] == "protected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = readyz(&server).await;
    }
    assert_eq!(
        status,
        serde_json::json!({"status": "protected", "problems": []})
    );
    let owner = server.signed_in_owner(CHROME).await;
    let page = owner.get("/practices/praxis-am-see/backups").await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("data-status=\"protected\""), "{html}");
    assert!(html.contains("disk-a") && html.contains("disk-b"), "{html}");
    let api = owner.get("/api/v1/backups/status").await;
    assert_eq!(api.status, 200);
    assert_eq!(api.body["status"], "protected");
    assert_eq!(api.body["targets"].as_array().unwrap().len(), 2);
    assert!(
        api.body["recent"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true)
    );

    let assistant = server
        .join_practice(
            &owner,
            ("mia@praxis.example", "+4915112340031", "assistant"),
            "Kaffee&Kuchen2026",
        )
        .await;
    assert_eq!(assistant.get("/api/v1/backups/status").await.status, 403);

    // A day and a half later without a new backup, the status says so.
    server.clock.advance(SignedDuration::from_hours(37));
    let stale = readyz(&server).await;
    assert_eq!(stale["status"], "unprotected");
    assert_eq!(stale["problems"], serde_json::json!(["stale", "stale"]));
    let owner = server.signed_in_owner(CHROME).await;
    let page = owner.get("/practices/praxis-am-see/backups").await;
    let html = page.body.as_str().unwrap();
    assert!(html.contains("data-status=\"unprotected\""), "{html}");
    assert!(
        html.contains("Die letzte Sicherung auf disk-a ist vom"),
        "{html}"
    );
    server.stop().await.unwrap().cleanup().await;
}

/// Each scratch database is its own, empty, in-memory database: what one restore test loads
/// no other sees, and its one connection keeps it alive across queries.
#[tokio::test]
async fn each_scratch_database_is_private_and_kept_across_queries() {
    let scratch = Store::scratch_in_memory().await.unwrap();
    assert!(!scratch.holds_data().await.unwrap());
    scratch.migrate().await.unwrap();
    assert_eq!(
        scratch.schema_version().await.unwrap(),
        scratch.latest_schema_version()
    );
    let other = Store::scratch_in_memory().await.unwrap();
    assert!(
        other.schema_version().await.is_err(),
        "another scratch database has no tables at all"
    );
    other.close().await;
    assert_eq!(
        scratch.schema_version().await.unwrap(),
        scratch.latest_schema_version(),
        "still there on the next query"
    );
    scratch.close().await;
}

/// A directory target that is not there (an unmounted share) does not stop the server: the
/// scheduled backup reaches the other target, and the missing one is reported as failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_directory_is_a_failing_target_not_a_server_that_cannot_start() {
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let (present, missing) = (dir.path().join("present"), dir.path().join("nas/termin"));
    std::fs::create_dir_all(&present).unwrap();
    let server = server_backing_up_to(&keys, [("disk", present), ("nas", missing)]).await;
    let expected = serde_json::json!({"status": "unprotected", "problems": ["never_succeeded", "last_run_failed"]});
    let mut status = readyz(&server).await;
    for _ in 0..300 {
        if status == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = readyz(&server).await;
    }
    assert_eq!(status, expected);
    let (health, facts) = server.services.backup_health().await.unwrap();
    assert!(!health.is_protected());
    assert!(
        facts[0].last_success.is_some(),
        "the present disk got the backup"
    );
    assert_eq!(
        facts[1]
            .last_failure
            .as_ref()
            .map(|(_, code)| code.as_str()),
        Some(
            "upload_failed: directory_missing"
                .replace("upload_failed: ", "")
                .as_str()
        )
    );
    assert!(
        !dir.path().join("nas").exists(),
        "nothing was created in its place"
    );
    server.stop().await.unwrap().cleanup().await;
}

/// A backup whose manifest cannot be read is neither listed as good nor ever deleted as an
/// unfinished one: the check reports it, retention leaves it for the operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreadable_manifest_is_reported_and_never_deleted() {
    let db = TestDb::new(TestBackend::Sqlite).await;
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let clock = ManualClock::new(test_epoch());
    let backups = Backups::new(
        store.clone(),
        Arc::new(clock.clone()),
        settings(dir.path(), &keys, Retention::checked(1, 0, 0).unwrap()),
    );
    let first = backups.run().await.unwrap().manifest.id;
    let manifest = support::directory(dir.path())
        .join(first.as_str())
        .join("manifest.json");
    std::fs::write(&manifest, b"{ not json").unwrap();
    let outcomes = backups.verify(None).await;
    assert_eq!(outcomes[0].result, Err("manifest_unreadable".to_owned()));
    assert_eq!(outcomes[0].backup.as_ref(), Some(&first));
    // Days later, with newer verified backups and a rule that keeps one day, it is still there.
    for _ in 0..3 {
        clock.advance(SignedDuration::from_hours(48));
        backups.run().await.unwrap();
    }
    let listing = backups.settings.targets[0].list().await.unwrap();
    assert_eq!(listing.damaged, std::slice::from_ref(&first));
    assert_eq!(listing.complete.len(), 1, "retention kept one good backup");
    assert!(manifest.exists());
    store.close().await;
    db.cleanup().await;
}
