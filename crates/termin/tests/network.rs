//! Practice-network rules (S10) with real connections from different loopback addresses:
//! staff from outside the allowed networks are refused (403 `network_not_allowed`, recorded
//! and shown), forged forwarding headers count for nothing unless they come from a trusted
//! proxy, a rule may bind some roles only, and a rule that would lock out the administrator
//! saving it is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::net::IpAddr;

use serde_json::{Value, json};
use termin_testkit::{Answer, Browser, CHROME, FIREFOX, TestServer};

const ADMIN: (&str, &str, &str) = ("lena@praxis.example", "+4915112340021", "administrator");
const PASSWORD: &str = "Regen&Schirm2026";
const RULES: &str = "/api/v1/settings/network-rules";

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

async fn practice(trusted_proxies: &'static [&'static str]) -> (TestServer, Browser) {
    let server = TestServer::builder()
        .configure(move |raw| {
            raw.proxy.trusted = trusted_proxies.iter().map(|s| (*s).to_owned()).collect();
        })
        .start()
        .await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    (server, owner)
}

/// The administrator, signed in from `address`.
async fn admin_from(server: &TestServer, owner: &Browser, address: &str) -> Browser {
    server.join_practice(owner, ADMIN, PASSWORD).await;
    let browser = Browser::from_address(server, CHROME, ip(address));
    server.sign_in(&browser, ADMIN.0, ADMIN.1, PASSWORD).await;
    browser
}

fn rule(networks: &[&str], roles: &[&str]) -> Value {
    json!({"allowed_networks": networks, "roles": roles})
}

async fn users_via(browser: &Browser, forwarded_for: Option<&str>) -> Answer {
    match forwarded_for {
        Some(chain) => {
            browser
                .get_with_header("/api/v1/users", ("x-forwarded-for", chain))
                .await
        }
        None => browser.get("/api/v1/users").await,
    }
}

#[tokio::test]
async fn staff_outside_the_allowed_networks_are_refused_and_recorded() {
    let (server, owner) = practice(&[]).await;
    let outside = admin_from(&server, &owner, "127.0.0.3").await;
    assert_eq!(users_via(&outside, None).await.status, 200);

    let saved = owner.put(RULES, &rule(&["127.0.0.1/32"], &[])).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body, rule(&["127.0.0.1/32"], &[]));

    let refused = users_via(&outside, None).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["error"], "network_not_allowed");
    // Forged forwarding headers from an untrusted peer count for nothing.
    assert_eq!(
        users_via(&outside, Some("127.0.0.1")).await.status,
        403,
        "X-Forwarded-For from an untrusted address is ignored"
    );
    // The account itself stays reachable, with the reason shown.
    assert_eq!(outside.get("/api/v1/me").await.status, 200);
    assert_eq!(users_via(&owner, None).await.status, 200);

    let page = owner.get("/practices/praxis-am-see/network").await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains("127.0.0.3"));
    let denials = server
        .db()
        .raw_strings("SELECT source FROM security_events WHERE kind = 'network_denied'")
        .await;
    assert_eq!(
        denials,
        [Some("127.0.0.3".to_owned()), Some("127.0.0.3".to_owned())]
    );

    assert_eq!(owner.put(RULES, &rule(&[], &[])).await.status, 200);
    assert_eq!(
        users_via(&outside, None).await.status,
        200,
        "no rule, no restriction"
    );
}

#[tokio::test]
async fn a_rule_that_would_lock_out_its_author_is_refused() {
    let (_server, owner) = practice(&[]).await;
    let refused = owner.put(RULES, &rule(&["127.0.0.2/32"], &[])).await;
    assert_eq!(refused.status, 422);
    let message = refused.body["fields"]["allowed_networks"][0]
        .as_str()
        .unwrap();
    assert!(message.contains("127.0.0.1"), "{message}");
    // A rule for other roles only does not bind the owner saving it.
    assert_eq!(
        owner
            .put(RULES, &rule(&["127.0.0.2/32"], &["reception"]))
            .await
            .status,
        200
    );
    let bad = owner
        .put(RULES, &rule(&["127.0.0.0/33", "praxis"], &["chef"]))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.body["fields"]["allowed_networks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(bad.body["fields"]["roles"].is_array());
}

#[tokio::test]
async fn a_rule_may_bind_some_roles_only() {
    let (server, owner) = practice(&[]).await;
    let outside = admin_from(&server, &owner, "127.0.0.3").await;
    assert_eq!(
        owner
            .put(RULES, &rule(&["127.0.0.1/32"], &["owner"]))
            .await
            .status,
        200
    );
    assert_eq!(
        users_via(&outside, None).await.status,
        200,
        "administrators are not bound"
    );
    assert_eq!(
        owner
            .put(RULES, &rule(&["127.0.0.1/32"], &["administrator"]))
            .await
            .status,
        200
    );
    assert_eq!(users_via(&outside, None).await.status, 403);
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let (server, owner) = practice(&["127.0.0.4/32"]).await;
    let via_proxy = admin_from(&server, &owner, "127.0.0.4").await;
    assert_eq!(
        owner.put(RULES, &rule(&["127.0.0.1/32"], &[])).await.status,
        200
    );
    // The proxy itself is not the practice network.
    assert_eq!(users_via(&via_proxy, None).await.status, 403);
    assert_eq!(users_via(&via_proxy, Some("127.0.0.1")).await.status, 200);
    // A client-supplied first entry is not believed: the last untrusted hop is the client.
    assert_eq!(
        users_via(&via_proxy, Some("127.0.0.1, 127.0.0.3"))
            .await
            .status,
        403
    );
    // The standard header (RFC 7239) works the same way, and wins over the old one.
    let standard =
        |value: &'static str| via_proxy.get_with_header("/api/v1/users", ("forwarded", value));
    assert_eq!(standard("for=127.0.0.1;proto=https").await.status, 200);
    assert_eq!(standard("for=\"127.0.0.1:51234\"").await.status, 200);
    assert_eq!(
        standard("for=127.0.0.1, for=127.0.0.3").await.status,
        403,
        "the last untrusted hop is the client"
    );
    assert_eq!(standard("for=unknown").await.status, 403);
    // Directly from an untrusted address the headers are ignored.
    let direct = Browser::from_address(&server, CHROME, ip("127.0.0.5"));
    server.sign_in(&direct, ADMIN.0, ADMIN.1, PASSWORD).await;
    assert_eq!(users_via(&direct, Some("127.0.0.1")).await.status, 403);
    assert_eq!(
        direct
            .get_with_header("/api/v1/users", ("forwarded", "for=127.0.0.1"))
            .await
            .status,
        403
    );
}
