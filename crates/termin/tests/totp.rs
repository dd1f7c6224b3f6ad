//! TOTP and recovery codes as second factors. TOTP codes come from Debian's `oathtool`, an
//! independent implementation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::process::Command;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use termin_domain::Clock;
use termin_testkit::{
    Browser, CHROME, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer,
};

/// The code `oathtool` computes for `secret` at `at`, or `None` (test skipped) when it is
/// not installed and `TERMIN_TEST_REQUIRE_OATHTOOL` is not `1`.
fn oathtool(secret: &str, at: Timestamp) -> Option<String> {
    let now = at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
    match Command::new("oathtool")
        .args(["--totp", "-b", secret, "--now", &now])
        .output()
    {
        Ok(out) if out.status.success() => {
            Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
        }
        _ if std::env::var("TERMIN_TEST_REQUIRE_OATHTOOL").is_ok_and(|v| v == "1") => {
            panic!(
                "TERMIN_TEST_REQUIRE_OATHTOOL=1 but oathtool does not run (apt-get install oathtool)"
            )
        }
        _ => {
            eprintln!("SKIPPED: oathtool is not installed");
            None
        }
    }
}

async fn signed_in_owner(server: &TestServer) -> Browser {
    server.with_practice().await;
    let browser = Browser::new(server, FIREFOX);
    browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let code = server.latest_code("email", OWNER_EMAIL).await;
    browser.verify("email", &code).await;
    let code = server.latest_code("sms", OWNER_PHONE).await;
    assert_eq!(
        browser.verify("sms", &code).await.body["status"],
        "authenticated"
    );
    browser
}

/// Enrols TOTP; returns the secret and the recovery codes.
async fn enrol(server: &TestServer, browser: &Browser) -> Option<(String, Vec<String>)> {
    let started = browser.post("/api/v1/me/totp", &json!({})).await;
    assert_eq!(started.status, 200);
    let secret = started.body["secret"].as_str().unwrap().to_owned();
    assert!(
        started.body["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Termin:")
    );
    assert!(started.body["qr_svg"].as_str().unwrap().contains("<svg"));
    let code = oathtool(&secret, server.clock.now())?;
    let confirmed = browser
        .post("/api/v1/me/totp/confirm", &json!({"code": code}))
        .await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    let codes: Vec<String> = confirmed.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    Some((secret, codes))
}

async fn new_device(server: &TestServer) -> (Browser, Value) {
    let browser = Browser::new(server, CHROME);
    let login = browser.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    (browser, login.body)
}

#[tokio::test]
async fn an_enrolled_authenticator_app_signs_in_a_new_device() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let Some((secret, _)) = enrol(&server, &owner).await else {
        return;
    };

    server.clock.advance(SignedDuration::from_mins(2));
    let (browser, login) = new_device(&server).await;
    assert_eq!(login["methods"], json!(["sms", "totp", "recovery_code"]));
    let code = oathtool(&secret, server.clock.now()).unwrap();
    let done = browser.verify("totp", &code).await;
    assert_eq!(done.body["status"], "authenticated", "{:?}", done.body);
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let Some((secret, _)) = enrol(&server, &owner).await else {
        return;
    };
    server.clock.advance(SignedDuration::from_mins(2));
    let code = oathtool(&secret, server.clock.now()).unwrap();
    let (first, _) = new_device(&server).await;
    assert_eq!(
        first.verify("totp", &code).await.body["status"],
        "authenticated"
    );
    let (second, _) = new_device(&server).await;
    let replay = second.verify("totp", &code).await;
    assert_eq!(
        (replay.status, replay.body["error"].as_str()),
        (422, Some("invalid_code"))
    );
    // The next step's code works.
    server.clock.advance(SignedDuration::from_secs(30));
    let next = oathtool(&secret, server.clock.now()).unwrap();
    assert_eq!(
        second.verify("totp", &next).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn the_code_of_the_enrolment_step_cannot_sign_in() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let Some((secret, _)) = enrol(&server, &owner).await else {
        return;
    };
    let code = oathtool(&secret, server.clock.now()).unwrap();
    let (browser, _) = new_device(&server).await;
    assert_eq!(
        browser.verify("totp", &code).await.body["error"],
        "invalid_code"
    );
}

#[tokio::test]
async fn a_recovery_code_works_once_in_any_spelling() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let Some((_, codes)) = enrol(&server, &owner).await else {
        return;
    };
    let (first, _) = new_device(&server).await;
    let typed = codes[3].to_lowercase().replace('-', " ");
    assert_eq!(
        first.verify("recovery_code", &typed).await.body["status"],
        "authenticated"
    );
    let (second, _) = new_device(&server).await;
    assert_eq!(
        second.verify("recovery_code", &codes[3]).await.body["error"],
        "invalid_code"
    );
    assert_eq!(
        second.verify("recovery_code", &codes[4]).await.body["status"],
        "authenticated"
    );
}

#[tokio::test]
async fn five_wrong_second_factors_end_the_login_attempt() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let Some((secret, codes)) = enrol(&server, &owner).await else {
        return;
    };
    server.clock.advance(SignedDuration::from_mins(2));
    let (browser, _) = new_device(&server).await;
    for _ in 0..5 {
        assert_eq!(
            browser.verify("totp", "000000").await.body["error"],
            "invalid_code"
        );
    }
    // Past the account's delay, which would refuse it before the login's own count.
    server.clock.advance(SignedDuration::from_secs(10));
    let right = oathtool(&secret, server.clock.now()).unwrap();
    assert_eq!(
        browser.verify("totp", &right).await.body["error"],
        "invalid_code",
        "the sixth is refused"
    );
    // The login is over: no factor, not even SMS, can finish it.
    let after = browser.verify("recovery_code", &codes[0]).await;
    assert_eq!(
        (after.status, after.body["error"].as_str()),
        (401, Some("not_authenticated"))
    );
    let sms = server.latest_code("sms", OWNER_PHONE).await;
    assert_eq!(browser.verify("sms", &sms).await.status, 401);
}

#[tokio::test]
async fn without_totp_the_login_offers_only_sms() {
    let server = TestServer::start().await;
    signed_in_owner(&server).await;
    let (browser, login) = new_device(&server).await;
    assert_eq!(login["methods"], json!(["sms"]));
    let refused = browser.verify("totp", "123456").await;
    assert_eq!(refused.status, 422);
}

#[tokio::test]
async fn the_account_page_warns_about_sms_and_enrols_an_authenticator_app() {
    let server = TestServer::start().await;
    let owner = signed_in_owner(&server).await;
    let page = owner.get("/account").await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap().to_owned();
    assert!(
        html.contains("Ein SMS-Code ist der schwächste zweite Faktor"),
        "{html}"
    );
    assert!(html.contains("Firefox on Linux") && html.contains("dieses Gerät"));

    let csrf = page.form_csrf();
    let started = owner.post_form("/account/totp", &[("csrf", &csrf)]).await;
    assert_eq!(started.status, 200);
    let html = started.body.as_str().unwrap().to_owned();
    assert!(
        html.contains("src=\"data:image/svg+xml;base64,"),
        "a QR code"
    );
    let key_start = html.find("von Hand ein: <code>").unwrap() + "von Hand ein: <code>".len();
    let secret: String = html[key_start..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();

    let Some(code) = oathtool(&secret, server.clock.now()) else {
        return;
    };
    let confirmed = owner
        .post_form("/account/totp/confirm", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(confirmed.status, 200);
    let html = confirmed.body.as_str().unwrap().to_owned();
    assert!(html.contains("Ihre Wiederherstellungscodes"));
    assert_eq!(html.matches("<li><code>").count(), 10);
    let later = owner
        .get("/account")
        .await
        .body
        .as_str()
        .unwrap()
        .to_owned();
    assert!(later.contains("Die Authenticator-App ist eingerichtet."));
    assert!(
        !later.contains("Ihre Wiederherstellungscodes"),
        "shown only once"
    );

    let refused = owner
        .post_form("/account/totp", &[("csrf", &"0".repeat(64))])
        .await;
    assert_eq!(refused.status, 403);
}
