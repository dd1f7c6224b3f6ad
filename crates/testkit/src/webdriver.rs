//! A real browser for end-to-end tests: Debian's headless Chromium driven through
//! chromedriver (fantoccini), with the steps the browser tests share — typing, clicking,
//! waiting for a page or a condition, the owner's first sign-in with codes from the outbox,
//! and a screenshot plus the page's HTML in `target/screenshots/` when a step fails.
//!
//! A test calls [`Chromium::start`], which returns `None` (the test is skipped) when
//! Chromium or chromedriver is not installed — unless `TERMIN_TEST_REQUIRE_BROWSER=1` (CI),
//! which turns that into a failure.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};

use crate::{OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port with a headless Chromium of its own profile.
pub struct Chromium {
    driver: Child,
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// A desktop-sized window (1600×1200); `None` when the browser is not installed.
    pub async fn start() -> Option<Self> {
        Self::start_with_window(1600, 1200).await
    }

    /// A window of `width`×`height` CSS pixels (e.g. a phone's 412×915).
    pub async fn start_with_window(width: u32, height: u32) -> Option<Self> {
        let installed =
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
        if !installed {
            assert!(
                !std::env::var("TERMIN_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1"),
                "TERMIN_TEST_REQUIRE_BROWSER=1 but chromium/chromedriver are missing"
            );
            eprintln!("SKIPPED: chromium and chromedriver are not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut caps = serde_json::Map::new();
        caps.insert("acceptInsecureCerts".into(), json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                    "--ignore-certificate-errors", "--lang=de-DE",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let mut client = None;
        for _ in 0..50 {
            match ClientBuilder::rustls()
                .expect("rustls client")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        Some(Self {
            driver,
            client: client.expect("chromedriver answers"),
            _profile: profile,
        })
    }

    /// Ends the browser session (Chromium with it).
    pub async fn close(self) {
        self.client
            .clone()
            .close()
            .await
            .expect("the browser closes");
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where failing steps leave their screenshots: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots")
}

/// Runs `steps`; when one fails, saves a screenshot and the page's HTML under
/// `target/screenshots/<name>.*` and closes the browser before the panic goes on.
pub async fn with_screenshot(c: &Client, name: &str, steps: impl Future<Output = ()>) {
    let Err(panic) = AssertUnwindSafe(steps).catch_unwind().await else {
        return;
    };
    let dir = screenshot_dir();
    let _ = std::fs::create_dir_all(&dir);
    match c.screenshot().await {
        Ok(png) => {
            let path = dir.join(format!("{name}.png"));
            let _ = std::fs::write(&path, png);
            eprintln!("screenshot saved to {}", path.display());
        }
        Err(e) => eprintln!("no screenshot: {e}"),
    }
    if let Ok(html) = c.source().await {
        let _ = std::fs::write(dir.join(format!("{name}.html")), html);
    }
    // Ends the browser too: killing chromedriver alone would leave Chromium running.
    let _ = c.clone().close().await;
    std::panic::resume_unwind(panic);
}

/// Clicks the element `locator` finds.
pub async fn click(c: &Client, locator: Locator<'_>) {
    c.find(locator)
        .await
        .expect("the element to click")
        .click()
        .await
        .expect("a click");
}

/// Types `text` into the element with this id.
pub async fn type_into(c: &Client, id: &str, text: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no element #{id}: {e}"))
        .send_keys(text)
        .await
        .expect("typing");
}

/// The `value` of the form control with this id.
pub async fn value_of(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no element #{id}: {e}"))
        .prop("value")
        .await
        .expect("its value")
        .unwrap_or_default()
}

/// The visible text of the first element `css` finds.
pub async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .text()
        .await
        .expect("its text")
}

/// Waits until the browser is at `path` of the server (query included).
pub async fn wait_for_path(c: &Client, server: &TestServer, path: &str) {
    c.wait()
        .for_url(&url::Url::parse(&server.url(path)).expect("a URL"))
        .await
        .expect("the page");
}

/// Runs `script` until it returns `true` (at most ten seconds); on a timeout the panic
/// quotes the page's live regions.
pub async fn wait_until(c: &Client, what: &str, script: &str, args: Vec<Value>) {
    for _ in 0..100 {
        // An error (a page still loading) counts as "not yet".
        if c.execute(script, args.clone()).await.ok() == Some(json!(true)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let live = c
        .execute(
            "return [...document.querySelectorAll('[aria-live], [role=alert]')]
                .map(e => e.textContent.trim()).join(' | ')",
            vec![],
        )
        .await
        .unwrap_or_default();
    panic!("timed out waiting for {what}; live regions: {live}");
}

/// Fills in the login page with the owner's e-mail address and password and sends it.
pub async fn submit_login(c: &Client, server: &TestServer) {
    c.goto(&server.url("/login")).await.expect("the login page");
    type_into(c, "email", OWNER_EMAIL).await;
    type_into(c, "password", OWNER_PASSWORD).await;
    click(c, Locator::Css("form[action='/login'] button")).await;
}

/// The owner's first sign-in through the login page: password, then the codes to e-mail
/// and phone from the outbox.
pub async fn first_sign_in(c: &Client, server: &TestServer) {
    submit_login(c, server).await;
    wait_for_path(c, server, "/login/verify").await;
    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    type_into(c, "code-email", &email_code).await;
    click(
        c,
        Locator::XPath("//input[@id='code-email']/ancestor::form//button"),
    )
    .await;
    // The next page, not the one still unloading: the e-mail step is gone.
    wait_until(
        c,
        "the e-mail step to be done",
        "return !document.getElementById('code-email') && !!document.getElementById('code-sms')",
        vec![],
    )
    .await;
    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    type_into(c, "code-sms", &sms_code).await;
    click(
        c,
        Locator::XPath("//input[@id='code-sms']/ancestor::form//button"),
    )
    .await;
    wait_for_path(c, server, "/app").await;
}
