//! Benchmark (not a test) for issue 8: how long do a backup and a restore take for a
//! database with one million appointments?
//!
//! `cargo bench -p termin --bench backup_restore` (optionally `-- COUNT`, default
//! 1 000 000 appointments). A practice is set up through Termin's API (two practitioners, a
//! visit type); then COUNT appointments, one history entry each and COUNT / 20 patients are
//! inserted directly. Measured: `Backups::run` to a directory target (snapshot, gzip, age,
//! the restore test into a scratch database in memory, upload, read back) and
//! `Backups::restore` into an empty SQLite file and — when `TERMIN_TEST_POSTGRES_URL` is
//! set — into an empty PostgreSQL database, then a backup of that PostgreSQL database.
//! Results go to docs/BENCHMARKS.md by hand, with the machine and date.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark program: a failed step ends it, results are printed"
)]

use std::sync::Arc;
use std::time::Instant;

use age::secrecy::ExposeSecret;
use sqlx::Connection;
use termin_backup::{BackupSettings, Backups, Identities, Recipients, Target};
use termin_domain::SystemClock;
use termin_domain::backup::{DailyAt, Retention, TargetName, WeeklyAt};
use termin_domain::org::TimeZoneName;
use termin_storage::Store;
use termin_testkit::{CHROME, TestBackend, TestDb, TestServer, calendar};

const BATCH: usize = 400;

fn settings(dir: &std::path::Path, recipient: &str, signing_keys: Vec<String>) -> BackupSettings {
    std::fs::create_dir_all(dir.join("target")).unwrap();
    BackupSettings {
        recipients: Recipients::parse(&[recipient.to_owned()]).unwrap(),
        targets: vec![
            Target::directory(TargetName::parse("local").unwrap(), &dir.join("target")).unwrap(),
        ],
        time_zone: TimeZoneName::parse("Europe/Berlin").unwrap(),
        schedule: DailyAt::default(),
        verify_schedule: WeeklyAt::default(),
        retention: Retention::default(),
        retry_delays: Vec::new(),
        alert_emails: Vec::new(),
        signing_keys,
        work_dir: dir.join("work"),
        verify_identity: None,
    }
}

/// Inserts `count` appointments (with one history entry each) and `count / 20` patients.
async fn fill(url: &str, count: usize) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let org: String = sqlx::query_scalar("SELECT id FROM organizations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let practitioners: Vec<String> = sqlx::query_scalar("SELECT id FROM practitioners ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let visit_type: String = sqlx::query_scalar("SELECT id FROM visit_types")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let patients = (count / 20).max(1);
    let patient_ids: Vec<String> = (0..patients)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let now = 1_774_396_800_000_000i64;
    let mut tx = conn.begin().await.unwrap();
    for chunk in patient_ids.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO patients (id, org_id, given_name, family_name, birth_date, phone, \
             family_key, family_plain, given_key, given_plain, created_at, updated_at) VALUES ",
        );
        for (i, _) in chunk.iter().enumerate() {
            let b = i * 3;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, 'Jürgen', ${}, '1970-05-04', '+4915199887766', 'mueller', 'muller', 'juergen', 'jurgen', {now}, {now})",
                b + 1,
                b + 2,
                b + 3
            ));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, id) in chunk.iter().enumerate() {
            query = query
                .bind(id.clone())
                .bind(org.clone())
                .bind(format!("Müller-{i}"));
        }
        query.execute(&mut *tx).await.unwrap();
    }
    let slot = 30 * 60 * 1_000_000i64;
    let ids: Vec<String> = (0..count)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    for (n, chunk) in ids.chunks(BATCH).enumerate() {
        let mut sql = String::from(
            "INSERT INTO appointments (id, org_id, practitioner_id, visit_type_id, patient_id, \
             start_at, end_at, block_start, block_end, status, visit_reason, source, created_at, \
             updated_at) VALUES ",
        );
        let mut changes = String::from(
            "INSERT INTO appointment_changes (org_id, appointment_id, seq, at, change) VALUES ",
        );
        for (i, id) in chunk.iter().enumerate() {
            let k = n * BATCH + i;
            let start = now + (k as i64 / practitioners.len() as i64) * slot;
            let b = i * 5;
            if i > 0 {
                sql.push(',');
                changes.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, {start}, {}, {start}, {}, 'booked', 'Kontrolle', 'staff', {now}, {now})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                start + slot,
                start + slot
            ));
            changes.push_str(&format!(
                "('{org}', '{id}', 1, {now}, '{{\"kind\":\"booked\"}}')"
            ));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, id) in chunk.iter().enumerate() {
            let k = n * BATCH + i;
            query = query
                .bind(id.clone())
                .bind(org.clone())
                .bind(practitioners[k % practitioners.len()].clone())
                .bind(visit_type.clone())
                .bind(patient_ids[k % patients].clone());
        }
        query.execute(&mut *tx).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(changes))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    conn.close().await.unwrap();
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let server = TestServer::builder()
        .backend(TestBackend::Sqlite)
        .start()
        .await;
    server.with_practice().await;
    let owner = server.signed_in_owner(CHROME).await;
    calendar::set_up(&owner).await;
    let db = server.stop().await.unwrap();
    let filled = Instant::now();
    fill(db.url(), count).await;
    println!(
        "filled {count} appointments in {:.1} s",
        filled.elapsed().as_secs_f64()
    );
    let db_file = std::fs::metadata(&db.url()["sqlite://".len()..])
        .map(|m| m.len())
        .unwrap_or(0);

    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let identity_file = dir.path().join("identity.txt");
    std::fs::write(&identity_file, identity.to_string().expose_secret()).unwrap();
    let recipient = identity.to_public().to_string();

    let store = db.store().await;
    let backups = Backups::new(
        store.clone(),
        Arc::new(SystemClock),
        settings(dir.path(), &recipient, Vec::new()),
    );
    let started = Instant::now();
    let report = backups.run().await.unwrap();
    let backup_secs = started.elapsed().as_secs_f64();
    assert!(report.all_ok());
    let rows: u64 = report.manifest.row_counts.values().sum();
    println!(
        "| backup of SQLite ({} file) | {rows} rows | {} encrypted | {backup_secs:.1} s |",
        mb(db_file),
        mb(report.manifest.object_bytes)
    );
    let signing_key = store.backup_signing_public_key().await.unwrap().unwrap();
    store.close().await;
    // Restores trust the installation's key, as an operator who noted it.
    let backups = Backups::new(
        db.store().await,
        Arc::new(SystemClock),
        settings(dir.path(), &recipient, vec![signing_key]),
    );

    let into_sqlite = TestDb::new(TestBackend::Sqlite).await;
    let into = into_sqlite.connect().await;
    let restore = |into: Store, label: &'static str| {
        let (backups, id, identity_file) = (&backups, &report.manifest.id, &identity_file);
        async move {
            let started = Instant::now();
            backups
                .restore(
                    "local",
                    id,
                    Identities::from_file(identity_file).unwrap(),
                    &into,
                    false,
                )
                .await
                .unwrap();
            println!(
                "| restore into empty {label} | {rows} rows | | {:.1} s |",
                started.elapsed().as_secs_f64()
            );
        }
    };
    restore(into.clone(), "SQLite").await;
    into.close().await;

    if let Some(pg) = TestDb::postgres_if_configured().await {
        let into: Store = pg.connect().await;
        restore(into.clone(), "PostgreSQL").await;
        let pg_backups = Backups::new(
            into.clone(),
            Arc::new(SystemClock),
            settings(&dir.path().join("pg"), &recipient, Vec::new()),
        );
        let started = Instant::now();
        let pg_report = pg_backups.run().await.unwrap();
        println!(
            "| backup of PostgreSQL | {} rows | {} encrypted | {:.1} s |",
            pg_report.manifest.row_counts.values().sum::<u64>(),
            mb(pg_report.manifest.object_bytes),
            started.elapsed().as_secs_f64()
        );
        assert_eq!(
            pg_report.manifest.content_sha256,
            report.manifest.content_sha256
        );
        into.close().await;
        pg.cleanup().await;
    }
    into_sqlite.cleanup().await;
    db.cleanup().await;
}
