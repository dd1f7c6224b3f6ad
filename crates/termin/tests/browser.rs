//! End to end in a real browser (Debian's Chromium through chromedriver): the set-up page's
//! live password rules (our JavaScript runs under the strict CSP), and an owner signing in,
//! verifying e-mail and phone with codes from the outbox, and seeing the overview.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use fantoccini::Locator;
use termin_testkit::webdriver::{Chromium, click, first_sign_in, submit_login, wait_for_path};
use termin_testkit::{OWNER_EMAIL, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_page_ticks_password_rules_as_they_are_met() {
    let server = TestServer::start().await;
    let Some(browser) = Chromium::start().await else {
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
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_signs_in_in_a_real_browser_with_codes_from_the_outbox() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Chromium::start().await else {
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
    browser.close().await;
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
    let Some(browser) = Chromium::start().await else {
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
    browser.close().await;
}
