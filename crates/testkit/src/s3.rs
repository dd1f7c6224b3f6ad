//! A real S3-compatible server for backup tests: moto's server mode (PyPI `moto[server]`),
//! one process per test on a free port, with a bucket made for the test. With
//! `TERMIN_TEST_REQUIRE_S3=1` (set by CI) a missing moto fails the test instead of skipping.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY_ID: &str = "termin-test";
pub const SECRET_ACCESS_KEY: &str = "termin-test-secret";
pub const REGION: &str = "eu-central-1";

/// A running moto server, stopped on drop.
pub struct S3Server {
    child: Child,
    pub port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether a tool the tests need is there; panics when `TERMIN_TEST_REQUIRE_<what>=1`.
pub fn required(what: &str, available: bool, hint: &str) -> bool {
    if !available {
        if std::env::var(format!("TERMIN_TEST_REQUIRE_{what}")).is_ok_and(|v| v == "1") {
            panic!("TERMIN_TEST_REQUIRE_{what}=1 but it is missing: {hint}");
        }
        eprintln!("SKIPPED: {hint}");
    }
    available
}

impl S3Server {
    /// Starts moto on a free port, or `None` (test skipped) when it is not installed.
    pub async fn start() -> Option<Self> {
        let available = Command::new("moto_server")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !required(
            "S3",
            available,
            "moto_server is not installed (pip install 'moto[server]')",
        ) {
            return None;
        }
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = Self { child, port };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client.get(server.endpoint()).send().await.is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket (moto accepts unsigned requests).
    pub async fn create_bucket(&self, bucket: &str) {
        let status = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .body(format!(
                "<CreateBucketConfiguration><LocationConstraint>{REGION}</LocationConstraint></CreateBucketConfiguration>"
            ))
            .send()
            .await
            .expect("moto answers")
            .status();
        assert!(status.is_success(), "bucket created: {status}");
    }

    /// The names of every object in `bucket`, from moto's own listing.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let body = reqwest::Client::new()
            .get(format!("{}/{bucket}?list-type=2", self.endpoint()))
            .send()
            .await
            .expect("moto answers")
            .text()
            .await
            .expect("a listing");
        body.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// Reads an object.
    pub async fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        reqwest::Client::new()
            .get(format!("{}/{bucket}/{key}", self.endpoint()))
            .send()
            .await
            .expect("moto answers")
            .bytes()
            .await
            .expect("the object")
            .to_vec()
    }

    /// Overwrites an object (to damage a stored backup on purpose).
    pub async fn put_object(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let status = reqwest::Client::new()
            .put(format!("{}/{bucket}/{key}", self.endpoint()))
            .body(bytes)
            .send()
            .await
            .expect("moto answers")
            .status();
        assert!(status.is_success(), "object written: {status}");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
