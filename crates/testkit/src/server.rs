//! A real Termin server for tests: HTTPS on 127.0.0.1 port 0, its own data directory and
//! database, a manual clock, and a client that trusts exactly its certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use termin::config::{RawConfig, Settings};
use termin::{App, StartupInfo};
use termin_app::Services;
use termin_app::delivery::Deliverer;
use termin_domain::ManualClock;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{TestBackend, TestDb};

/// A change to the configuration before the server starts.
type Configure = Box<dyn FnOnce(&mut RawConfig) + Send>;

pub const OWNER_EMAIL: &str = "owner@praxis-am-see.example";
pub const OWNER_PHONE: &str = "+4915123456789";
pub const OWNER_PASSWORD: &str = "Kx7!vbnq-Ahorn";

pub struct TestServerBuilder {
    backend: TestBackend,
    db: Option<TestDb>,
    configure: Vec<Configure>,
}

pub struct TestServer {
    pub info: StartupInfo,
    pub clock: ManualClock,
    pub services: Services,
    pub deliverer: Deliverer,
    pub data_dir: PathBuf,
    db: Option<TestDb>,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _data: tempfile::TempDir,
}

impl TestServerBuilder {
    /// Uses this database instead of a fresh SQLite one.
    pub fn db(mut self, db: TestDb) -> Self {
        self.db = Some(db);
        self
    }

    pub fn backend(mut self, backend: TestBackend) -> Self {
        self.backend = backend;
        self
    }

    /// Adjusts the configuration before start (TLS files, redirect listener, …).
    pub fn configure(mut self, f: impl FnOnce(&mut RawConfig) + Send + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    pub async fn start(self) -> TestServer {
        let db = match self.db {
            Some(db) => db,
            None => TestDb::new(self.backend).await,
        };
        let data = tempfile::tempdir().expect("temp data dir");
        let mut raw = RawConfig {
            data_dir: data.path().to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Some(db.url().to_owned()),
            ..RawConfig::default()
        };
        raw.http.shutdown_grace_secs = 5;
        raw.tls.reload_interval_secs = 1;
        // The test clock stands still, so request rates never refill: tests that are not
        // about rate limits must not meet them. Those that are set their own.
        raw.limits.requests_per_minute = 1_000_000;
        raw.limits.burst = 1_000_000;
        raw.limits.auth_requests_per_minute = 1_000_000;
        raw.limits.auth_burst = 1_000_000;
        raw.limits.max_in_flight_per_ip = 1_000_000;
        for f in self.configure {
            f(&mut raw);
        }
        let settings: Settings = raw.validate().expect("test configuration is valid");
        let clock = ManualClock::new(crate::test_epoch());
        let app = App::build(settings, Arc::new(clock.clone()))
            .await
            .expect("server starts");
        let info = app.info().clone();
        let services = app.services().clone();
        let deliverer = app.deliverer().clone();
        let client = client_trusting(&info);
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestServer {
            info,
            clock,
            services,
            deliverer,
            data_dir: data.path().to_owned(),
            db: Some(db),
            client,
            shutdown: Some(tx),
            task: Some(task),
            _data: data,
        }
    }
}

/// An HTTPS client that trusts only the server's own certificate (or the leaf of the
/// operator's chain, for self-issued test chains), reaching `localhost` at its port.
fn client_trusting(info: &StartupInfo) -> reqwest::Client {
    client_builder(info).build().expect("HTTPS client")
}

fn client_builder(info: &StartupInfo) -> reqwest::ClientBuilder {
    let pem = std::fs::read(&info.certificate.cert_path).expect("certificate file");
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).expect("PEM bundle"))
        .resolve("localhost", info.https_addr)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .timeout(Duration::from_secs(30))
}

impl TestServer {
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            backend: TestBackend::Sqlite,
            db: None,
            configure: Vec::new(),
        }
    }

    /// A server on a fresh PostgreSQL database, or `None` (test skipped) when none is
    /// configured (see [`TestDb::postgres_if_configured`]).
    pub async fn on_postgres() -> Option<Self> {
        let db = TestDb::postgres_if_configured().await?;
        Some(Self::builder().db(db).start().await)
    }

    /// Two Termin instances sharing one fresh PostgreSQL database, or `None` (test skipped).
    /// The first owns the database (it is dropped with it), so it must outlive the second.
    pub async fn two_instances_on_postgres() -> Option<(Self, Self)> {
        let db = TestDb::postgres_if_configured().await?;
        let second_db = db.second_instance_handle();
        let first = Self::builder().db(db).start().await;
        let second = Self::builder().db(second_db).start().await;
        Some((first, second))
    }

    /// A server on a fresh SQLite database.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A client whose connections come from `ip` (another loopback address, 127.0.0.x):
    /// another source for rate limits and blocks.
    pub fn client_from(&self, ip: std::net::IpAddr) -> reqwest::Client {
        client_builder(&self.info)
            .local_address(ip)
            .build()
            .expect("HTTPS client")
    }

    pub fn port(&self) -> u16 {
        self.info.https_addr.port()
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port())
    }

    /// The set-up token from the link printed at start.
    pub fn setup_token(&self) -> String {
        let link = self
            .info
            .setup_link
            .as_deref()
            .expect("a set-up link was issued");
        link.rsplit('/').next().unwrap_or_default().to_owned()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Delivers every due outbox message now (with the `file` transport unless the test
    /// configured another) and returns what the `file` transport wrote for `channel`
    /// (`"email"` or `"sms"`), one JSON object per message.
    pub async fn outbox(&self, channel: &str) -> Vec<serde_json::Value> {
        self.deliverer.deliver_due().await.expect("outbox delivery");
        let path = self
            .data_dir
            .join("outbox")
            .join(format!("{channel}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("outbox line is JSON"))
            .collect()
    }

    /// The newest code in the outbox sent to `recipient` (an e-mail address or E.164
    /// number): the first run of six digits in the newest message's body.
    pub async fn latest_code(&self, channel: &str, recipient: &str) -> String {
        let messages = self.outbox(channel).await;
        let message = messages
            .iter()
            .rev()
            .find(|m| m["to"] == recipient)
            .unwrap_or_else(|| panic!("no {channel} to {recipient} in the outbox"));
        let body = message["body"].as_str().expect("body");
        let bytes = body.as_bytes();
        (0..bytes.len().saturating_sub(5))
            .find(|&i| {
                bytes[i..i + 6].iter().all(u8::is_ascii_digit)
                    && (i == 0 || !bytes[i - 1].is_ascii_digit())
            })
            .map(|i| body[i..i + 6].to_owned())
            .unwrap_or_else(|| panic!("no code in {body}"))
    }

    /// Signs `email` in on `browser`, answering every step the login asks for with the
    /// newest code from the outbox (e-mail or SMS to `phone`).
    pub async fn sign_in(
        &self,
        browser: &crate::Browser,
        email: &str,
        phone: &str,
        password: &str,
    ) {
        let mut step = browser.login(email, password).await;
        assert_eq!(step.status, 200, "login: {:?}", step.body);
        while step.body["status"] != "authenticated" {
            let method = step.body["methods"][0]
                .as_str()
                .expect("a method")
                .to_owned();
            let code = if method == "email" {
                self.latest_code("email", email).await
            } else {
                self.latest_code("sms", phone).await
            };
            step = browser.verify(&method, &code).await;
            assert_eq!(step.status, 200, "verify: {:?}", step.body);
        }
    }

    /// The token of the newest invitation link e-mailed to `email`.
    pub async fn invitation_token(&self, email: &str) -> String {
        let mails = self.outbox("email").await;
        let mail = mails
            .iter()
            .rev()
            .find(|m| m["to"] == email)
            .expect("an invitation e-mail");
        let body = mail["body"].as_str().expect("a body");
        let prefix = format!("https://localhost:{}/invite/", self.port());
        let start = body.find(&prefix).expect("the link") + prefix.len();
        body[start..start + 64].to_owned()
    }

    /// `inviter` invites `email` (mobile `phone`) as `role`; the invitee accepts with
    /// `password` and signs in on a new browser, which is returned.
    pub async fn join_practice(
        &self,
        inviter: &crate::Browser,
        (email, phone, role): (&str, &str, &str),
        password: &str,
    ) -> crate::Browser {
        let created = inviter
            .post(
                "/api/v1/invitations",
                &serde_json::json!({"email": email, "phone": phone, "role": role}),
            )
            .await;
        assert_eq!(created.status, 201, "invite: {:?}", created.body);
        let token = self.invitation_token(email).await;
        let accepted = self
            .post_json(
                "/api/v1/invitations/accept",
                &serde_json::json!({"token": token, "password": password}),
            )
            .await;
        assert_eq!(accepted.status(), 200, "accept");
        let browser = crate::Browser::new(self, crate::FIREFOX);
        self.sign_in(&browser, email, phone, password).await;
        browser
    }

    /// A new browser (`user_agent`) with the practice's owner signed in.
    pub async fn signed_in_owner(&self, user_agent: &str) -> crate::Browser {
        let browser = crate::Browser::new(self, user_agent);
        self.sign_in(&browser, OWNER_EMAIL, OWNER_PHONE, OWNER_PASSWORD)
            .await;
        browser
    }

    /// Creates a practice "Praxis am See" whose owner is `OWNER_EMAIL` / `OWNER_PASSWORD`
    /// (verification still pending).
    pub async fn with_practice(&self) {
        self.services
            .create_practice_as_operator(termin_domain::setup::NewPracticeInput {
                org_name: "Praxis am See",
                time_zone: None,
                owner_email: OWNER_EMAIL,
                owner_phone: OWNER_PHONE,
                password: OWNER_PASSWORD,
            })
            .await
            .expect("practice created");
    }

    /// A second practice, "Praxis Nord" (slug `praxis-nord`), with its own owner signed
    /// in on a new browser: for tests that another practice's ids are "not found".
    pub async fn other_practice_owner(&self) -> crate::Browser {
        let (email, phone, password) = (
            "nord@praxis-nord.example",
            "+4915112340099",
            "Kompass&Boje2026",
        );
        self.services
            .create_practice_as_operator(termin_domain::setup::NewPracticeInput {
                org_name: "Praxis Nord",
                time_zone: None,
                owner_email: email,
                owner_phone: phone,
                password,
            })
            .await
            .expect("second practice created");
        let browser = crate::Browser::new(self, crate::FIREFOX);
        self.sign_in(&browser, email, phone, password).await;
        browser
    }

    /// The server's database.
    pub fn db(&self) -> &TestDb {
        self.db.as_ref().expect("database present until stop")
    }

    /// Graceful shutdown. Returns the database, so that a next server can use it, or the
    /// error `run_until` ended with.
    pub async fn stop(mut self) -> std::io::Result<TestDb> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task")?;
        }
        Ok(self.db.take().expect("database present until stop"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
