//! Backups as an operator runs them: `termin backup run|list|verify` and `termin restore`,
//! with a directory and a real S3-compatible server (moto), the standard `age` tool, damaged
//! objects, a target that is down and a run killed half-way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

#[path = "support/backup.rs"]
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{BUCKET, Keys, OPERATOR, S3At};
use termin_backup::manifest::Manifest;
use termin_backup::signing::Signer;
use termin_storage::{DatabaseUrl, PoolSettings, Store};
use termin_testkit::s3::S3Server;
use termin_testkit::{TestBackend, TestDb};

fn termin(dir: &Path, config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_termin"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERMIN_LOG_LEVEL", "warn")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("termin runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn backup_run(dir: &Path, config: &Path) -> (Option<i32>, String, String) {
    let out = run(termin(dir, config).args(["backup", "run"]));
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

fn list(dir: &Path, config: &Path) -> Vec<Value> {
    let out = run(termin(dir, config).args(["backup", "list", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The installation's public signing key, as the operator notes it.
fn signing_key(dir: &Path, config: &Path) -> String {
    let out = run(termin(dir, config).args(["backup", "key"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_owned();
    assert_eq!(key.len(), 64, "{key}");
    key
}

/// `termin restore`, trusting the installation's signing key as a noted key.
fn restore(
    dir: &Path,
    config: &Path,
    keys: &Keys,
    target: &str,
    id: &str,
    url: &str,
    force: bool,
) -> Output {
    let key = signing_key(dir, config);
    restore_trusting(dir, config, keys, (target, id, url), force, Some(&key))
}

fn restore_trusting(
    dir: &Path,
    config: &Path,
    keys: &Keys,
    (target, id, url): (&str, &str, &str),
    force: bool,
    signing_key: Option<&str>,
) -> Output {
    let mut cmd = termin(dir, config);
    cmd.args(["restore", "--target", target, "--backup", id, "--identity"])
        .arg(&keys.identity_file)
        .args(["--database-url", url]);
    if force {
        cmd.arg("--force");
    }
    if let Some(key) = signing_key {
        cmd.args(["--signing-key", key]);
    }
    run(&mut cmd)
}

async fn content_hash(url: &str) -> (String, u64) {
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap(), &PoolSettings::default())
        .await
        .unwrap();
    let (hash, counts) = termin_backup::content_hash(&store).await.unwrap();
    store.close().await;
    (hash, counts.values().sum())
}

fn fresh_sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

fn object_path(dir: &Path, id: &str) -> PathBuf {
    support::directory(dir).join(id).join("backup.age")
}

/// A practice's database with its backup configuration (a directory target, and S3 when
/// given) in a fresh folder.
struct Installation {
    db: TestDb,
    dir: tempfile::TempDir,
    keys: Keys,
    config: PathBuf,
}

async fn installation(s3: Option<&S3At>) -> Installation {
    let db = support::populated(TestBackend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let config = support::config(dir.path(), db.url(), &keys, s3);
    Installation {
        db,
        dir,
        keys,
        config,
    }
}

/// `termin backup run` that must succeed; its id.
fn backed_up(dir: &tempfile::TempDir, config: &Path) -> String {
    let (code, stdout, stderr) = backup_run(dir.path(), config);
    assert_eq!(code, Some(0), "{stderr}");
    stdout.trim().to_owned()
}

fn age_available() -> bool {
    termin_testkit::s3::required(
        "AGE",
        Command::new("age")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "the age tool is not installed (apt-get install age)",
    )
}

/// The whole drill: back up to a directory and S3, lose the server, restore on a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_to_a_directory_and_s3_then_restore_everything_on_a_new_server() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    s3.create_bucket(BUCKET).await;
    let db = support::populated(TestBackend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let config = support::config(
        dir.path(),
        db.url(),
        &keys,
        Some(&S3At {
            endpoint: s3.endpoint(),
        }),
    );

    // What the database holds when the backup is made (the run then records itself).
    let original = content_hash(db.url()).await;
    let (code, stdout, stderr) = backup_run(dir.path(), &config);
    assert_eq!(code, Some(0), "{stderr}");
    let id = stdout.trim().to_owned();
    assert!(termin_domain::backup::BackupId::parse(&id).is_ok(), "{id}");
    assert!(stderr.contains("local: stored and read back"), "{stderr}");
    assert!(stderr.contains("offsite: stored and read back"), "{stderr}");

    // Both targets hold it, complete and verified, listed in the contract's shape.
    let listed = list(dir.path(), &config);
    assert_eq!(listed.len(), 2, "{listed:?}");
    for entry in &listed {
        assert_eq!(entry["id"], id.as_str());
        assert_eq!(entry["verified"], true);
        assert!(entry["bytes"].as_u64().unwrap() > 0);
        assert!(entry["created_at"].as_str().unwrap().ends_with('Z'));
        let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["bytes", "created_at", "id", "target", "verified"]);
    }
    let targets: Vec<&str> = listed
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["local", "offsite"]);
    let mut in_bucket = s3.keys(BUCKET).await;
    in_bucket.sort();
    assert_eq!(
        in_bucket,
        [format!("{id}/backup.age"), format!("{id}/manifest.json")]
    );
    // What lies on the target is ciphertext: no patient name, in any form.
    let stored = s3.object(BUCKET, &format!("{id}/backup.age")).await;
    assert!(stored.starts_with(b"age-encryption.org/v1\n"));
    let plain_name = "Müller".as_bytes();
    assert!(!stored.windows(plain_name.len()).any(|w| w == plain_name));
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            support::directory(dir.path())
                .join(&id)
                .join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["object_bytes"], stored.len());
    assert_eq!(manifest["recipients"], serde_json::json!([keys.recipient]));
    assert_eq!(manifest["restore_tested"], true);
    assert_eq!(manifest["row_counts"]["appointments"], 3);
    assert_eq!(manifest["row_counts"]["patients"], 4);
    assert!(
        manifest["row_counts"]["appointment_changes"]
            .as_u64()
            .unwrap()
            > 1500
    );

    // "Lose the server": a new data directory and a new, empty database.
    let new_server = tempfile::tempdir().unwrap();
    let new_db = fresh_sqlite(new_server.path(), "restored.db");
    // Without the noted signing key the backup is not trusted, and nothing is written.
    let untrusted = restore_trusting(
        new_server.path(),
        &config,
        &keys,
        ("offsite", &id, &new_db),
        false,
        None,
    );
    assert_eq!(untrusted.status.code(), Some(1));
    let key = signing_key(dir.path(), &config);
    let message = text(&untrusted.stderr);
    assert!(
        message.contains(&format!("signed by key {key}, which is not trusted")),
        "{message}"
    );
    assert_eq!(manifest["signing_key"], key.as_str());
    let out = restore(
        new_server.path(),
        &config,
        &keys,
        "offsite",
        &id,
        &new_db,
        false,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!("restored backup {id}")),
        "{report}"
    );
    assert!(report.contains("  appointments: 3"), "{report}");
    assert_eq!(
        content_hash(&new_db).await,
        original,
        "the same rows, byte for byte"
    );

    // The restored database serves: `termin migrate` finds nothing to do.
    let migrated =
        run(termin(new_server.path(), &config).args(["--database-url", &new_db, "migrate"]));
    assert_eq!(
        migrated.status.code(),
        Some(0),
        "{}",
        text(&migrated.stderr)
    );

    // A database that holds data is refused without --force, and left as it was …
    let again = restore(
        new_server.path(),
        &config,
        &keys,
        "local",
        &id,
        &new_db,
        false,
    );
    assert_eq!(again.status.code(), Some(1));
    let message = text(&again.stderr);
    assert!(message.contains("already holds data"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert_eq!(content_hash(&new_db).await, original);
    // … and replaced with it.
    let forced = restore(
        new_server.path(),
        &config,
        &keys,
        "local",
        &id,
        &new_db,
        true,
    );
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert!(
        text(&forced.stdout).contains("replaced"),
        "{}",
        text(&forced.stdout)
    );
    assert_eq!(content_hash(&new_db).await, original);

    // `backup verify` with the identity restores the newest of each target into a scratch
    // database; without it, it compares the stored hash.
    let verified = run(termin(dir.path(), &config)
        .args(["backup", "verify", "--identity"])
        .arg(&keys.identity_file));
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    let said = text(&verified.stdout);
    assert_eq!(
        said.matches("rows and content hash match").count(),
        2,
        "{said}"
    );
    let hashed = run(termin(dir.path(), &config).args(["backup", "verify"]));
    assert_eq!(hashed.status.code(), Some(0), "{}", text(&hashed.stderr));
    assert_eq!(
        text(&hashed.stdout)
            .matches("stored object matches its manifest")
            .count(),
        2
    );
    db.cleanup().await;
}

/// The standard `age` tool decrypts a backup without Termin; inside is gzip'd JSON lines
/// whose content hash is the manifest's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_age_tool_decrypts_a_backup_without_termin() {
    if !age_available() {
        return;
    }
    let Installation {
        db,
        dir,
        keys,
        config,
    } = installation(None).await;
    let id = backed_up(&dir, &config);
    let id = id.as_str();

    let decrypted = Command::new("age")
        .args(["--decrypt", "--identity"])
        .arg(&keys.identity_file)
        .arg(object_path(dir.path(), id))
        .output()
        .unwrap();
    assert!(decrypted.status.success(), "{}", text(&decrypted.stderr));
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&decrypted.stdout[..])
        .read_to_string(&mut plain)
        .unwrap();
    let lines: Vec<&str> = plain.lines().collect();
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["termin_backup"], 1);
    assert_eq!(first["id"], id);
    assert_eq!(first["source"], "sqlite");
    let last: Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            support::directory(dir.path())
                .join(id)
                .join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(last["content_sha256"], manifest["content_sha256"]);
    assert!(
        plain.contains("\"Müller\""),
        "the patient is in the plaintext"
    );
    // The content hash is SHA-256 over the table and row lines, as documented.
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for line in &lines[1..lines.len() - 1] {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    assert_eq!(last["content_sha256"], hex::encode(hasher.finalize()));
    db.cleanup().await;
}

/// What an attacker who can write to a target does with a backup, step by step. A flipped
/// byte: the hash check refuses it and the weekly check marks it unverified. The manifest's
/// hash fixed to match: its signature no longer holds. Re-signed with the attacker's own
/// key: not a trusted key. And even with the installation's own key (a stolen server), a
/// damaged object or changed content is refused at the end of the stream — nothing is
/// committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_backups_are_refused_and_nothing_is_written() {
    let Installation {
        db,
        dir,
        keys,
        config,
    } = installation(None).await;
    let id = backed_up(&dir, &config);
    let object = object_path(dir.path(), &id);
    let original = std::fs::read(&object).unwrap();
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&object, &flipped).unwrap();
    let target_db = fresh_sqlite(dir.path(), "target.db");
    let refused = |what: &str, expected: &str| {
        let out = restore(dir.path(), &config, &keys, "local", &id, &target_db, false);
        assert_eq!(out.status.code(), Some(1), "{what}");
        let message = text(&out.stderr);
        assert!(
            message.contains("nothing was restored"),
            "{what}: {message}"
        );
        assert!(message.contains(expected), "{what}: {message}");
    };
    refused("flipped byte", "hash does not match its manifest");
    assert!(!holds_data(&target_db).await);

    let checked = run(termin(dir.path(), &config).args(["backup", "verify"]));
    assert_eq!(checked.status.code(), Some(1));
    assert!(
        text(&checked.stderr).contains("hash_mismatch"),
        "{}",
        text(&checked.stderr)
    );
    assert_eq!(list(dir.path(), &config)[0]["verified"], false);

    let manifest_path = support::directory(dir.path())
        .join(&id)
        .join("manifest.json");
    let genuine: Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let write_manifest = |manifest: &Manifest| {
        std::fs::write(&manifest_path, serde_json::to_vec(manifest).unwrap()).unwrap();
    };
    use sha2::Digest;
    let mut fixed = genuine.clone();
    fixed.object_sha256 = hex::encode(sha2::Sha256::digest(&flipped));
    write_manifest(&fixed);
    refused("hash fixed, not re-signed", "signature does not match");

    let attacker = Signer::generate().unwrap();
    attacker.sign(&mut fixed).unwrap();
    write_manifest(&fixed);
    refused("re-signed by another key", "which is not trusted");

    // With the installation's own key: age's authentication refuses the flipped byte …
    let own = own_signer(&db).await;
    own.sign(&mut fixed).unwrap();
    write_manifest(&fixed);
    refused("validly signed, damaged object", "fails authentication");
    assert!(!holds_data(&target_db).await);

    // … and changed content under the original trailer is refused at its end, after every
    // row was already inserted: the transaction does not commit.
    let mut lines = plaintext_lines(&keys, &original);
    let row = lines.iter().position(|l| l.contains("\"Müller\"")).unwrap();
    lines[row] = lines[row].replace("\"Müller\"", "\"Mallory\"");
    let forged = encrypted(&keys, &lines);
    std::fs::write(&object, &forged).unwrap();
    let mut changed = genuine.clone();
    changed.object_sha256 = hex::encode(sha2::Sha256::digest(&forged));
    changed.object_bytes = forged.len() as u64;
    own.sign(&mut changed).unwrap();
    write_manifest(&changed);
    refused("changed row", "content hash does not match");
    assert!(!holds_data(&target_db).await, "nothing committed");
    db.cleanup().await;
}

async fn holds_data(url: &str) -> bool {
    let store = Store::connect(&DatabaseUrl::parse(url).unwrap(), &PoolSettings::default())
        .await
        .unwrap();
    let holds = store.holds_data().await.unwrap();
    store.close().await;
    holds
}

/// The installation's own signing key, read from its database (as a thief of the server
/// could).
async fn own_signer(db: &TestDb) -> Signer {
    let private = db
        .raw_strings("SELECT private_key FROM backup_signing_key")
        .await[0]
        .clone()
        .unwrap();
    Signer::from_private_hex(&private).unwrap()
}

fn identity(keys: &Keys) -> age::x25519::Identity {
    std::fs::read_to_string(&keys.identity_file)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .parse()
        .unwrap()
}

fn plaintext_lines(keys: &Keys, ciphertext: &[u8]) -> Vec<String> {
    let plain = age::decrypt(&identity(keys), ciphertext).unwrap();
    let mut text_plain = String::new();
    flate2::read::GzDecoder::new(&plain[..])
        .read_to_string(&mut text_plain)
        .unwrap();
    text_plain.lines().map(str::to_owned).collect()
}

fn encrypted(keys: &Keys, lines: &[String]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, (lines.join("\n") + "\n").as_bytes()).unwrap();
    age::encrypt(&identity(keys).to_public(), &gz.finish().unwrap()).unwrap()
}

/// The S3 target is down: the backup completes on the directory, the run exits 1 naming the
/// failed target, and the operator and the practice owner are alerted through the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_target_down_the_other_still_gets_the_backup_and_people_are_told() {
    let db = support::populated(TestBackend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let down = S3At {
        endpoint: format!("http://127.0.0.1:{}", support::closed_port()),
    };
    let config = support::config(dir.path(), db.url(), &keys, Some(&down));
    let (code, stdout, stderr) = backup_run(dir.path(), &config);
    assert_eq!(code, Some(1), "{stderr}");
    let id = stdout.trim().to_owned();
    assert!(!id.is_empty(), "the id is printed even so");
    assert!(stderr.contains("local: stored and read back"), "{stderr}");
    assert!(
        stderr.contains("offsite: FAILED after 2 attempt(s): upload_failed: unreachable"),
        "{stderr}"
    );
    assert!(stderr.contains("the backup failed on offsite"), "{stderr}");

    // The directory's copy is complete and restores.
    let target_db = fresh_sqlite(dir.path(), "target.db");
    let out = restore(dir.path(), &config, &keys, "local", &id, &target_db, false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Recorded per target, and alerts queued for the operator and the owner.
    let runs = db
        .raw_strings("SELECT target || ':' || ok || ':' || COALESCE(error, '') FROM backup_runs ORDER BY target")
        .await;
    assert_eq!(
        runs,
        [
            Some("local:1:".to_owned()),
            Some("offsite:0:upload_failed: unreachable".to_owned())
        ]
    );
    let alerted = db
        .raw_strings("SELECT recipient FROM outbox WHERE subject LIKE 'Termin: backup % failed on 1 target(s)' ORDER BY recipient")
        .await;
    assert_eq!(
        alerted,
        [
            Some(OPERATOR.to_owned()),
            Some(termin_testkit::OWNER_EMAIL.to_owned())
        ]
    );
    // `backup list` reports the unreachable target and exits 1, still listing the other.
    let out = run(termin(dir.path(), &config).args(["backup", "list", "--json"]));
    assert_eq!(out.status.code(), Some(1));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        text(&out.stderr).contains("offsite"),
        "{}",
        text(&out.stderr)
    );
    db.cleanup().await;
}

/// Runs killed at several moments: whatever `backup list` shows afterwards is complete and
/// restores; a backup without its manifest is never listed or restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_killed_half_way_is_never_taken_for_a_complete_one() {
    let Installation {
        db,
        dir,
        keys,
        config,
    } = installation(None).await;
    let mut killed_while_running = 0;
    for delay_ms in [20u64, 60, 120, 200, 300, 450, 700] {
        let mut child = termin(dir.path(), &config)
            .args(["backup", "run"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            killed_while_running += 1;
        }
        child.kill().ok();
        child.wait().unwrap();
    }
    assert!(killed_while_running > 0, "at least one run was cut off");
    for entry in list(dir.path(), &config) {
        let id = entry["id"].as_str().unwrap();
        let target_db = fresh_sqlite(dir.path(), &format!("{id}.db"));
        let out = restore(dir.path(), &config, &keys, "local", id, &target_db, false);
        assert_eq!(
            out.status.code(),
            Some(0),
            "listed {id}: {}",
            text(&out.stderr)
        );
    }
    // Deterministically: a complete backup whose manifest is gone is an unfinished one.
    let (code, stdout, stderr) = backup_run(dir.path(), &config);
    assert_eq!(code, Some(0), "{stderr}");
    let id = stdout.trim().to_owned();
    std::fs::remove_file(
        support::directory(dir.path())
            .join(&id)
            .join("manifest.json"),
    )
    .unwrap();
    assert!(
        list(dir.path(), &config)
            .iter()
            .all(|e| e["id"] != id.as_str())
    );
    let target_db = fresh_sqlite(dir.path(), "unfinished.db");
    let out = restore(dir.path(), &config, &keys, "local", &id, &target_db, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("has no complete backup {id}")),
        "{}",
        text(&out.stderr)
    );
    // The work directory holds no plaintext: only the ciphertext of runs that were killed
    // (removed by a later run once a day old).
    let leftovers: Vec<String> = std::fs::read_dir(dir.path().join("data/backup-work"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for name in &leftovers {
        assert!(name.ends_with(".age.partial"), "{leftovers:?}");
        let bytes = std::fs::read(dir.path().join("data/backup-work").join(name)).unwrap();
        assert!(
            bytes.is_empty() || bytes.starts_with(b"age-encryption.org/v1\n"),
            "{name}"
        );
    }
    db.cleanup().await;
}

/// A backup from a newer Termin (a schema this binary does not know) is refused with a
/// clear message, before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_an_unknown_schema_version_is_refused() {
    let Installation {
        db,
        dir,
        keys,
        config,
    } = installation(None).await;
    let id = backed_up(&dir, &config);

    // Re-made as a newer Termin would: the same rows, schema version 999, signed.
    let object = object_path(dir.path(), &id);
    let mut lines = plaintext_lines(&keys, &std::fs::read(&object).unwrap());
    let mut first: Value = serde_json::from_str(&lines[0]).unwrap();
    first["schema_version"] = 999.into();
    lines[0] = first.to_string();
    let forged = encrypted(&keys, &lines);
    std::fs::write(&object, &forged).unwrap();
    let manifest_path = support::directory(dir.path())
        .join(&id)
        .join("manifest.json");
    let mut manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    use sha2::Digest;
    manifest.schema_version = 999;
    manifest.object_sha256 = hex::encode(sha2::Sha256::digest(&forged));
    manifest.object_bytes = forged.len() as u64;
    own_signer(&db).await.sign(&mut manifest).unwrap();
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let target_db = fresh_sqlite(dir.path(), "target.db");
    let out = restore(dir.path(), &config, &keys, "local", &id, &target_db, false);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(
        message.contains("schema version 999, newer than this termin knows"),
        "{message}"
    );
    db.cleanup().await;
}

/// `config check` shows the section with the S3 secret redacted; a bad recipient is a
/// configuration error naming the key (exit 2).
#[test]
fn backup_configuration_is_checked_and_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let keys = support::keys(dir.path());
    let url = fresh_sqlite(dir.path(), "c.db");
    let config = support::config(
        dir.path(),
        &url,
        &keys,
        Some(&S3At {
            endpoint: "http://127.0.0.1:9".into(),
        }),
    );
    let out = run(termin(dir.path(), &config).args(["config", "check"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("secret_access_key = \"***\""), "{shown}");
    assert!(
        !shown.contains(termin_testkit::s3::SECRET_ACCESS_KEY),
        "{shown}"
    );
    assert!(shown.contains(&keys.recipient), "{shown}");

    let bad = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&keys.recipient, "AGE-SECRET-KEY-1QQQ");
    std::fs::write(&config, bad).unwrap();
    let out = run(termin(dir.path(), &config).args(["config", "check"]));
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out.stderr);
    assert!(message.contains("`backup.recipients`"), "{message}");
    assert!(message.contains("never belongs on the server"), "{message}");
    assert!(message.contains("entry 0"), "{message}");
    assert!(
        !message.contains("AGE-SECRET-KEY-1QQQ"),
        "a pasted identity is not echoed: {message}"
    );
}
