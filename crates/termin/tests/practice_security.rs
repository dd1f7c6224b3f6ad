//! A practice's security settings: the length-only password policy (NIST SP 800-63B) as an
//! alternative to the seed's rule, and roles that must use an authenticator app or a passkey
//! instead of SMS codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::json;
use termin_testkit::{Browser, FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, SoftPasskey, TestServer};

const ASSISTANT: (&str, &str, &str) = ("mia@praxis.example", "+4915112345679", "assistant");
const ASSISTANT_PASSWORD: &str = "Kaffee&Kuchen2026";
const PASSPHRASE: &str = "wolken ziehen ueber den see";

async fn owner() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let browser = server.signed_in_owner(FIREFOX).await;
    (server, browser)
}

async fn enrol_passkey(server: &TestServer, browser: &Browser) -> SoftPasskey {
    SoftPasskey::enrol(server, browser, "Key").await.0
}

async fn set(browser: &Browser, policy: &str, roles: &[&str]) -> termin_testkit::Answer {
    browser
        .put(
            "/api/v1/settings/security",
            &json!({"password_policy": policy, "strong_factor_roles": roles}),
        )
        .await
}

#[tokio::test]
async fn the_default_is_the_seeds_rule_and_only_managers_see_or_change_it() {
    let (server, owner) = owner().await;
    let shown = owner.get("/api/v1/settings/security").await;
    assert_eq!(shown.status, 200);
    assert_eq!(
        shown.body,
        json!({
            "password_policy": "composition",
            "strong_factor_roles": [],
            "session_idle_minutes": 30,
            "session_max_hours": 12,
        })
    );
    let bad = set(&owner, "none", &["owner", "chef"]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body["fields"]["password_policy"].is_array());
    assert!(bad.body["fields"]["strong_factor_roles"].is_array());

    let assistant = server
        .join_practice(&owner, ASSISTANT, ASSISTANT_PASSWORD)
        .await;
    assert_eq!(assistant.get("/api/v1/settings/security").await.status, 403);
    assert_eq!(set(&assistant, "length_only", &[]).await.status, 403);
    assert_eq!(
        owner.get("/api/v1/settings/security").await.body["password_policy"],
        "composition"
    );
}

#[tokio::test]
async fn a_practice_on_the_length_only_policy_accepts_long_passphrases_and_refuses_short_passwords()
{
    let (server, owner) = owner().await;
    let change = |to: &'static str| {
        let owner = &owner;
        async move {
            owner
                .post(
                    "/api/v1/me/password",
                    &json!({"current_password": OWNER_PASSWORD, "new_password": to, "end_other_sessions": false}),
                )
                .await
        }
    };
    // Under the seed's rule a lower-case passphrase is refused...
    let refused = change(PASSPHRASE).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body["violations"],
        json!(["no_uppercase", "no_digit", "no_special"])
    );

    let saved = set(&owner, "length_only", &[]).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["password_policy"], "length_only");
    // ...under length-only a short composed password is too short, a common one stays
    // refused, and the passphrase is fine.
    let short = change("Kx7!mPq2aB").await;
    assert_eq!(short.body["violations"], json!(["too_short"]));
    let common = change("passwordpassword").await;
    assert_eq!(common.body["violations"], json!(["common_password"]));
    assert_eq!(change(PASSPHRASE).await.status, 204);

    // Invitations into the practice follow its policy too.
    let invited = owner
        .post(
            "/api/v1/invitations",
            &json!({"email": ASSISTANT.0, "phone": ASSISTANT.1, "role": "assistant"}),
        )
        .await;
    assert_eq!(invited.status, 201);
    let token = server.invitation_token(ASSISTANT.0).await;
    let accept = |password: &'static str| {
        let server = &server;
        let token = token.clone();
        async move {
            server
                .post_json(
                    "/api/v1/invitations/accept",
                    &json!({"token": token, "password": password}),
                )
                .await
        }
    };
    assert_eq!(accept("Kx7!mPq2aB").await.status(), 422);
    assert_eq!(accept("eine lange ruhige passphrase").await.status(), 200);
}

#[tokio::test]
async fn a_role_that_needs_a_strong_factor_is_refused_in_the_practice_until_it_has_one() {
    let (server, owner) = owner().await;
    let assistant = server
        .join_practice(&owner, ASSISTANT, ASSISTANT_PASSWORD)
        .await;
    assert!(
        !assistant
            .get("/app")
            .await
            .body
            .as_str()
            .unwrap()
            .contains("Authenticator-App oder einen Passkey"),
        "no notice before the rule"
    );
    // Acting in the practice: before the rule, the assistant just lacks the right to invite.
    let invite =
        json!({"email": "tom@praxis.example", "phone": "+4915112345670", "role": "reception"});
    assert_eq!(
        assistant.post("/api/v1/invitations", &invite).await.body["error"],
        "forbidden"
    );
    let saved = set(&owner, "composition", &["assistant", "practitioner"]).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(
        saved.body["strong_factor_roles"],
        json!(["practitioner", "assistant"])
    );

    let blocked = assistant.post("/api/v1/invitations", &invite).await;
    assert_eq!(
        (blocked.status, blocked.body["error"].as_str()),
        (403, Some("strong_factor_required"))
    );
    // The overview tells them what to do, until they have done it.
    const NOTICE: &str =
        "Diese Praxis verlangt für Ihre Rolle eine Authenticator-App oder einen Passkey";
    let overview = assistant.get("/app").await;
    assert!(
        overview.body.as_str().unwrap().contains(NOTICE),
        "{:?}",
        overview.body
    );

    let mut passkey = enrol_passkey(&server, &assistant).await;
    let overview = assistant.get("/app").await;
    assert!(!overview.body.as_str().unwrap().contains(NOTICE));
    assert_eq!(
        assistant.post("/api/v1/invitations", &invite).await.body["error"],
        "forbidden",
        "with a passkey the assistant is back to their own rights"
    );

    // On a new device SMS is no longer offered, and no SMS code is sent.
    let sms_before = server.outbox("sms").await.len();
    let device = Browser::new(&server, FIREFOX);
    let login = device.login(ASSISTANT.0, ASSISTANT_PASSWORD).await;
    assert_eq!(login.body["methods"], json!(["passkey"]));
    assert_eq!(server.outbox("sms").await.len(), sms_before);
    let resend = device
        .post("/api/v1/auth/resend", &json!({"method": "sms"}))
        .await;
    assert_eq!(resend.status, 422);
    let options = device
        .post("/api/v1/auth/passkey/challenge", &json!({}))
        .await;
    let done = device
        .post(
            "/api/v1/auth/verify",
            &json!({"method": "passkey", "credential": passkey.get(&options.body)}),
        )
        .await;
    assert_eq!(done.body["status"], "authenticated", "{:?}", done.body);

    // Their only strong factor cannot be removed while the rule stands.
    let keys = assistant.get("/api/v1/me/passkeys").await.body["passkeys"].clone();
    let id = keys[0]["id"].as_str().unwrap();
    let kept = assistant.delete(&format!("/api/v1/me/passkeys/{id}")).await;
    assert_eq!(
        (kept.status, kept.body["error"].as_str()),
        (409, Some("strong_factor_required"))
    );
    assert_eq!(
        assistant.get("/api/v1/me/passkeys").await.body["passkeys"],
        keys
    );

    // The owner's role is not in the list: SMS stays for them.
    let owner_device = Browser::new(&server, FIREFOX);
    let login = owner_device.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(login.body["methods"], json!(["sms"]));
}

#[tokio::test]
async fn an_admin_cannot_require_a_strong_factor_of_their_own_role_before_having_one() {
    let (server, owner) = owner().await;
    let refused = set(&owner, "composition", &["owner"]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body["fields"]["strong_factor_roles"].is_array());
    enrol_passkey(&server, &owner).await;
    assert_eq!(set(&owner, "composition", &["owner"]).await.status, 200);
}

#[tokio::test]
async fn the_settings_page_saves_with_its_csrf_token_and_hides_other_practices() {
    let (server, owner) = owner().await;
    let page = owner.get("/practices/praxis-am-see/security").await;
    assert_eq!(page.status, 200);
    let csrf = page.form_csrf();
    let saved = owner
        .post_form(
            "/practices/praxis-am-see/security",
            &[
                ("csrf", csrf.as_str()),
                ("password_policy", "length_only"),
                ("role", "reception"),
                ("role", "assistant"),
            ],
        )
        .await;
    assert_eq!(saved.status, 200);
    assert_eq!(
        owner.get("/api/v1/settings/security").await.body,
        json!({
            "password_policy": "length_only",
            "strong_factor_roles": ["assistant", "reception"],
            "session_idle_minutes": 30,
            "session_max_hours": 12,
        })
    );
    let forged = owner
        .post_form(
            "/practices/praxis-am-see/security",
            &[
                ("csrf", "0".repeat(64).as_str()),
                ("password_policy", "composition"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);

    // Another practice's page is "not found", as is one that does not exist.
    server
        .services
        .create_practice_as_operator(termin_domain::setup::NewPracticeInput {
            org_name: "Zahnarzt Nord",
            time_zone: None,
            owner_email: "chef@nord.example",
            owner_phone: "+4915199998888",
            password: "Wz9&hufl-Linde",
        })
        .await
        .unwrap();
    assert_eq!(
        owner.get("/practices/zahnarzt-nord/security").await.status,
        404
    );
    assert_eq!(
        owner
            .get_with_header(
                "/api/v1/settings/security",
                ("x-termin-org", "zahnarzt-nord")
            )
            .await
            .status,
        404
    );
}
