//! Real peers for the transports: an aiosmtpd SMTP server and an HTTP server standing in
//! for an SMS gateway.
#![allow(dead_code, reason = "each test file uses part of the support code")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running aiosmtpd (see `smtp_server.py`), stopped on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

pub struct SmtpOptions<'a> {
    pub starttls: Option<(&'a Path, &'a Path)>,
    pub auth: Option<&'a str>,
}

impl SmtpServer {
    /// Starts the server, or returns `None` (test skipped) when Python's aiosmtpd is not
    /// installed and `TERMIN_TEST_REQUIRE_SMTP` is not `1`.
    pub fn start(options: SmtpOptions<'_>) -> Option<Self> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            if std::env::var("TERMIN_TEST_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
                panic!(
                    "TERMIN_TEST_REQUIRE_SMTP=1 but Python's aiosmtpd is missing (pip install aiosmtpd)"
                );
            }
            eprintln!("SKIPPED: Python's aiosmtpd is not installed; SMTP test not run");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--out")
            .arg(&out);
        if let Some((cert, key)) = options.starttls {
            cmd.arg("--starttls").arg(cert).arg(key);
        }
        if let Some(auth) = options.auth {
            cmd.arg("--auth").arg(auth);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "READY", "aiosmtpd started");
        Some(Self {
            child,
            port,
            out,
            _dir: dir,
        })
    }

    /// Every message the server accepted, as recorded by the script.
    pub fn received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the fake SMS gateway received.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    pub content_type: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// An HTTP server standing in for an SMS gateway. It answers `failures_first` requests
/// with the given error status, then 200.
#[derive(Clone)]
pub struct FakeGateway {
    pub url: String,
    requests: Arc<Mutex<Vec<GatewayRequest>>>,
}

#[derive(Clone)]
struct GatewayState {
    requests: Arc<Mutex<Vec<GatewayRequest>>>,
    remaining_failures: Arc<AtomicUsize>,
    failure: StatusCode,
}

async fn receive(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.requests.lock().unwrap().push(GatewayRequest {
        content_type: header("content-type").unwrap_or_default(),
        authorization: header("authorization"),
        body,
    });
    let failing = state
        .remaining_failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        state.failure
    } else {
        StatusCode::OK
    }
}

impl FakeGateway {
    pub async fn start(failures_first: usize, failure: StatusCode) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = GatewayState {
            requests: Arc::clone(&requests),
            remaining_failures: Arc::new(AtomicUsize::new(failures_first)),
            failure,
        };
        let app = axum::Router::new()
            .route("/send", axum::routing::post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, requests }
    }

    pub fn requests(&self) -> Vec<GatewayRequest> {
        self.requests.lock().unwrap().clone()
    }
}
