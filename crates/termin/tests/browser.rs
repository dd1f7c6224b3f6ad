//! End to end in a real browser (Debian's Chromium through chromedriver): the set-up page's
//! live password rules (our JavaScript runs under the strict CSP), and an owner signing in,
//! verifying e-mail and phone with codes from the outbox, and seeing the overview.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use termin_testkit::{OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer};

/// chromedriver on a free port with a headless Chromium; `None` (test skipped) when not
/// installed and `TERMIN_TEST_REQUIRE_BROWSER` is not `1`.
struct Browser {
    driver: Child,
    client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Option<Self> {
        let installed = std::path::Path::new("/usr/bin/chromedriver").exists()
            && std::path::Path::new("/usr/bin/chromium").exists();
        if !installed {
            if std::env::var("TERMIN_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("TERMIN_TEST_REQUIRE_BROWSER=1 but chromium/chromedriver are missing");
            }
            eprintln!("SKIPPED: chromium and chromedriver are not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert("acceptInsecureCerts".into(), serde_json::json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                    "--ignore-certificate-errors", "--lang=de-DE",
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
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_page_ticks_password_rules_as_they_are_met() {
    let server = TestServer::start().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    c.goto(&server.info.setup_link.clone().unwrap())
        .await
        .unwrap();
    let password = c.find(Locator::Id("password")).await.unwrap();
    password.send_keys("abc").await.unwrap();
    let class = |rule: &'static str| async move {
        c.find(Locator::Css(&format!("li[data-rule='{rule}']")))
            .await
            .unwrap()
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default()
    };
    assert!(class("lower").await.contains("met"));
    assert!(!class("upper").await.contains("met"));
    assert!(!class("length").await.contains("met"));
    password.send_keys("DEF12!").await.unwrap();
    for rule in ["length", "upper", "lower", "digit", "special"] {
        assert!(class(rule).await.contains("met"), "{rule}");
    }
    browser.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_signs_in_in_a_real_browser_with_codes_from_the_outbox() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    c.goto(&server.url("/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(OWNER_EMAIL)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(OWNER_PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_url(&url::Url::parse(&server.url("/login/verify")).unwrap())
        .await
        .unwrap();

    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    c.find(Locator::Id("code-email"))
        .await
        .unwrap()
        .send_keys(&email_code)
        .await
        .unwrap();
    c.find(Locator::XPath(
        "//input[@id='code-email']/ancestor::form//button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait().for_element(Locator::Id("code-sms")).await.unwrap();
    assert!(
        c.find(Locator::Id("code-email")).await.is_err(),
        "the e-mail is verified"
    );

    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    c.find(Locator::Id("code-sms"))
        .await
        .unwrap()
        .send_keys(&sms_code)
        .await
        .unwrap();
    c.find(Locator::XPath(
        "//input[@id='code-sms']/ancestor::form//button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .for_url(&url::Url::parse(&server.url("/app")).unwrap())
        .await
        .unwrap();
    let text = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(OWNER_EMAIL), "{text}");
    assert!(text.contains("Praxis am See"), "{text}");
    browser.client.clone().close().await.unwrap();
}
