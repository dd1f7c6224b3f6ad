//! Online booking end to end in a real browser (Debian's Chromium through chromedriver): a
//! patient books on the public page in a phone-sized window — answers, visit type, a free
//! time, their details, the code from the SMS in the outbox — staff see the appointment in
//! the practice's calendar, and the patient cancels it on the page behind the manage link.
//! On a failure a screenshot and the page's HTML are saved to `target/screenshots/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use termin_testkit::calendar::{self, MONDAY};
use termin_testkit::webdriver::{
    Chromium, click, first_sign_in, text_of, type_into, value_of, wait_until, with_screenshot,
};
use termin_testkit::{FIREFOX, TestServer};

const PHONE: &str = "+4915199887766";
/// Monday 09:00 in Berlin.
const MONDAY_NINE: &str = "2026-03-30T07:00:00Z";

/// Waits for the next step's page: its heading reads `heading`.
async fn wait_for_heading(c: &Client, heading: &str) {
    wait_until(
        c,
        &format!("the page “{heading}”"),
        "return document.readyState === 'complete'
            && document.querySelector('h1')?.textContent.trim() === arguments[0]",
        vec![json!(heading)],
    )
    .await;
}

/// Sends the form of the page's main submit button.
async fn submit(c: &Client, form: &str) {
    click(c, Locator::Css(&format!("{form} button[type=submit]"))).await;
}

/// Polls the API until the appointment satisfies `check`.
async fn wait_for_appointment(
    owner: &termin_testkit::Browser,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let answer = owner
            .get(&format!(
                "/api/v1/appointments?from={MONDAY}&to={MONDAY}&include_cancelled=true"
            ))
            .await;
        if let Some(found) = answer.body["appointments"]
            .as_array()
            .and_then(|list| list.iter().find(|a| check(a)))
        {
            return found.clone();
        }
        last = answer.body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_on_the_public_page_staff_see_it_and_the_patient_cancels() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let Some(browser) = Chromium::start_with_window(412, 915).await else {
        return;
    };
    let c = &browser.client;
    let name = "a_patient_books_on_the_public_page_staff_see_it_and_the_patient_cancels";
    with_screenshot(c, name, async {
        // Staff are signed in on this computer too (the practice's calendar, below).
        first_sign_in(c, &server).await;
        let owner = server.signed_in_owner(FIREFOX).await;
        let cal = calendar::set_up(&owner).await;

        // The patient opens the booking page; the language switch makes it German.
        c.goto(&server.url("/book/praxis-am-see?lang=de"))
            .await
            .unwrap();
        wait_for_heading(c, "Zuerst zu Ihnen").await;
        click(c, Locator::Css("input[name=patient][value=returning]")).await;
        click(c, Locator::Css("input[name=insurance][value=statutory]")).await;
        submit(c, "form.book-form").await;

        wait_for_heading(c, "Wofür möchten Sie kommen?").await;
        let visit = format!("visit-{}", cal.checkup);
        click(c, Locator::Css(&format!("label[for='{visit}']"))).await;
        assert_eq!(
            c.execute(
                "return document.getElementById(arguments[0]).checked",
                vec![json!(visit)]
            )
            .await
            .unwrap(),
            json!(true),
            "the label chooses its visit type"
        );
        submit(c, "form.book-form").await;

        wait_for_heading(c, "Wann passt es Ihnen?").await;
        let time = c
            .find(Locator::Css(&format!("button[name=slot][value$='@{MONDAY_NINE}']")))
            .await
            .unwrap();
        assert_eq!(time.text().await.unwrap(), "09:00");
        let legend = c
            .execute(
                "return arguments[0].closest('fieldset').querySelector('legend').textContent",
                vec![serde_json::to_value(&time).unwrap()],
            )
            .await
            .unwrap();
        assert_eq!(legend, json!("Montag, 30. März"));
        time.click().await.unwrap();

        wait_for_heading(c, "Ihre Angaben").await;
        assert!(text_of(c, ".book-facts").await.contains("Montag, 30. März 2026, 09:00 Uhr"));
        type_into(c, "book-given_name", "Jürgen").await;
        type_into(c, "book-family_name", "Müller").await;
        // The date field's order of day and month follows the browser's locale, which
        // headless Chromium does not take from --lang: set it as a date picker would.
        c.execute(
            "document.getElementById('book-birth_date').value = '1970-05-04'",
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(value_of(c, "book-birth_date").await, "1970-05-04");
        type_into(c, "book-phone", "0151 99887766").await;
        type_into(c, "book-email", "j.mueller@example.org").await;
        submit(c, "form.book-form").await;

        wait_for_heading(c, "Code aus der SMS eingeben").await;
        assert!(text_of(c, ".book-held").await.contains("01:10 Uhr"));
        // A wrong code first: said at the field, which gets the focus.
        type_into(c, "book-code", "000000").await;
        submit(c, "form.book-form").await;
        wait_until(
            c,
            "the wrong code refused",
            "return document.activeElement?.id === 'book-code'
                && document.getElementById('book-code').getAttribute('aria-invalid') === 'true'",
            vec![],
        )
        .await;
        assert!(text_of(c, "[role=alert]").await.contains("Der Code stimmt nicht"));
        let code = server.latest_code("sms", PHONE).await;
        type_into(c, "book-code", &code).await;
        submit(c, "form.book-form").await;

        wait_for_heading(c, "Ihr Termin ist gebucht").await;
        let manage = c
            .find(Locator::Css(".book-links a[href^='/manage/']"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let sms = server.outbox("sms").await;
        assert!(
            sms.iter()
                .any(|m| m["to"] == PHONE && m["body"].as_str().unwrap().contains(&manage)),
            "the SMS carries the same manage link"
        );

        // Staff see it in the calendar, booked online for the patient's record.
        let booked = wait_for_appointment(&owner, "booked", |a| a["start"] == MONDAY_NINE).await;
        assert_eq!(booked["source"], "online");
        assert_eq!(booked["patient_id"], cal.patient.as_str());
        let id = booked["id"].as_str().unwrap().to_owned();
        c.set_window_size(1600, 1200).await.unwrap();
        c.goto(&server.url(&format!(
            "/practices/praxis-am-see/calendar?date={MONDAY}&view=week"
        )))
        .await
        .unwrap();
        let shown = c
            .wait()
            .for_element(Locator::Css(&format!(".cal-appt[data-id='{id}']")))
            .await
            .unwrap();
        let label = shown.attr("aria-label").await.unwrap().unwrap_or_default();
        assert!(label.contains("Jürgen Müller"), "{label}");
        assert!(label.contains("09:00"), "{label}");

        // The patient cancels through the manage link.
        c.set_window_size(412, 915).await.unwrap();
        c.goto(&server.url(&manage)).await.unwrap();
        c.wait()
            .for_element(Locator::Css("input[name=reason]"))
            .await
            .unwrap()
            .send_keys("Bin verhindert")
            .await
            .unwrap();
        click(c, Locator::Css("form[action$='/cancel'] button[type=submit]")).await;
        wait_until(
            c,
            "the cancellation confirmed",
            "return document.querySelector('[role=status]')?.textContent.includes('abgesagt') === true",
            vec![],
        )
        .await;
        let cancelled =
            wait_for_appointment(&owner, "cancelled", |a| a["id"] == id.as_str()).await;
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["cancel_reason"], "Bin verhindert");
    })
    .await;
    browser.close().await;
}
