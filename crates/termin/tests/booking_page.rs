//! The public booking page (`/book/<slug>`) through its own links and forms, as a browser
//! without JavaScript uses it: new or returning and insurance, the visit types open to the
//! patient, the free times of two weeks, the details (refused fields come back with what was
//! entered, each message beside its field), the SMS code (a wrong one keeps the form), and
//! the booked appointment with its manage link. A time taken meanwhile leads back to the
//! free times; German and English; an unknown practice is not found; no inline script or
//! style anywhere; the writes are under the strict rate limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::json;
use termin_testkit::calendar::{self, Calendar, MONDAY};
use termin_testkit::{Answer, Browser, CHROME, FIREFOX, TestServer};

const SLUG: &str = "praxis-am-see";
const PHONE: &str = "+4915199887766";
/// Monday 09:00 in Berlin (summer time has begun).
const MONDAY_NINE: &str = "2026-03-30T07:00:00Z";

async fn practice() -> (TestServer, Browser, Calendar) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    (server, owner, cal)
}

fn html(answer: &Answer) -> &str {
    answer.body.as_str().expect("an HTML page")
}

fn location(answer: &Answer) -> String {
    assert_eq!(answer.status, 303, "a redirect: {:?}", answer.body);
    answer.headers["location"].to_str().unwrap().to_owned()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    let len = text[from..].find(end).unwrap_or(text.len() - from);
    &text[from..from + len]
}

/// The value of the free time's button at `instant` (`<practitioner>@<instant>`).
fn slot_at(page: &str, instant: &str) -> String {
    let end = page
        .find(&format!("@{instant}\""))
        .unwrap_or_else(|| panic!("no button for {instant}"));
    let start = page[..end].rfind('"').unwrap() + 1;
    format!("{}@{instant}", &page[start..end])
}

fn slots_path(cal: &Calendar) -> String {
    format!(
        "/book/{SLUG}/slots?patient=returning&insurance=statutory&visit_type={}",
        cal.checkup
    )
}

fn details_path(cal: &Calendar, slot: &str) -> String {
    format!(
        "/book/{SLUG}/details?patient=returning&insurance=statutory&visit_type={}&practitioner=&slot={slot}",
        cal.checkup
    )
}

/// The details form's fields for `slot`, with Jürgen Müller's details.
fn details(cal: &Calendar, slot: &str) -> Vec<(&'static str, String)> {
    vec![
        ("patient", "returning".into()),
        ("insurance", "statutory".into()),
        ("visit_type", cal.checkup.clone()),
        ("practitioner", String::new()),
        ("slot", slot.to_owned()),
        ("given_name", "Jürgen".into()),
        ("family_name", "Müller".into()),
        ("birth_date", "1970-05-04".into()),
        ("phone", "0151 99887766".into()),
        ("email", "j.mueller@example.org".into()),
    ]
}

async fn post(browser: &Browser, path: &str, fields: &[(&'static str, String)]) -> Answer {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post_form(path, &pairs).await
}

/// Sends the details for `slot`: the code page's path.
async fn hold(patient: &Browser, cal: &Calendar, slot: &str) -> String {
    let sent = post(
        patient,
        &format!("/book/{SLUG}/details"),
        &details(cal, slot),
    )
    .await;
    location(&sent)
}

/// The code form's fields as the code page carries them.
fn code_fields(code_page: &str, code: &str) -> Vec<(&'static str, String)> {
    let hidden =
        |name: &str| between(code_page, &format!("name=\"{name}\" value=\""), "\"").to_owned();
    vec![
        ("patient", hidden("patient")),
        ("insurance", hidden("insurance")),
        ("visit_type", hidden("visit_type")),
        ("practitioner", hidden("practitioner")),
        ("slot", hidden("slot")),
        ("until", hidden("until")),
        ("code", code.to_owned()),
    ]
}

#[tokio::test]
async fn a_patient_books_through_the_pages_forms_from_visit_type_to_manage_link() {
    let (server, owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);

    // 1: new or returning, insurance.
    let start = patient.get(&format!("/book/{SLUG}")).await;
    assert_eq!(start.status, 200);
    let page = html(&start);
    assert!(page.contains("<html lang=\"de\">"), "German by default");
    assert!(page.contains("Praxis am See"));
    assert!(page.contains("<legend>Waren Sie schon einmal in dieser Praxis?</legend>"));
    assert!(page.contains("<legend>Wie sind Sie versichert?</legend>"));
    assert!(page.contains("Schritt 1 von 5"));

    // 2: the visit types open to a returning patient with statutory insurance.
    let visit = patient
        .get(&format!(
            "/book/{SLUG}?asked=1&patient=returning&insurance=statutory"
        ))
        .await;
    assert_eq!(visit.status, 200);
    let page = html(&visit);
    assert!(page.contains(&format!("name=\"visit_type\" value=\"{}\"", cal.checkup)));
    assert!(page.contains("Kontrolle"));
    assert!(page.contains("30 Minuten · bei Dr. Anna Weber, Dr. Ben Roth"));
    assert!(page.contains(&format!("action=\"/book/{SLUG}/slots\"")));

    // 3: two weeks of free times from today (Wednesday 25 March) in Berlin time.
    let times = patient.get(&slots_path(&cal)).await;
    assert_eq!(times.status, 200);
    let page = html(&times);
    assert!(
        page.contains("<legend>Mittwoch, 25. März</legend>"),
        "today"
    );
    assert!(page.contains("<legend>Montag, 30. März</legend>"));
    assert!(
        page.contains("<legend>Dienstag, 7. April</legend>"),
        "the 14th day"
    );
    assert!(!page.contains("Mittwoch, 8. April"), "two weeks at once");
    assert!(!page.contains("Samstag"), "closed at weekends");
    assert!(page.contains("Alle Uhrzeiten in der Ortszeit der Praxis (Europe/Berlin)."));
    assert!(
        page.contains("from=2026-04-08"),
        "a link to the next two weeks"
    );
    let slot = slot_at(page, MONDAY_NINE);
    assert_eq!(
        page.matches(&format!("@{MONDAY_NINE}\"")).count(),
        1,
        "with anyone, a time shows once"
    );
    assert!(page.contains(&format!("value=\"{slot}\">09:00</button>")));

    // 4: the details form for that time.
    let form = patient.get(&details_path(&cal, &slot)).await;
    assert_eq!(form.status, 200, "{:?}", form.body);
    let page = html(&form);
    assert!(page.contains("Montag, 30. März 2026, 09:00 Uhr"));
    for id in ["given_name", "family_name", "birth_date", "phone", "email"] {
        assert!(page.contains(&format!("<label for=\"book-{id}\">")), "{id}");
    }
    assert!(page.contains(&format!("method=\"post\" action=\"/book/{SLUG}/details\"")));
    let code_path = hold(&patient, &cal, &slot).await;
    assert!(
        code_path.starts_with(&format!("/book/{SLUG}/code/")),
        "{code_path}"
    );
    assert!(
        code_path.contains("until=2026-03-25T00:10:00Z"),
        "{code_path}"
    );

    // 5: the code form, the hold's end in practice time (00:10 UTC is 01:10 in Berlin).
    let code_page = patient.get(&code_path).await;
    assert_eq!(code_page.status, 200);
    let page = html(&code_page).to_owned();
    assert!(page.contains("Die Zeit ist bis 01:10 Uhr für Sie reserviert."));
    assert!(page.contains("autocomplete=\"one-time-code\""));
    let code = server.latest_code("sms", PHONE).await;
    let action = code_path.split('?').next().unwrap();
    let confirmed = post(&patient, action, &code_fields(&page, &code)).await;
    let done_path = location(&confirmed);
    let token = done_path
        .strip_prefix(&format!("/book/{SLUG}/done/"))
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 64);

    // Booked: the appointment and its links.
    let done = patient.get(&done_path).await;
    assert_eq!(done.status, 200);
    let page = html(&done);
    assert!(page.contains("Ihr Termin ist gebucht"));
    assert!(page.contains("Montag, 30. März 2026, 09:00 Uhr"));
    assert!(page.contains(&format!("href=\"/manage/{token}\"")));
    assert!(page.contains(&format!("href=\"/api/v1/manage/{token}/calendar.ics\"")));
    assert!(
        !page.contains("Müller"),
        "nothing about the patient's record"
    );
    let sms = server.outbox("sms").await;
    assert!(
        sms.iter().any(|m| m["to"] == PHONE
            && m["body"]
                .as_str()
                .unwrap()
                .contains(&format!("/manage/{token}"))),
        "the confirmation carries the same link"
    );

    // The practice has it, online, for the patient's existing record.
    let listed = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    let appointment = &listed.body["appointments"][0];
    assert_eq!(appointment["start"], MONDAY_NINE);
    assert_eq!(appointment["source"], "online");
    assert_eq!(appointment["patient_id"], cal.patient.as_str());
    // And the time is no longer free.
    let times = patient.get(&slots_path(&cal)).await;
    let practitioner = slot.split('@').next().unwrap();
    assert!(!html(&times).contains(&format!("{practitioner}@{MONDAY_NINE}")));
}

#[tokio::test]
async fn refused_details_come_back_with_the_input_and_each_message_beside_its_field() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let times = patient.get(&slots_path(&cal)).await;
    let slot = slot_at(html(&times), MONDAY_NINE);
    let sms_before = server.outbox("sms").await.len();
    let mut fields = details(&cal, &slot);
    for (name, value) in &mut fields {
        match *name {
            "given_name" => *value = "  ".into(),
            "birth_date" => *value = "2030-01-01".into(),
            "phone" => *value = "abc".into(),
            "email" => *value = "kein-at".into(),
            _ => {}
        }
    }
    let refused = post(&patient, &format!("/book/{SLUG}/details"), &fields).await;
    assert_eq!(refused.status, 422);
    let page = html(&refused);
    assert!(page.contains("<title>Bitte prüfen: Ihre Angaben"));
    assert!(page.contains("role=\"alert\""));
    // Each field with its own message, right after it.
    let field =
        |name: &str| between(page, &format!("<input id=\"book-{name}\""), "</div>").to_owned();
    assert!(field("given_name").contains("ist erforderlich"));
    assert!(field("given_name").contains("aria-invalid=\"true\""));
    assert!(
        field("birth_date").contains("darf nicht in der Zukunft liegen"),
        "{}",
        field("birth_date")
    );
    assert!(field("phone").contains("id=\"book-phone-error\""));
    assert!(field("email").contains("id=\"book-email-error\""));
    assert!(!field("family_name").contains("aria-invalid"));
    // What was entered is kept, the chosen time too.
    assert!(field("family_name").contains("value=\"Müller\""));
    assert!(field("email").contains("value=\"kein-at\""));
    assert!(page.contains(&format!("name=\"slot\" value=\"{slot}\"")));
    assert!(page.contains("Montag, 30. März 2026, 09:00 Uhr"));
    assert_eq!(
        server.outbox("sms").await.len(),
        sms_before,
        "no code was sent"
    );
    // The phone number is required: the code goes there.
    let mut no_phone = details(&cal, &slot);
    no_phone.retain(|(name, _)| *name != "phone");
    let refused = post(&patient, &format!("/book/{SLUG}/details"), &no_phone).await;
    assert_eq!(refused.status, 422);
    assert!(
        between(html(&refused), "<input id=\"book-phone\"", "</div>")
            .contains("Dorthin schicken wir den Code")
    );
}

#[tokio::test]
async fn a_time_taken_meanwhile_leads_back_to_the_free_times_with_a_message() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let times = patient.get(&slots_path(&cal)).await;
    let slot = slot_at(html(&times), MONDAY_NINE);
    // Someone else holds the same time first, through the public API.
    let other = Browser::new(&server, CHROME);
    let practitioner = slot.split('@').next().unwrap();
    let first = other
        .post(
            &format!("/api/v1/public/{SLUG}/bookings"),
            &json!({
                "visit_type_id": cal.checkup, "practitioner_id": practitioner, "start": MONDAY_NINE,
                "patient": {"given_name": "Erika", "family_name": "Muster",
                            "birth_date": "1980-01-01", "phone": "+4915100000007"},
            }),
        )
        .await;
    assert_eq!(first.status, 202, "{:?}", first.body);

    let sent = post(
        &patient,
        &format!("/book/{SLUG}/details"),
        &details(&cal, &slot),
    )
    .await;
    let back = location(&sent);
    assert!(back.starts_with(&format!("/book/{SLUG}/slots?")), "{back}");
    assert!(
        back.contains("from=2026-03-30") && back.contains("taken=1"),
        "{back}"
    );
    let page = patient.get(&back).await;
    assert_eq!(page.status, 200);
    let page = html(&page);
    assert!(page.contains(
        "role=\"alert\" id=\"book-alert\"><p>Diese Zeit hat gerade jemand anderes gebucht."
    ));
    assert!(!page.contains(&slot), "the taken time is not offered again");
    assert!(
        page.contains("<legend>Montag, 30. März</legend>"),
        "the same day first"
    );
}

#[tokio::test]
async fn a_wrong_code_is_said_beside_the_field_and_the_code_form_stays() {
    let (server, owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let times = patient.get(&slots_path(&cal)).await;
    let slot = slot_at(html(&times), MONDAY_NINE);
    let code_path = hold(&patient, &cal, &slot).await;
    let page = html(&patient.get(&code_path).await).to_owned();
    let action = code_path.split('?').next().unwrap();

    let wrong = post(&patient, action, &code_fields(&page, "000000")).await;
    assert_eq!(wrong.status, 422);
    let refused = html(&wrong);
    assert!(refused.contains("Der Code stimmt nicht oder ist abgelaufen."));
    let field = between(refused, "<input id=\"book-code\"", "</div>");
    assert!(field.contains("aria-invalid=\"true\""), "{field}");
    assert!(field.contains("neuesten SMS"), "{field}");
    assert!(
        refused.contains(&format!("action=\"{action}\"")),
        "the same form"
    );
    assert!(refused.contains("Die Zeit ist bis 01:10 Uhr für Sie reserviert."));
    let none = owner
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(none.body["appointments"], json!([]));

    // The right code from the same form still books.
    let code = server.latest_code("sms", PHONE).await;
    let right = post(&patient, action, &code_fields(refused, &code)).await;
    assert!(location(&right).starts_with(&format!("/book/{SLUG}/done/")));
}

#[tokio::test]
async fn only_online_bookable_visit_types_open_to_the_patient_are_offered() {
    let (server, owner, cal) = practice().await;
    for body in [
        json!({"name": "Erstgespräch", "duration_minutes": 45, "online_bookable": true,
               "new_patients": true, "returning_patients": false, "insurances": ["private", "self_pay"],
               "practitioner_ids": [cal.dr_a], "instructions": "Bitte Vorbefunde mitbringen."}),
        json!({"name": "Impfung", "duration_minutes": 15, "online_bookable": false}),
    ] {
        let created = owner.post("/api/v1/visit-types", &body).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
    }
    let patient = Browser::new(&server, CHROME);
    let offered = |patient_kind: &'static str, insurance: &'static str| {
        let patient = &patient;
        async move {
            let answer = patient
                .get(&format!(
                    "/book/{SLUG}?patient={patient_kind}&insurance={insurance}"
                ))
                .await;
            assert_eq!(answer.status, 200);
            html(&answer).to_owned()
        }
    };
    let returning = offered("returning", "statutory").await;
    assert!(returning.contains("Kontrolle"));
    assert!(!returning.contains("Erstgespräch"));
    assert!(!returning.contains("Impfung"));
    let new_private = offered("new", "private").await;
    assert!(new_private.contains("Kontrolle") && new_private.contains("Erstgespräch"));
    assert!(
        new_private.contains("45 Minuten · bei Dr. Anna Weber<br>Bitte Vorbefunde mitbringen.")
    );
    assert!(!new_private.contains("Impfung"));
    let new_statutory = offered("new", "statutory").await;
    assert!(!new_statutory.contains("Erstgespräch"));

    // The first step sent without answers says so beside each question.
    let unanswered = patient.get(&format!("/book/{SLUG}?asked=1")).await;
    assert_eq!(unanswered.status, 422);
    let page = html(&unanswered);
    assert!(page.contains("id=\"patient-error\">Bitte wählen Sie eine Antwort."));
    assert!(page.contains("id=\"insurance-error\">Bitte wählen Sie eine Antwort."));
    // The free times without a visit type lead back to choosing one.
    let no_visit = patient
        .get(&format!("/book/{SLUG}/slots?patient=new&insurance=private"))
        .await;
    let back = location(&no_visit);
    let again = patient.get(&back).await;
    assert_eq!(again.status, 422);
    assert!(html(&again).contains("Bitte wählen Sie einen Anlass."));
}

#[tokio::test]
async fn a_chosen_practitioner_shows_only_their_times() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let times = patient
        .get(&format!("{}&practitioner={}", slots_path(&cal), cal.dr_b))
        .await;
    let page = html(&times);
    assert!(page.contains(&format!("value=\"{}\" selected>Dr. Ben Roth", cal.dr_b)));
    assert!(page.contains(&format!("{}@{MONDAY_NINE}", cal.dr_b)));
    assert!(!page.contains(&format!("{}@", cal.dr_a)));
    // The later two weeks keep the choice; the earlier link leads back to today.
    let next_at = page.find("\" rel=\"next\"").unwrap();
    let later = page[page[..next_at].rfind('"').unwrap() + 1..next_at].replace("&#38;", "&");
    assert!(later.contains(&format!("practitioner={}", cal.dr_b)));
    let next = patient.get(&later).await;
    assert_eq!(next.status, 200, "{later}: {:?}", next.body);
    let page = html(&next);
    assert!(page.contains("<legend>Mittwoch, 8. April</legend>"));
    assert!(page.contains("rel=\"prev\""));
}

#[tokio::test]
async fn the_page_speaks_english_to_an_english_browser_and_switches_on_request() {
    let (server, _owner, _cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let english = patient
        .get_with_header(
            &format!("/book/{SLUG}"),
            ("accept-language", "en-GB,en;q=0.9"),
        )
        .await;
    let page = html(&english);
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("<legend>Have you been to this practice before?</legend>"));
    assert!(page.contains("Step 1 of 5"));
    assert!(page.contains("lang=\"de\" hreflang=\"de\">Deutsch</a>"));

    // The switch link: German from now on, whatever the browser asks for.
    let switched = patient
        .get_with_header(
            &format!("/book/{SLUG}?change=1&lang=de"),
            ("accept-language", "en"),
        )
        .await;
    assert!(html(&switched).contains("<html lang=\"de\">"));
    let cookie = switched.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("lang=de;") && cookie.contains("Secure"),
        "{cookie}"
    );
    let later = patient
        .get_with_header(
            &format!("/book/{SLUG}?patient=new&insurance=self_pay"),
            ("accept-language", "en"),
        )
        .await;
    let page = html(&later);
    assert!(page.contains("Wofür möchten Sie kommen?"));
    assert!(page.contains("Selbstzahler"));
    assert!(page.contains("lang=\"en\" hreflang=\"en\">English</a>"));
}

#[tokio::test]
async fn an_unknown_practice_is_not_found() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let patient = Browser::new(&server, CHROME);
    for path in [
        "/book/no-such-practice",
        "/book/Not_A_Slug",
        "/book/no-such-practice/slots",
        &format!("/book/{SLUG}/code/not-a-booking"),
        &format!("/book/{SLUG}/done/{}", "ab".repeat(32)),
    ] {
        let answer = patient.get(path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(html(&answer).contains("<html lang=\"de\">"), "{path}");
    }
    let sent = patient
        .post_form("/book/no-such-practice/details", &[("given_name", "A")])
        .await;
    assert_eq!(sent.status, 404);
}

/// Whether the page has an attribute like ` onclick=`.
fn has_event_handler(page: &str) -> bool {
    page.match_indices(" on").any(|(at, _)| {
        let rest = &page[at + 3..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_lowercase())
            .unwrap_or(rest.len());
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}

#[tokio::test]
async fn no_step_has_inline_script_or_style() {
    let (server, _owner, cal) = practice().await;
    let patient = Browser::new(&server, CHROME);
    let times = patient.get(&slots_path(&cal)).await;
    let slot = slot_at(html(&times), MONDAY_NINE);
    let code_path = hold(&patient, &cal, &slot).await;
    let code_page = html(&patient.get(&code_path).await).to_owned();
    let action = code_path.split('?').next().unwrap().to_owned();
    let confirmed = post(
        &patient,
        &action,
        &code_fields(&code_page, &server.latest_code("sms", PHONE).await),
    )
    .await;
    let done = location(&confirmed);
    for path in [
        format!("/book/{SLUG}"),
        format!("/book/{SLUG}?patient=new&insurance=private"),
        slots_path(&cal),
        details_path(&cal, &slot),
        code_path,
        done,
    ] {
        let answer = patient.get(&path).await;
        assert_eq!(answer.status, 200, "{path}");
        let csp = answer.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"));
        let page = html(&answer);
        assert!(!page.contains("<style"), "{path}");
        assert!(!page.contains(" style="), "{path}");
        assert!(!page.contains("javascript:"), "{path}");
        for script in page.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(tag.contains(" src=\"/assets/"), "{path}: <script{tag}>");
            assert!(script[tag.len() + 1..].starts_with("</script>"), "{path}");
        }
        assert!(
            !has_event_handler(page),
            "an event handler attribute in {path}"
        );
    }
    // The refused forms, too.
    let refused = patient
        .post_form(&format!("/book/{SLUG}/details"), &[("given_name", "")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(!html(&refused).contains(" style="));
}

#[tokio::test]
async fn the_booking_forms_are_under_the_strict_rate_limit() {
    let server = TestServer::builder()
        .configure(|raw| {
            raw.limits.auth_requests_per_minute = 6;
            raw.limits.auth_burst = 2;
        })
        .start()
        .await;
    server.with_practice().await;
    let patient = Browser::new(&server, CHROME);
    let path = format!("/book/{SLUG}/details");
    for _ in 0..2 {
        assert_eq!(patient.post_form(&path, &[]).await.status, 422);
    }
    assert_eq!(patient.post_form(&path, &[]).await.status, 429);
    // Reading the page is not a write: only the general limit applies.
    assert_eq!(patient.get(&format!("/book/{SLUG}")).await.status, 200);
}
