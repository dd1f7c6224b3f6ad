//! The sign-in pages: the same login as the API, through HTML forms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use termin_testkit::{
    Answer, Browser, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer,
};

fn location(answer: &Answer) -> &str {
    answer.headers["location"].to_str().unwrap()
}

fn html(answer: &Answer) -> &str {
    answer.body.as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_owner_signs_in_through_the_pages_verifying_email_and_phone() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let browser = Browser::new(&server, FIREFOX);

    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    assert!(html(&form).contains("name=\"password\""));

    let wrong = browser
        .post_form("/login", &[("email", OWNER_EMAIL), ("password", "falsch")])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(html(&wrong).contains("E-Mail-Adresse oder Passwort ist falsch."));
    assert!(
        html(&wrong).contains(&format!("value=\"{OWNER_EMAIL}\"")),
        "the address is kept"
    );

    let signed = browser
        .post_form(
            "/login",
            &[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)],
        )
        .await;
    assert_eq!(signed.status, 303);
    assert_eq!(location(&signed), "/login/verify");
    assert_eq!(browser.get("/app").await.status, 303, "not yet signed in");

    let page = browser.get("/login/verify").await;
    assert_eq!(page.status, 200);
    let csrf = page.form_csrf();
    assert!(
        html(&page).contains("Ihre E-Mail-Adresse") && html(&page).contains("Ihre Mobilnummer")
    );

    let missing_csrf = browser
        .post_form("/login/verify", &[("method", "email"), ("code", "000000")])
        .await;
    assert_eq!(missing_csrf.status, 403);

    let wrong_code = browser
        .post_form(
            "/login/verify",
            &[("csrf", &csrf), ("method", "email"), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong_code.status, 422);
    assert!(html(&wrong_code).contains("Der Code ist falsch oder nicht mehr gültig."));

    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    let step = browser
        .post_form(
            "/login/verify",
            &[("csrf", &csrf), ("method", "email"), ("code", &email_code)],
        )
        .await;
    assert_eq!((step.status, location(&step)), (303, "/login/verify"));

    // The session token changed with the step; so did the CSRF token.
    let page = browser.get("/login/verify").await;
    let csrf = page.form_csrf();
    assert!(
        !html(&page).contains("Ihre E-Mail-Adresse"),
        "only the phone is left"
    );
    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    let done = browser
        .post_form(
            "/login/verify",
            &[("csrf", &csrf), ("method", "sms"), ("code", &sms_code)],
        )
        .await;
    assert_eq!((done.status, location(&done)), (303, "/app"));

    let overview = browser.get("/app").await;
    assert_eq!(overview.status, 200);
    assert!(html(&overview).contains(OWNER_EMAIL));
    assert!(html(&overview).contains("Praxis am See"));

    let csrf = overview.form_csrf();
    let out = browser.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, location(&out)), (303, "/login"));
    assert_eq!(browser.get("/app").await.status, 303);
    assert_eq!(browser.get("/api/v1/me").await.status, 401);
}

#[tokio::test]
async fn form_posts_from_another_site_are_refused() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = server
            .client()
            .post(server.url("/login"))
            .form(&[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    let evil = post(Some("https://evil.example"), None).await.unwrap();
    assert_eq!(evil.status(), 403);
    let cross = post(None, Some("cross-site")).await.unwrap();
    assert_eq!(cross.status(), 403);
    let same_site = post(None, Some("same-site")).await.unwrap();
    assert_eq!(
        same_site.status(),
        403,
        "another subdomain is another site here"
    );
    let disguised = post(Some("null"), Some("cross-site")).await.unwrap();
    assert_eq!(disguised.status(), 403);
    // Browsers send `Origin: null` for their own posts under Referrer-Policy: no-referrer.
    let own_null = post(Some("null"), Some("same-origin")).await.unwrap();
    assert_eq!(own_null.status(), 303);
    let own = format!("https://localhost:{}", server.port());
    let same = server
        .client()
        .post(server.url("/login"))
        .header("origin", own)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 303);
}
