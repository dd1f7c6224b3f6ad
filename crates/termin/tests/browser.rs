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

/// Clicks the element `locator` finds.
async fn click(c: &Client, locator: Locator<'_>) {
    c.find(locator).await.unwrap().click().await.unwrap();
}

/// Types `text` into the element with this id.
async fn type_into(c: &Client, id: &str, text: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Waits until the browser is at `path` of the server.
async fn wait_for_path(c: &Client, server: &TestServer, path: &str) {
    c.wait()
        .for_url(&url::Url::parse(&server.url(path)).unwrap())
        .await
        .unwrap();
}

/// Fills in the login form and submits it.
async fn submit_login(c: &Client, server: &TestServer) {
    c.goto(&server.url("/login")).await.unwrap();
    type_into(c, "email", OWNER_EMAIL).await;
    type_into(c, "password", OWNER_PASSWORD).await;
    click(c, Locator::Css("form[action='/login'] button")).await;
}

/// The owner's first sign-in: password, then the codes to e-mail and phone from the outbox.
async fn first_sign_in(c: &Client, server: &TestServer) {
    submit_login(c, server).await;
    wait_for_path(c, server, "/login/verify").await;

    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    type_into(c, "code-email", &email_code).await;
    click(
        c,
        Locator::XPath("//input[@id='code-email']/ancestor::form//button"),
    )
    .await;
    c.wait().for_element(Locator::Id("code-sms")).await.unwrap();
    assert!(
        c.find(Locator::Id("code-email")).await.is_err(),
        "the e-mail is verified"
    );

    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    type_into(c, "code-sms", &sms_code).await;
    click(
        c,
        Locator::XPath("//input[@id='code-sms']/ancestor::form//button"),
    )
    .await;
    wait_for_path(c, server, "/app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_signs_in_in_a_real_browser_with_codes_from_the_outbox() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    first_sign_in(c, &server).await;
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

/// WebDriver's WebAuthn extension: a virtual authenticator inside the browser, as a platform
/// authenticator with user verification (a PIN or fingerprint that always succeeds).
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Passkeys end to end: the owner enrols one on the account page (the browser's WebAuthn
/// with a virtual authenticator), then signs in on what is a new device to Termin with the
/// passkey instead of an SMS code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_enrols_a_passkey_and_signs_in_with_it_on_a_new_device() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    c.issue_cmd(AddVirtualAuthenticator).await.unwrap();
    first_sign_in(c, &server).await;

    c.goto(&server.url("/account")).await.unwrap();
    let name = c.find(Locator::Id("passkey-name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Praxis-PC").await.unwrap();
    click(c, Locator::Id("passkey-enrol")).await;
    let listed = c
        .wait()
        .for_element(Locator::Css("ul.passkeys li"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains("Praxis-PC"), "{listed}");

    // A new device for Termin: no trusted-device cookie, no session.
    c.delete_all_cookies().await.unwrap();
    let sms_before = server.outbox("sms").await.len();
    submit_login(c, &server).await;
    c.wait()
        .for_element(Locator::Id("passkey-sign-in"))
        .await
        .unwrap();
    // The passkey comes first, SMS stays available as the weakest factor.
    assert!(c.find(Locator::Id("code-sms")).await.is_ok());
    assert!(
        server.outbox("sms").await.len() > sms_before,
        "an SMS code was sent too"
    );
    click(c, Locator::Id("passkey-sign-in")).await;
    wait_for_path(c, &server, "/app").await;
    let text = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(OWNER_EMAIL), "{text}");
    browser.client.clone().close().await.unwrap();
}
