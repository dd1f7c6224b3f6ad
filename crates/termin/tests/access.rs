//! Every route declares who may call it (`Access` in `web/src/routes/table.rs`); this test
//! walks all of them and checks each behaves as declared: staff and signed-in routes refuse
//! the anonymous, staff routes refuse a member without the permission, and each staff API
//! route answers every built-in role as its preset says, and "not found" for a practice the
//! caller does not belong to.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::json;
use termin_domain::rights::preset;
use termin_domain::user::Role;
use termin_testkit::{Answer, Browser, CHROME, FIREFOX, TestServer};
use termin_web::routes::table::{Access, Declared, Verb};

const PASSWORD: &str = "Kaffee&Kuchen2026";
const SLUG: &str = "praxis-am-see";
const SOME_ID: &str = "00000000-0000-4000-8000-000000000001";

/// A concrete path for a route pattern.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{slug}", SLUG)
        .replace("{user_id}", SOME_ID)
        .replace("{booking_id}", SOME_ID)
        .replace("{id}", SOME_ID)
        .replace("{token}", &"ab".repeat(32))
        .replace("{name}", "app.js")
        .replace("{what}", "devices")
        .replace("{action}", "unlock")
}

/// Calls `path` with `verb` the way its clients do: JSON for the API, forms for pages
/// (with the browser's form token, so that only the right is in question).
async fn call(browser: &Browser, verb: Verb, path: &str, csrf: &str) -> Answer {
    let api = path.starts_with("/api/");
    match verb {
        Verb::Get => browser.get(path).await,
        Verb::Post if api => browser.post(path, &json!({})).await,
        Verb::Post => browser.post_form(path, &[("csrf", csrf)]).await,
        Verb::Put => browser.put(path, &json!({})).await,
        Verb::Patch => browser.patch(path, &json!({})).await,
        Verb::Delete => browser.delete(path).await,
    }
}

const VERBS: [Verb; 5] = [Verb::Get, Verb::Post, Verb::Put, Verb::Patch, Verb::Delete];

/// The methods a declaration covers (one, or all its router has).
fn verbs(route: &Declared) -> Vec<Verb> {
    VERBS
        .into_iter()
        .filter(|v| route.only.is_none_or(|only| only == *v))
        .collect()
}

async fn member(server: &TestServer, owner: &Browser, role: Role) -> Browser {
    let name = role.as_str().replace('_', "");
    let email = format!("{name}@praxis.example");
    let phone = format!(
        "+49151123401{:02}",
        Role::ALL.iter().position(|r| *r == role).unwrap()
    );
    server
        .join_practice(owner, (&email, &phone, role.as_str()), PASSWORD)
        .await
}

async fn form_token(browser: &Browser) -> String {
    browser.get("/account").await.form_csrf()
}

fn routes() -> Vec<Declared> {
    let routes = termin_web::declared_routes();
    assert!(routes.len() > 40, "the table lists every route");
    routes
}

#[tokio::test]
async fn every_route_behaves_as_its_declaration_says() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let read_only = member(&server, &owner, Role::ReadOnly).await;
    let read_only_csrf = form_token(&read_only).await;
    let mut checked = 0;
    for route in routes() {
        let path = concrete(route.path);
        for verb in verbs(&route) {
            let anonymous = Browser::new(&server, CHROME);
            let answer = call(&anonymous, verb, &path, "").await;
            if answer.status == 405 {
                continue;
            }
            checked += 1;
            assert!(answer.status < 500, "{verb:?} {path}: {}", answer.status);
            let api = path.starts_with("/api/");
            match route.access {
                // Reachable without a session (it may still refuse what was sent).
                Access::Public => {}
                Access::Login | Access::SignedIn | Access::Staff(_) if api => {
                    assert_eq!(answer.status, 401, "{verb:?} {path} anonymous")
                }
                Access::Login | Access::SignedIn | Access::Staff(_) => {
                    assert_eq!(answer.status, 303, "{verb:?} {path} anonymous");
                    assert_eq!(answer.headers["location"], "/login", "{verb:?} {path}");
                }
            }
            // Read-only members see calendars; the role matrix below covers those routes.
            if let Access::Staff(permission) = route.access
                && !preset(Role::ReadOnly).has(permission)
            {
                let answer = call(&read_only, verb, &path, &read_only_csrf).await;
                assert_eq!(answer.status, 403, "{verb:?} {path} without {permission:?}");
            }
        }
    }
    assert!(checked > 50, "only {checked} route methods were reached");
}

/// Real ids of the practice's own calendar data, so that each role meets the routes with
/// ids that exist (and the other practice meets the same ids).
async fn own_ids(owner: &Browser) -> Vec<(&'static str, String)> {
    let cal = termin_testkit::calendar::set_up(owner).await;
    let booked = cal
        .book(
            owner,
            &cal.dr_a,
            &format!("{}T09:00", termin_testkit::calendar::MONDAY),
        )
        .await;
    let absence = owner
        .post(
            "/api/v1/absences",
            &json!({"start_date": "2026-05-04", "end_date": "2026-05-04",
                    "practitioner_ids": [cal.dr_b]}),
        )
        .await;
    vec![
        ("/api/v1/practitioners/{id}", cal.dr_a.clone()),
        ("/api/v1/visit-types/{id}", cal.checkup.clone()),
        ("/api/v1/patients/{id}", cal.patient.clone()),
        (
            "/api/v1/appointments/{id}",
            booked.body["id"].as_str().unwrap().to_owned(),
        ),
        (
            "/api/v1/absences/{id}",
            absence.body["id"].as_str().unwrap().to_owned(),
        ),
    ]
}

/// The concrete path, with an existing id where the route is about calendar data.
fn with_own_ids(pattern: &str, ids: &[(&str, String)]) -> String {
    for (prefix, id) in ids {
        let stem = prefix.trim_end_matches("{id}");
        if pattern.starts_with(stem) && pattern.contains("{id}") {
            return concrete(&pattern.replace("{id}", id));
        }
    }
    concrete(pattern)
}

#[tokio::test]
async fn staff_api_routes_answer_each_role_as_its_preset_says() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let ids = own_ids(&owner).await;
    let mut members = Vec::new();
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Owner) {
        members.push((role, member(&server, &owner, role).await));
    }
    members.push((Role::Owner, owner));
    // Another practice, whose slug nobody here may act in.
    server.other_practice_owner().await;
    for route in routes() {
        let Access::Staff(permission) = route.access else {
            continue;
        };
        if !route.path.starts_with("/api/") {
            continue;
        }
        let path = with_own_ids(route.path, &ids);
        for (role, browser) in &members {
            for verb in verbs(&route) {
                let answer = call(browser, verb, &path, "").await;
                if answer.status == 405 {
                    continue;
                }
                if preset(*role).has(permission) {
                    assert!(
                        answer.status != 403 && answer.status != 401 && answer.status < 500,
                        "{role:?} {verb:?} {path}: {} {:?}",
                        answer.status,
                        answer.body
                    );
                } else {
                    assert_eq!(answer.status, 403, "{role:?} {verb:?} {path}");
                }
                let elsewhere = browser
                    .request_with_header(method(verb), &path, ("x-termin-org", "praxis-nord"))
                    .await;
                assert_eq!(
                    elsewhere.status, 404,
                    "{role:?} {verb:?} {path} in another practice"
                );
            }
        }
    }
}

fn method(verb: Verb) -> reqwest::Method {
    reqwest::Method::from_bytes(verb.method().as_str().as_bytes()).unwrap()
}
