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

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};
use termin_testkit::calendar::{self, MONDAY};
use termin_testkit::{FIREFOX, OWNER_EMAIL, OWNER_PASSWORD, OWNER_PHONE, TestServer};

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
        caps.insert("acceptInsecureCerts".into(), json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                    "--ignore-certificate-errors", "--lang=de-DE", "--window-size=1600,1200",
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

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots")
}

/// Runs `steps`; when one fails, saves a screenshot and the page's HTML under
/// `target/screenshots/<name>.*` and closes the browser before the panic goes on.
async fn with_screenshot(c: &Client, name: &str, steps: impl Future<Output = ()>) {
    let Err(panic) = AssertUnwindSafe(steps).catch_unwind().await else {
        return;
    };
    let dir = screenshot_dir();
    let _ = std::fs::create_dir_all(&dir);
    match c.screenshot().await {
        Ok(png) => {
            let path = dir.join(format!("{name}.png"));
            let _ = std::fs::write(&path, png);
            eprintln!("screenshot saved to {}", path.display());
        }
        Err(e) => eprintln!("no screenshot: {e}"),
    }
    if let Ok(html) = c.source().await {
        let _ = std::fs::write(dir.join(format!("{name}.html")), html);
    }
    // Ends the browser too: killing chromedriver alone would leave Chromium running.
    let _ = c.clone().close().await;
    std::panic::resume_unwind(panic);
}

async fn click(c: &Client, locator: Locator<'_>) {
    c.find(locator).await.unwrap().click().await.unwrap();
}

async fn type_into(c: &Client, id: &str, text: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn value_of(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn wait_for_path(c: &Client, server: &TestServer, path: &str) {
    c.wait()
        .for_url(&url::Url::parse(&server.url(path)).unwrap())
        .await
        .unwrap();
}

/// The owner's first sign-in through the login page: password, then the codes to e-mail
/// and phone from the outbox (as `tests/browser.rs` does).
async fn first_sign_in(c: &Client, server: &TestServer) {
    c.goto(&server.url("/login")).await.unwrap();
    type_into(c, "email", OWNER_EMAIL).await;
    type_into(c, "password", OWNER_PASSWORD).await;
    click(c, Locator::Css("form[action='/login'] button")).await;
    wait_for_path(c, server, "/login/verify").await;
    let email_code = server.latest_code("email", OWNER_EMAIL).await;
    type_into(c, "code-email", &email_code).await;
    click(
        c,
        Locator::XPath("//input[@id='code-email']/ancestor::form//button"),
    )
    .await;
    // The next page, not the one still unloading: the e-mail step is gone.
    wait_until(
        c,
        "the e-mail step to be done",
        "return !document.getElementById('code-email') && !!document.getElementById('code-sms')",
        vec![],
    )
    .await;
    let sms_code = server.latest_code("sms", OWNER_PHONE).await;
    type_into(c, "code-sms", &sms_code).await;
    click(
        c,
        Locator::XPath("//input[@id='code-sms']/ancestor::form//button"),
    )
    .await;
    wait_for_path(c, server, "/app").await;
}

/// Runs `script` until it returns `true` (at most ten seconds).
async fn wait_until(c: &Client, what: &str, script: &str, args: Vec<Value>) {
    for _ in 0..100 {
        // An error (a page still loading) counts as "not yet".
        if c.execute(script, args.clone()).await.ok() == Some(json!(true)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let live = c
        .execute(
            "return document.getElementById('cal-live').textContent",
            vec![],
        )
        .await
        .unwrap_or_default();
    panic!("timed out waiting for {what}; live region: {live}");
}

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

async fn live_text(c: &Client) -> String {
    c.find(Locator::Id("cal-live"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_book_move_and_cancel_an_appointment_in_the_calendar_grid() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Browser::start().await else {
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
        assert!(live_text(c).await.contains("verschoben"));
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
        assert!(live_text(c).await.contains("abgesagt"));
    })
    .await;
    browser.client.clone().close().await.unwrap();
}
