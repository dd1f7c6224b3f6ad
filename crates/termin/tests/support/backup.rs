//! Shared by the backup tests: a database with a practice and its calendar in it, age keys,
//! and a configuration with a directory and an S3 target.
#![allow(dead_code, reason = "each test file uses part of the support code")]

use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use termin_testkit::calendar;
use termin_testkit::{CHROME, TestBackend, TestDb, TestServer};

pub const BUCKET: &str = "termin-backups";
pub const OPERATOR: &str = "ops@betreiber.example";

/// A database holding a practice, two practitioners, a visit type, a patient with umlauts
/// and three appointments — written by Termin itself, through its API — plus rows that test
/// the snapshot's order and batching: three patients whose ids sort differently bytewise
/// than in a locale's collation (`B…` < `a…` < `ä…`), and 1 500 history entries of one
/// appointment (more than one batch and one insert statement).
pub async fn populated(backend: TestBackend) -> TestDb {
    let server = TestServer::builder().backend(backend).start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(CHROME).await;
    let cal = calendar::set_up(&owner).await;
    for (dr, start) in [
        (&cal.dr_a, "2026-03-30T09:00"),
        (&cal.dr_b, "2026-03-30T10:00"),
        (&cal.dr_a, "2026-03-31T14:30"),
    ] {
        let booked = cal.book(&owner, dr, start).await;
        assert_eq!(booked.status, 201, "{:?}", booked.body);
    }
    let db = server.stop().await.expect("server stops");
    db.execute_raw(
        "INSERT INTO patients (id, org_id, given_name, family_name, birth_date, family_key, \
         family_plain, given_key, given_plain, created_at, updated_at) \
         SELECT v.id, o.id, 'Eva', v.name, '1980-01-01', 'x', 'x', 'eva', 'eva', 0, 0 \
         FROM organizations o, (SELECT 'B-upper' AS id, 'Berg' AS name \
           UNION ALL SELECT 'a-lower', 'Arnold' UNION ALL SELECT 'ä-umlaut', 'Ärger') v",
    )
    .await;
    db.execute_raw(
        "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 1501) \
         INSERT INTO appointment_changes (org_id, appointment_id, seq, at, change) \
         SELECT a.org_id, a.id, n.i, 0, '{\"kind\":\"note\"}' FROM n, \
           (SELECT org_id, id FROM appointments ORDER BY start_at LIMIT 1) a",
    )
    .await;
    db
}

/// An operator's key pair: the identity file (kept offline in real life) and the public key.
pub struct Keys {
    pub identity_file: PathBuf,
    pub recipient: String,
}

pub fn keys(dir: &Path) -> Keys {
    let identity = age::x25519::Identity::generate();
    let identity_file = dir.join("identity.txt");
    std::fs::write(
        &identity_file,
        format!(
            "# created by the test\n{}\n",
            identity.to_string().expose_secret()
        ),
    )
    .expect("identity written");
    Keys {
        identity_file,
        recipient: identity.to_public().to_string(),
    }
}

/// Where the S3 target is: moto's endpoint, or a port where nothing listens (target down).
pub struct S3At {
    pub endpoint: String,
}

/// A configuration file with the database, the recipient, a directory target `local` and,
/// when given, an S3 target `offsite`. Failed targets are retried once, at once.
pub fn config(dir: &Path, db_url: &str, keys: &Keys, s3: Option<&S3At>) -> PathBuf {
    let mut toml = format!(
        "database_url = \"{db_url}\"\n\n[backup]\nrecipients = [\"{}\"]\nretry_delays_secs = [0]\nalert_emails = [\"{OPERATOR}\"]\n\n[[backup.targets]]\nname = \"local\"\nkind = \"directory\"\npath = \"{}\"\n",
        keys.recipient,
        directory(dir).display()
    );
    if let Some(s3) = s3 {
        toml.push_str(&format!(
            "\n[[backup.targets]]\nname = \"offsite\"\nkind = \"s3\"\nbucket = \"{BUCKET}\"\nendpoint = \"{}\"\nregion = \"{}\"\naccess_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            s3.endpoint,
            termin_testkit::s3::REGION,
            termin_testkit::s3::ACCESS_KEY_ID,
            termin_testkit::s3::SECRET_ACCESS_KEY,
        ));
    }
    std::fs::create_dir_all(directory(dir)).expect("the target's folder");
    let path = dir.join("termin.toml");
    std::fs::write(&path, toml).expect("config written");
    path
}

/// The directory target's folder.
pub fn directory(dir: &Path) -> PathBuf {
    dir.join("backups")
}

/// A port on which nothing listens.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}
