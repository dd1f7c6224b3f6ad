//! The calendar page end to end in a real browser (Debian's Chromium through chromedriver):
//! the owner signs in through the login page with codes from the outbox, books in the week
//! grid by clicking a free time, moves the appointment by drag and drop and by the arrow
//! keys, and cancels it in its dialog; every step is checked through the API. A taken time
//! is refused in the booking dialog. On a failure a screenshot and the page's HTML are saved
//! to `target/screenshots/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::time::Duration;

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use termin_testkit::calendar::{self, MONDAY};
use termin_testkit::webdriver::{
    Chromium, click, first_sign_in, type_into, value_of, wait_until, with_screenshot,
};
use termin_testkit::{FIREFOX, TestServer};

/// Waits until the appointment's grid button reads `needle` (it is drawn anew after every
/// answer of the API).
async fn wait_for_label(c: &Client, id: &str, needle: &str) {
    wait_until(
        c,
        &format!("the appointment at {needle}"),
        "const b = document.querySelector(`.cal-appt[data-id=\"${arguments[0]}\"]`);
         return !!b && b.getAttribute('aria-label').includes(arguments[1]);",
        vec![json!(id), json!(needle)],
    )
    .await;
}

/// Polls the API until the appointment satisfies `check` (the page saves asynchronously).
async fn wait_for_appointment(
    owner: &termin_testkit::Browser,
    id: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let answer = owner.get(&format!("/api/v1/appointments/{id}")).await;
        if answer.status == 200 && check(&answer.body) {
            return answer.body;
        }
        last = answer.body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {last:?}");
}

async fn wait_for_start(owner: &termin_testkit::Browser, id: &str, start: &str) -> Value {
    wait_for_appointment(owner, id, &format!("starts at {start}"), |a| {
        a["start"] == start
    })
    .await
}

/// The viewport point at `minute` past midnight in the grid column of `date` and
/// `practitioner`, scrolled to the middle of the screen.
async fn point_in_column(c: &Client, date: &str, practitioner: &str, minute: u32) -> (f64, f64) {
    let script = r#"
        const [date, practitioner, minute] = arguments;
        const grid = document.getElementById("cal-grid");
        const col = grid.querySelector(`.cal-col[data-date="${date}"][data-practitioner="${practitioner}"]`);
        const y = (minute - Number(grid.dataset.firstMinute)) * Number(grid.dataset.minutePx) + 2;
        let r = col.getBoundingClientRect();
        grid.scrollTop += r.top + y - grid.getBoundingClientRect().top - grid.clientHeight / 2;
        r = col.getBoundingClientRect();
        window.scrollBy(0, r.top + y - window.innerHeight / 2);
        r = col.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + y];
    "#;
    let point = c
        .execute(
            script,
            vec![json!(date), json!(practitioner), json!(minute)],
        )
        .await
        .unwrap();
    (point[0].as_f64().unwrap(), point[1].as_f64().unwrap())
}

/// A real mouse click (pointer events) at a viewport point.
async fn click_at(c: &Client, (x, y): (f64, f64)) {
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x,
            y,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(mouse).await.unwrap();
    c.release_actions().await.unwrap();
}

/// Drags `element` down by `dy` pixels in a few steps, as a hand would.
async fn drag_down(c: &Client, element: Element, dy: f64) {
    let step = PointerAction::MoveBy {
        duration: Some(Duration::from_millis(120)),
        x: 0.0,
        y: dy / 3.0,
    };
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(step.clone())
        .then(step.clone())
        .then(step)
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(mouse).await.unwrap();
    c.release_actions().await.unwrap();
}

async fn appointment(c: &Client, id: &str) -> Element {
    c.find(Locator::Css(&format!(".cal-appt[data-id='{id}']")))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_book_move_and_cancel_an_appointment_in_the_calendar_grid() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Chromium::start().await else {
        return;
    };
    let c = &browser.client;
    let name = "staff_book_move_and_cancel_an_appointment_in_the_calendar_grid";
    with_screenshot(c, name, async {
        first_sign_in(c, &server).await;
        let owner = server.signed_in_owner(FIREFOX).await;
        let cal = calendar::set_up(&owner).await;
        // Dr. Ben Roth is busy at 09:00 on Monday.
        let busy = owner
            .post(
                "/api/v1/appointments",
                &cal.booking(&cal.dr_b, &format!("{MONDAY}T09:00")),
            )
            .await;
        assert_eq!(busy.status, 201, "{:?}", busy.body);

        // The page in German, whatever language headless Chromium asks for.
        c.execute(
            "document.cookie = 'lang=de; path=/; secure; samesite=strict'",
            vec![],
        )
        .await
        .unwrap();
        c.goto(&server.url(&format!(
            "/practices/praxis-am-see/calendar?date={MONDAY}&view=week"
        )))
        .await
        .unwrap();
        let anna_monday = format!(
            ".cal-col[data-date='{MONDAY}'][data-practitioner='{}']",
            cal.dr_a
        );
        c.wait()
            .for_element(Locator::Css(&anna_monday))
            .await
            .unwrap();
        assert!(
            !c.find(Locator::Id("cal-list"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap(),
            "the grid replaces the server's lists"
        );
        let px = c
            .execute(
                "return Number(document.getElementById('cal-grid').dataset.minutePx)",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();

        // A taken time is refused in the dialog, which stays open.
        click_at(c, point_in_column(c, MONDAY, &cal.dr_b, 10 * 60).await).await;
        c.wait()
            .for_element(Locator::Css("#cal-create[open]"))
            .await
            .unwrap();
        assert_eq!(value_of(c, "cal-c-start").await, format!("{MONDAY}T10:00"));
        c.execute(
            "document.getElementById('cal-c-start').value = arguments[0]",
            vec![json!(format!("{MONDAY}T09:00"))],
        )
        .await
        .unwrap();
        type_into(c, "cal-c-q", "Mül").await;
        c.wait()
            .for_element(Locator::Css("#cal-c-results button[data-id]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(c, Locator::Css("#cal-create button[type=submit]")).await;
        let error = c
            .wait()
            .for_element(Locator::Css("#cal-create [data-errors]:not([hidden])"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(error.contains("schon belegt"), "{error}");
        click(c, Locator::Css("#cal-create [data-close]")).await;

        // Book by clicking 09:00 in Dr. Anna Weber's Monday column.
        click_at(c, point_in_column(c, MONDAY, &cal.dr_a, 9 * 60).await).await;
        c.wait()
            .for_element(Locator::Css("#cal-create[open]"))
            .await
            .unwrap();
        assert_eq!(value_of(c, "cal-c-start").await, format!("{MONDAY}T09:00"));
        assert_eq!(value_of(c, "cal-c-practitioner").await, cal.dr_a);
        type_into(c, "cal-c-q", "Mül").await;
        let option = c
            .wait()
            .for_element(Locator::Css("#cal-c-results button[data-id]"))
            .await
            .unwrap();
        assert!(option.text().await.unwrap().contains("Jürgen Müller"));
        option.click().await.unwrap();
        c.find(Locator::Id("cal-c-visit"))
            .await
            .unwrap()
            .select_by_value(&cal.checkup)
            .await
            .unwrap();
        click(c, Locator::Css("#cal-create button[type=submit]")).await;
        let booked = c
            .wait()
            .for_element(Locator::Css(&format!("{anna_monday} .cal-appt")))
            .await
            .unwrap();
        let id = booked.attr("data-id").await.unwrap().unwrap();
        assert!(booked.text().await.unwrap().contains("Jürgen Müller"));
        let stored = owner.get(&format!("/api/v1/appointments/{id}")).await;
        assert_eq!(stored.status, 200);
        assert_eq!(stored.body["start"], "2026-03-30T07:00:00Z");
        assert_eq!(stored.body["end"], "2026-03-30T07:30:00Z");
        assert_eq!(stored.body["practitioner_id"], cal.dr_a.as_str());
        assert_eq!(stored.body["visit_type_id"], cal.checkup.as_str());
        assert_eq!(stored.body["patient_id"], cal.patient.as_str());
        wait_until(
            c,
            "the booking announced",
            "return document.getElementById('cal-live').textContent.includes('Termin angelegt')",
            vec![],
        )
        .await;

        // Drag it an hour later.
        drag_down(c, appointment(c, &id).await, 60.0 * px).await;
        wait_for_start(&owner, &id, "2026-03-30T08:00:00Z").await;
        wait_for_label(c, &id, "10:00–10:30").await;

        // The keyboard: two steps of 15 minutes later are one move, then back.
        let down = format!("{}{}", Key::Down, Key::Down);
        appointment(c, &id).await.send_keys(&down).await.unwrap();
        wait_for_start(&owner, &id, "2026-03-30T08:30:00Z").await;
        wait_for_label(c, &id, "10:30–11:00").await;
        // The announcement is set a moment after the grid (so that it is read again).
        wait_until(
            c,
            "the announcement",
            "return document.getElementById('cal-live').textContent.includes(arguments[0])",
            vec![json!("verschoben")],
        )
        .await;
        assert_eq!(
            c.execute("return document.activeElement.dataset.id", vec![])
                .await
                .unwrap(),
            json!(id),
            "the moved appointment keeps the focus"
        );
        let up = format!("{}{}", Key::Up, Key::Up);
        appointment(c, &id).await.send_keys(&up).await.unwrap();
        wait_for_start(&owner, &id, "2026-03-30T08:00:00Z").await;
        wait_for_label(c, &id, "10:00–10:30").await;
        // Right is the next column: Dr. Ben Roth on the same day; left comes back.
        appointment(c, &id)
            .await
            .send_keys(&Key::Right.to_string())
            .await
            .unwrap();
        wait_for_appointment(&owner, &id, "moved to Dr. Roth", |a| {
            a["practitioner_id"] == cal.dr_b.as_str() && a["start"] == "2026-03-30T08:00:00Z"
        })
        .await;
        wait_for_label(c, &id, "Dr. Ben Roth").await;
        appointment(c, &id)
            .await
            .send_keys(&Key::Left.to_string())
            .await
            .unwrap();
        wait_for_appointment(&owner, &id, "back with Dr. Weber", |a| {
            a["practitioner_id"] == cal.dr_a.as_str()
        })
        .await;
        wait_for_label(c, &id, "Dr. Anna Weber").await;

        // Enter opens it; cancel with a reason.
        appointment(c, &id)
            .await
            .send_keys(&Key::Enter.to_string())
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css("#cal-edit[open]"))
            .await
            .unwrap();
        let summary = c
            .find(Locator::Id("cal-e-summary"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(summary.contains("10:00"), "{summary}");
        // The reminder planned for the patient's phone, with its state.
        wait_until(
            c,
            "the reminders in the dialog",
            "return document.getElementById('cal-e-reminders').textContent.includes(arguments[0])",
            vec![json!("SMS 2026-03-29 10:00: geplant")],
        )
        .await;
        type_into(c, "cal-e-reason", "Praxis geschlossen").await;
        click(c, Locator::Css("#cal-edit button[data-action='cancel']")).await;
        let cancelled =
            wait_for_appointment(&owner, &id, "cancelled", |a| a["status"] == "cancelled").await;
        assert_eq!(cancelled["cancel_reason"], "Praxis geschlossen");
        wait_until(
            c,
            "the appointment to leave the grid",
            "return !document.querySelector(`.cal-appt[data-id=\"${arguments[0]}\"]`)
                && !document.getElementById('cal-edit').open",
            vec![json!(id)],
        )
        .await;
        // The announcement is set a moment after the grid (so that it is read again).
        wait_until(
            c,
            "the announcement",
            "return document.getElementById('cal-live').textContent.includes(arguments[0])",
            vec![json!("abgesagt")],
        )
        .await;
    })
    .await;
    browser.close().await;
}
