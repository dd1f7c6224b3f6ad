//! The practice calendar page as the server renders it (no JavaScript): the week's or day's
//! appointments per practitioner in German and English, navigation and practitioner choice,
//! absences, and who may open it at all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::json;
use termin_testkit::calendar::{self, Calendar, MONDAY};
use termin_testkit::{Answer, Browser, FIREFOX, TestServer};

const PAGE: &str = "/practices/praxis-am-see/calendar";
const ASSISTANT: (&str, &str, &str) = ("mia@praxis.example", "+4915112340011", "assistant");
const PASSWORD: &str = "Kaffee&Kuchen2026";

/// A practice with the test kit's calendar and Jürgen Müller booked with Dr. Anna Weber on
/// Monday at 09:00.
async fn practice() -> (TestServer, Browser, Calendar) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    let booked = owner
        .post(
            "/api/v1/appointments",
            &cal.booking(&cal.dr_a, &format!("{MONDAY}T09:00")),
        )
        .await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    (server, owner, cal)
}

fn html(answer: &Answer) -> &str {
    answer.body.as_str().expect("an HTML page")
}

#[tokio::test]
async fn the_week_lists_each_practitioners_appointments_in_german() {
    let (_server, owner, cal) = practice().await;
    let absence = owner
        .post(
            "/api/v1/absences",
            &json!({"start_date": "2026-03-31", "end_date": "2026-03-31",
                    "practitioner_ids": [cal.dr_b], "reason": "Fortbildung"}),
        )
        .await;
    assert_eq!(absence.status, 201, "{:?}", absence.body);

    let page = owner.get(&format!("{PAGE}?date=2026-04-01")).await;
    assert_eq!(page.status, 200);
    let body = html(&page);
    for expected in [
        "<title>Kalender · Termin</title>",
        "30.03.2026 – 05.04.2026",
        "Mo, 30.03.2026",
        "So, 05.04.2026",
        "Dr. Anna Weber",
        "Dr. Ben Roth",
        "<span class=\"cal-time\">09:00–09:30</span> Jürgen Müller",
        "Kontrolle",
        "Abwesend ganztägig",
        "src=\"/assets/calendar.js\"",
        "data-zone=\"Europe/Berlin\"",
        "data-slug=\"praxis-am-see\"",
        "data-may-manage=\"true\"",
        "href=\"/practices/praxis-am-see/calendar?date=2026-03-25&#38;view=week\"",
        "href=\"/practices/praxis-am-see/calendar?date=2026-04-08&#38;view=week\"",
        "href=\"/practices/praxis-am-see/calendar?date=2026-04-01&#38;view=day\"",
    ] {
        assert!(body.contains(expected), "{expected} in {body}");
    }
    // The page hands the API's CSRF token to the script.
    let csrf = body
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert_eq!(csrf.len(), 64, "{csrf}");
    // Nothing inline for the strict CSP.
    assert!(!body.contains("style="), "no inline style");
    assert!(!body.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn the_page_speaks_english_when_asked() {
    let (_server, owner, _cal) = practice().await;
    owner.set_cookie("lang", "en");
    let page = owner.get(&format!("{PAGE}?date={MONDAY}")).await;
    assert_eq!(page.status, 200);
    let body = html(&page);
    for expected in [
        "<title>Calendar · Termin</title>",
        "Mon, 2026-03-30",
        "2026-03-30 – 2026-04-05",
        "Jürgen Müller",
        "New appointment",
    ] {
        assert!(body.contains(expected), "{expected} in {body}");
    }
}

#[tokio::test]
async fn choosing_a_practitioner_and_the_day_view_narrow_the_list() {
    let (_server, owner, cal) = practice().await;
    let only_b = owner
        .get(&format!("{PAGE}?date={MONDAY}&view=day&p={}", cal.dr_b))
        .await;
    assert_eq!(only_b.status, 200);
    let body = html(&only_b);
    assert!(
        body.contains("<th scope=\"col\">Dr. Ben Roth</th>"),
        "{body}"
    );
    assert!(
        !body.contains("<th scope=\"col\">Dr. Anna Weber</th>"),
        "{body}"
    );
    assert!(!body.contains("Jürgen Müller"), "{body}");
    assert!(body.contains(&format!("value=\"{}\" checked>", cal.dr_b)));
    assert!(body.contains(&format!("value=\"{}\">", cal.dr_a)));
    assert!(body.contains("Mo, 30.03.2026"));
    assert!(!body.contains("Di, 31.03.2026"), "one day only");
    assert!(
        body.contains(&format!(
            "href=\"/practices/praxis-am-see/calendar?date=2026-03-31&#38;view=day&#38;p={}\"",
            cal.dr_b
        )),
        "the next day keeps the choice"
    );

    let only_a = owner
        .get(&format!("{PAGE}?date={MONDAY}&view=day&p={}", cal.dr_a))
        .await;
    assert!(html(&only_a).contains("Jürgen Müller"));
    // An id the member cannot choose is ignored: every calendar is shown.
    let unknown = owner
        .get(&format!(
            "{PAGE}?date={MONDAY}&p=00000000-0000-4000-8000-000000000001"
        ))
        .await;
    assert_eq!(unknown.status, 200);
    assert!(html(&unknown).contains("<th scope=\"col\">Dr. Anna Weber</th>"));
    assert!(html(&unknown).contains("<th scope=\"col\">Dr. Ben Roth</th>"));
}

#[tokio::test]
async fn a_member_whose_rights_lack_view_calendar_is_refused() {
    let (server, owner, _cal) = practice().await;
    let assistant = server.join_practice(&owner, ASSISTANT, PASSWORD).await;
    assert_eq!(assistant.get(PAGE).await.status, 200, "the preset may");

    let users = owner.get("/api/v1/users").await;
    let id = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == ASSISTANT.0)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let narrowed = owner
        .put(
            &format!("/api/v1/users/{id}/permissions"),
            &json!({"removals": ["view_calendar"]}),
        )
        .await;
    assert_eq!(narrowed.status, 200, "{:?}", narrowed.body);

    let refused = assistant.get(PAGE).await;
    assert_eq!(refused.status, 403);
    assert!(!html(&refused).contains("Jürgen Müller"));
}

#[tokio::test]
async fn another_practices_calendar_is_not_found() {
    let (server, owner, _cal) = practice().await;
    let nord = server.other_practice_owner().await;
    let elsewhere = nord.get(PAGE).await;
    assert_eq!(elsewhere.status, 404);
    assert!(!html(&elsewhere).contains("Jürgen Müller"));
    assert_eq!(
        owner.get("/practices/praxis-nord/calendar").await.status,
        404
    );
    assert_eq!(
        owner
            .get("/practices/no-such-practice/calendar")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn without_a_session_the_page_sends_to_the_login() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let anonymous = Browser::new(&server, FIREFOX);
    let answer = anonymous.get(PAGE).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.headers["location"], "/login");
}
