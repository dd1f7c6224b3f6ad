//! The practice set-up pages, as a browser without JavaScript uses them: HTML forms posted
//! with their CSRF field, answered with a redirect (303) when saved or with the form again
//! (422) showing each message beside its field and the values entered. Practitioners and
//! their opening hours and absences, visit types, patients (with the duplicate warning),
//! the appointments an absence covers, rights, and both languages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::{Value, json};
use termin_testkit::calendar::{self, MONDAY};
use termin_testkit::{Answer, Browser, FIREFOX, TestServer};

const BASE: &str = "/practices/praxis-am-see";
const PASSWORD: &str = "Kaffee&Kuchen2026";

async fn practice() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    (server, owner)
}

fn html(answer: &Answer) -> &str {
    answer.body.as_str().expect("an HTML page")
}

fn location(answer: &Answer) -> String {
    assert_eq!(answer.status, 303, "{:?}", answer.body);
    answer.headers["location"].to_str().unwrap().to_owned()
}

/// The id in a location like `/practices/x/things/{id}?done=…`.
fn id_in(location: &str) -> String {
    location
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// Posts `fields` (and the page's form token) to `path`.
async fn submit(browser: &Browser, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = browser.get(path).await.form_csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser.post_form(path, &all).await
}

async fn submit_to(browser: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = browser.get(page).await.form_csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser.post_form(action, &all).await
}

async fn new_practitioner(owner: &Browser, name: &str) -> String {
    let created = submit(
        owner,
        &format!("{BASE}/practitioners"),
        &[("name", name), ("colour", "#2f6fb0")],
    )
    .await;
    id_in(&location(&created))
}

#[tokio::test]
async fn the_owner_adds_a_practitioner_and_saves_the_opening_hours() {
    let (_server, owner) = practice().await;
    let list = owner.get(&format!("{BASE}/practitioners")).await;
    assert_eq!(list.status, 200);
    assert!(html(&list).contains("Noch keine Behandelnden."));

    let created = submit(
        &owner,
        &format!("{BASE}/practitioners"),
        &[
            ("name", "Anna Weber"),
            ("title", "Dr. med."),
            ("specialty", "Allgemeinmedizin"),
            ("colour", "#AA3366"),
            ("room", "Raum 2"),
        ],
    )
    .await;
    let page_path = location(&created);
    assert!(page_path.ends_with("?done=created"), "{page_path}");
    let id = id_in(&page_path);
    let page = owner.get(&page_path).await;
    assert_eq!(page.status, 200);
    let body = html(&page);
    assert!(body.contains("Dr. med. Anna Weber"), "{body}");
    assert!(
        body.contains("fill=\"#aa3366\""),
        "the swatch takes the colour: {body}"
    );
    assert!(
        !body.contains("style="),
        "no style attributes under the CSP"
    );
    let list = owner.get(&format!("{BASE}/practitioners")).await;
    assert!(html(&list).contains(&format!("/practitioners/{id}\">Dr. med. Anna Weber</a>")));

    let hours_path = format!("{BASE}/practitioners/{id}/hours");
    let saved = submit_to(
        &owner,
        &page_path,
        &hours_path,
        &[
            ("weekday", "mon"),
            ("start", "08:00"),
            ("end", "12:00"),
            ("valid_from", ""),
            ("valid_until", ""),
            ("every_weeks", "1"),
            ("visit_type_ids", ""),
            ("weekday", "thu"),
            ("start", "14:00"),
            ("end", "18:00"),
            ("valid_from", "2026-04-02"),
            ("valid_until", ""),
            ("every_weeks", "2"),
            ("visit_type_ids", ""),
            // An empty row is no rule.
            ("weekday", ""),
            ("start", ""),
            ("end", ""),
            ("valid_from", ""),
            ("valid_until", ""),
            ("every_weeks", "1"),
            ("visit_type_ids", ""),
        ],
    )
    .await;
    let back = location(&saved);
    assert!(back.contains("done=hours"), "{back}");
    let stored = owner.get(&format!("/api/v1/practitioners/{id}")).await;
    assert_eq!(
        stored.body["opening_hours"]["weekly"],
        json!([
            {"weekday": "mon", "start": "08:00", "end": "12:00", "valid_from": null,
             "valid_until": null, "every_weeks": 1, "visit_type_ids": []},
            {"weekday": "thu", "start": "14:00", "end": "18:00", "valid_from": "2026-04-02",
             "valid_until": null, "every_weeks": 2, "visit_type_ids": []},
        ])
    );
    let page = owner.get(&back).await;
    let body = html(&page);
    assert!(body.contains("Die Sprechzeiten sind gespeichert."));
    assert!(body.contains("value=\"14:00\"") && body.contains("value=\"2026-04-02\""));

    let renamed = submit_to(
        &owner,
        &page_path,
        &format!("{BASE}/practitioners/{id}"),
        &[
            ("name", "Anna Weber-Lang"),
            ("colour", "#aa3366"),
            ("active", "on"),
        ],
    )
    .await;
    assert!(location(&renamed).ends_with("?done=record"));
    let stored = owner.get(&format!("/api/v1/practitioners/{id}")).await;
    assert_eq!(stored.body["name"], "Anna Weber-Lang");
    assert_eq!(
        stored.body["title"],
        Value::Null,
        "an emptied field is cleared"
    );
    assert_eq!(stored.body["active"], true);
}

#[tokio::test]
async fn a_refused_form_shows_each_message_beside_its_field_and_keeps_the_input() {
    let (_server, owner) = practice().await;
    let refused = submit(
        &owner,
        &format!("{BASE}/practitioners"),
        &[("name", "  "), ("colour", "red"), ("room", "Raum 3")],
    )
    .await;
    assert_eq!(refused.status, 422);
    let body = html(&refused);
    assert!(
        body.contains("<ul class=\"errors\" id=\"new-name-error\"><li>ist erforderlich</li>"),
        "{body}"
    );
    assert!(body.contains(
        "<ul class=\"errors\" id=\"new-colour-error\"><li>muss eine Farbe wie #3366cc sein</li>"
    ));
    assert!(body.contains("value=\"Raum 3\""), "the input is kept");

    let id = new_practitioner(&owner, "Dr. Ben Roth").await;
    let page_path = format!("{BASE}/practitioners/{id}");
    let overlapping = submit_to(
        &owner,
        &page_path,
        &format!("{page_path}/hours"),
        &[
            ("weekday", "mon"),
            ("start", "08:00"),
            ("end", "12:00"),
            ("weekday", "mon"),
            ("start", "11:00"),
            ("end", "13:00"),
            ("weekday", "tue"),
            ("start", "9 Uhr"),
            ("end", "12:00"),
        ],
    )
    .await;
    assert_eq!(overlapping.status, 422);
    let body = html(&overlapping);
    assert!(
        body.contains("Zeile 2: überschneidet sich mit Zeile 1"),
        "{body}"
    );
    assert!(body.contains("Zeile 3: Von: muss eine Uhrzeit zwischen 00:00 und 23:59 sein"));
    assert!(body.contains("value=\"9 Uhr\"") && body.contains("value=\"11:00\""));
    let stored = owner.get(&format!("/api/v1/practitioners/{id}")).await;
    assert_eq!(
        stored.body["opening_hours"]["weekly"],
        json!([]),
        "nothing saved"
    );

    let absence = submit_to(
        &owner,
        &page_path,
        &format!("{page_path}/absences"),
        &[
            ("start_date", "2026-04-10"),
            ("end_date", "2026-04-08"),
            ("start_time", "14:00"),
            ("end_time", ""),
            ("reason", "Fortbildung"),
        ],
    )
    .await;
    assert_eq!(absence.status, 422);
    let body = html(&absence);
    assert!(
        body.contains("id=\"absence-end_date-error\"><li>darf nicht vor dem ersten Tag liegen")
    );
    assert!(body.contains("id=\"absence-end_time-error\"><li>braucht auch eine Endzeit"));
    assert!(body.contains("value=\"Fortbildung\""));

    let visit_type = submit(
        &owner,
        &format!("{BASE}/visit-types"),
        &[
            ("name", "Kontrolle"),
            ("duration_minutes", "dreißig"),
            ("buffer_after_minutes", "500"),
        ],
    )
    .await;
    assert_eq!(visit_type.status, 422);
    let body = html(&visit_type);
    assert!(
        body.contains("id=\"new-duration_minutes-error\"><li>muss eine ganze Zahl sein</li></ul>")
    );
    assert!(
        body.contains("id=\"new-buffer_after_minutes-error\"><li>muss zwischen 0 und 120 liegen")
    );
    assert!(body.contains("a visit type is open") || body.contains("eine Terminart steht"));
    assert!(body.contains("value=\"Kontrolle\"") && body.contains("value=\"dreißig\""));

    let patient = submit(
        &owner,
        &format!("{BASE}/patients"),
        &[
            ("given_name", "Eva"),
            ("family_name", "Klein"),
            ("birth_date", "2999-01-01"),
            ("phone", "12"),
            ("insurance_number", "A123456789"),
        ],
    )
    .await;
    assert_eq!(patient.status, 422);
    let body = html(&patient);
    assert!(body.contains("id=\"new-birth_date-error\"><li>darf nicht in der Zukunft liegen"));
    assert!(body.contains("id=\"new-insurance_number-error\"><li>hat eine falsche Prüfziffer"));
    assert!(body.contains("id=\"new-phone-error\">"));
    assert!(body.contains("value=\"Klein\"") && body.contains("value=\"A123456789\""));
}

#[tokio::test]
async fn the_owner_creates_and_changes_a_visit_type_with_every_field() {
    let (_server, owner) = practice().await;
    let dr_a = new_practitioner(&owner, "Dr. Anna Weber").await;
    let _dr_b = new_practitioner(&owner, "Dr. Ben Roth").await;
    let created = submit(
        &owner,
        &format!("{BASE}/visit-types"),
        &[
            ("name", "Erstgespräch"),
            ("duration_minutes", "45"),
            ("buffer_before_minutes", "5"),
            ("buffer_after_minutes", "10"),
            ("online_bookable", "on"),
            ("new_patients", "on"),
            ("insurances", "statutory"),
            ("insurances", "self_pay"),
            ("practitioner_ids", &dr_a),
            ("instructions", "Bitte Versichertenkarte mitbringen."),
            ("min_lead_minutes", "120"),
            ("max_horizon_days", "90"),
            ("cancel_deadline_hours", "48"),
        ],
    )
    .await;
    let page_path = location(&created);
    let id = id_in(&page_path);
    let expected = json!({
        "id": id, "name": "Erstgespräch", "duration_minutes": 45,
        "buffer_before_minutes": 5, "buffer_after_minutes": 10, "online_bookable": true,
        "new_patients": true, "returning_patients": false,
        "insurances": ["statutory", "self_pay"], "practitioner_ids": [dr_a],
        "instructions": "Bitte Versichertenkarte mitbringen.", "min_lead_minutes": 120,
        "max_horizon_days": 90, "cancel_deadline_hours": 48, "active": true,
    });
    let listed = owner.get("/api/v1/visit-types").await;
    assert_eq!(listed.body["visit_types"], json!([expected]));

    let page = owner.get(&page_path).await;
    assert_eq!(page.status, 200);
    let body = html(&page);
    assert!(body.contains("Die Terminart ist angelegt."));
    assert!(body.contains(&format!(
        "name=\"practitioner_ids\" value=\"{dr_a}\" checked"
    )));
    assert!(
        body.contains("name=\"returning_patients\" value=\"on\">"),
        "unticked"
    );

    let changed = submit(
        &owner,
        &format!("{BASE}/visit-types/{id}"),
        &[
            ("name", "Erstgespräch"),
            ("duration_minutes", "30"),
            ("new_patients", "on"),
            ("returning_patients", "on"),
        ],
    )
    .await;
    assert!(location(&changed).ends_with("?done=saved"));
    let listed = owner.get("/api/v1/visit-types").await;
    let stored = &listed.body["visit_types"][0];
    assert_eq!(stored["duration_minutes"], 30);
    assert_eq!(stored["active"], false, "the active box was not ticked");
    assert_eq!(stored["practitioner_ids"], json!([]));
    assert_eq!(
        stored["min_lead_minutes"], 60,
        "an empty number takes the default"
    );
    let list = owner.get(&format!("{BASE}/visit-types")).await;
    assert!(html(&list).contains("Erstgespräch</a> <span class=\"muted\">(inaktiv)"));
}

#[tokio::test]
async fn a_second_patient_with_the_same_name_and_birth_date_needs_a_confirmation() {
    let (_server, owner) = practice().await;
    let fields = [
        ("given_name", "Jürgen"),
        ("family_name", "Müller"),
        ("birth_date", "1970-05-04"),
        ("insurance", "statutory"),
        ("phone", "0151 99887766"),
        ("email", ""),
        ("notes", "Allergie: Penicillin"),
    ];
    let first = submit(&owner, &format!("{BASE}/patients"), &fields).await;
    let first_page = location(&first);
    let first_id = id_in(&first_page);
    let page = owner.get(&first_page).await;
    let body = html(&page);
    assert!(body.contains("Der Patient ist angelegt.") || body.contains("Angelegt."));
    assert!(body.contains("+4915199887766") && body.contains("Allergie: Penicillin"));
    assert!(body.contains("Keine Termine in den Kalendern, die Sie sehen."));

    let second = submit(&owner, &format!("{BASE}/patients"), &fields).await;
    assert_eq!(second.status, 422);
    let body = html(&second);
    assert!(body.contains("Es gibt bereits einen Eintrag mit diesem Namen und Geburtsdatum."));
    assert!(body.contains(&format!(
        "<a href=\"{BASE}/patients/{first_id}\">Müller, Jürgen (1970-05-04)</a>"
    )));
    assert!(body.contains("name=\"confirm_duplicate\""));
    assert!(
        body.contains("value=\"0151 99887766\""),
        "the input is kept"
    );

    let mut confirmed_fields = fields.to_vec();
    confirmed_fields.push(("confirm_duplicate", "on"));
    let confirmed = submit(&owner, &format!("{BASE}/patients"), &confirmed_fields).await;
    let second_id = id_in(&location(&confirmed));
    assert_ne!(second_id, first_id);

    let found = owner.get(&format!("{BASE}/patients?name=mueller")).await;
    assert_eq!(found.status, 200);
    let body = html(&found);
    assert!(body.contains(&format!("/patients/{first_id}\">Müller, Jürgen</a>")));
    assert!(body.contains(&format!("/patients/{second_id}\">Müller, Jürgen</a>")));
    assert!(
        body.contains("04.05.1970"),
        "dates as German readers write them"
    );
    let nobody = owner
        .get(&format!("{BASE}/patients?birth_date=1999-01-01"))
        .await;
    assert!(html(&nobody).contains("Niemand gefunden."));
    let refused = owner
        .get(&format!("{BASE}/patients?birth_date=gestern"))
        .await;
    assert_eq!(refused.status, 422);
    assert!(html(&refused).contains("id=\"search-birth_date-error\""));

    let changed = submit(
        &owner,
        &format!("{BASE}/patients/{first_id}"),
        &[
            ("given_name", "Jürgen"),
            ("family_name", "Müller"),
            ("birth_date", "1970-05-04"),
            ("insurance", "private"),
            ("phone", ""),
            ("email", "juergen@example.org"),
            ("notes", "Allergie: Penicillin"),
        ],
    )
    .await;
    assert!(location(&changed).ends_with("?done=saved"));
    let stored = owner.get(&format!("/api/v1/patients/{first_id}")).await;
    assert_eq!(stored.body["insurance"], "private");
    assert_eq!(stored.body["phone"], Value::Null);
    assert_eq!(stored.body["email"], "juergen@example.org");
}

#[tokio::test]
async fn an_absence_over_booked_appointments_offers_to_cancel_or_keep_each() {
    let (server, owner) = practice().await;
    let cal = calendar::set_up(&owner).await;
    let mut booked = Vec::new();
    for start in ["09:00", "10:00"] {
        let answer = owner
            .post(
                "/api/v1/appointments",
                &cal.booking(&cal.dr_a, &format!("{MONDAY}T{start}")),
            )
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        booked.push(answer.body["id"].as_str().unwrap().to_owned());
    }
    let page_path = format!("{BASE}/practitioners/{}", cal.dr_a);
    let covered = submit_to(
        &owner,
        &page_path,
        &format!("{page_path}/absences"),
        &[
            ("start_date", MONDAY),
            ("end_date", ""),
            ("start_time", ""),
            ("end_time", ""),
            ("repeat_weekly_until", ""),
            ("reason", "Fortbildung"),
        ],
    )
    .await;
    assert_eq!(covered.status, 200, "{:?}", covered.body);
    let body = html(&covered);
    assert!(body.contains("Die Abwesenheit ist gespeichert."));
    assert!(
        body.contains("Mo 30.03.2026 09:00–09:30</strong> · Jürgen Müller"),
        "{body}"
    );
    assert!(body.contains("Mo 30.03.2026 10:00–10:30</strong> · Jürgen Müller"));
    assert!(
        body.contains("value=\"Fortbildung\""),
        "the absence's reason is offered"
    );

    let decide = |appointment: &str, decision: &str| {
        let mut fields = vec![
            ("appointment", appointment.to_owned()),
            ("decision", decision.to_owned()),
            ("reason", "Die Praxis ist geschlossen.".to_owned()),
            ("default_reason", "Fortbildung".to_owned()),
        ];
        fields.extend(booked.iter().map(|id| ("pending", id.clone())));
        fields
    };
    let csrf = covered.form_csrf();
    let action = format!("{page_path}/covered");
    let too_long = "x".repeat(501);
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    let fields = decide(&booked[0], "cancel");
    form.extend(fields.iter().map(|(k, v)| {
        (
            *k,
            if *k == "reason" {
                too_long.as_str()
            } else {
                v.as_str()
            },
        )
    }));
    let refused = owner.post_form(&action, &form).await;
    assert_eq!(refused.status, 422);
    let body = html(&refused);
    assert!(body.contains(&format!(
        "id=\"reason-{}-error\"><li>darf höchstens 500 Zeichen lang sein",
        booked[0]
    )));
    assert!(body.contains(&too_long), "the reason entered is kept");
    assert!(
        body.contains("10:00–10:30"),
        "the other one is still listed"
    );
    let first = owner
        .get(&format!("/api/v1/appointments/{}", booked[0]))
        .await;
    assert_eq!(first.body["status"], "booked");

    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let after_cancel = owner.post_form(&action, &form).await;
    assert_eq!(after_cancel.status, 200, "{:?}", after_cancel.body);
    let body = html(&after_cancel);
    assert!(body.contains("Der Termin ist abgesagt"));
    assert!(
        !body.contains("09:00–09:30"),
        "decided, so no longer listed"
    );
    assert!(body.contains("10:00–10:30"));
    let sms = server.outbox("sms").await;
    assert!(
        sms.iter().any(|m| m["to"] == "+4915199887766"
            && m["body"]
                .as_str()
                .unwrap()
                .contains("Die Praxis ist geschlossen.")),
        "the patient is told, with the reason: {sms:?}"
    );

    // The page sends only the ids still pending.
    let fields: Vec<(&str, String)> = vec![
        ("appointment", booked[1].clone()),
        ("decision", "keep".to_owned()),
        ("pending", booked[1].clone()),
    ];
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let after_keep = owner.post_form(&action, &form).await;
    let back = location(&after_keep);
    assert!(back.contains("done=covered"), "{back}");

    let first = owner
        .get(&format!("/api/v1/appointments/{}", booked[0]))
        .await;
    assert_eq!(first.body["status"], "cancelled");
    assert_eq!(first.body["cancel_reason"], "Die Praxis ist geschlossen.");
    let second = owner
        .get(&format!("/api/v1/appointments/{}", booked[1]))
        .await;
    assert_eq!(second.body["status"], "booked");

    let page = owner.get(&back).await;
    let body = html(&page);
    assert!(
        body.contains("<strong>30.03.2026</strong> <span class=\"muted\">(ganztägig)"),
        "{body}"
    );
    assert!(body.contains("Fortbildung"));
    let absence_id = body
        .split("name=\"absence\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let deleted = submit_to(
        &owner,
        &page_path,
        &format!("{page_path}/absences/delete"),
        &[("absence", &absence_id)],
    )
    .await;
    let back = location(&deleted);
    let page = owner.get(&back).await;
    assert!(html(&page).contains("Die Abwesenheit ist gelöscht."));
    assert!(html(&page).contains("Keine Abwesenheiten ab heute."));

    let history = owner.get(&format!("{BASE}/patients/{}", cal.patient)).await;
    let body = html(&history);
    assert!(body.contains("Mo 30.03.2026 09:00–09:30"));
    assert!(body.contains("abgesagt<br><small class=\"muted\">Die Praxis ist geschlossen."));
}

#[tokio::test]
async fn an_absence_without_booked_appointments_goes_straight_back() {
    let (_server, owner) = practice().await;
    let id = new_practitioner(&owner, "Dr. Anna Weber").await;
    let page_path = format!("{BASE}/practitioners/{id}");
    let saved = submit_to(
        &owner,
        &page_path,
        &format!("{page_path}/absences"),
        &[
            ("start_date", "2026-04-03"),
            ("end_date", "2026-04-03"),
            ("start_time", "14:00"),
            ("end_time", "18:00"),
            ("repeat_weekly_until", "2026-06-26"),
            ("reason", "Hausbesuche"),
        ],
    )
    .await;
    let back = location(&saved);
    assert!(back.contains("done=absence"));
    let body = owner.get(&back).await.body.as_str().unwrap().to_owned();
    assert!(
        body.contains("<strong>03.04.2026 14:00–18:00</strong>"),
        "{body}"
    );
    assert!(body.contains("Jede Woche am Fr bis 26.06.2026"));
}

#[tokio::test]
async fn members_without_the_right_get_no_forms_and_a_403_for_posts() {
    let (server, owner) = practice().await;
    let cal = calendar::set_up(&owner).await;
    let booked = owner
        .post(
            "/api/v1/appointments",
            &cal.booking(&cal.dr_a, &format!("{MONDAY}T09:00")),
        )
        .await;
    assert_eq!(booked.status, 201);
    let reader = server
        .join_practice(
            &owner,
            ("lesen@praxis.example", "+4915112340077", "read_only"),
            PASSWORD,
        )
        .await;
    let csrf = reader.get("/account").await.form_csrf();

    let list = reader.get(&format!("{BASE}/practitioners")).await;
    assert_eq!(list.status, 200);
    assert!(html(&list).contains("Dr. Anna Weber"));
    assert!(
        !html(&list).contains("method=\"post\""),
        "no form to add one"
    );
    let page = reader
        .get(&format!("{BASE}/practitioners/{}", cal.dr_a))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        !html(&page).contains("method=\"post\""),
        "hours and absences read-only"
    );
    assert!(html(&page).contains("<td>08:00</td>"));

    let patient = reader
        .get(&format!("{BASE}/patients/{}", cal.patient))
        .await;
    assert_eq!(
        patient.status, 200,
        "the patient has an appointment in a calendar they see"
    );
    let body = html(&patient);
    assert!(
        !body.contains("+4915199887766"),
        "no contact data without the right"
    );
    assert!(!body.contains("Notizen"), "no notes without the right");
    assert!(!body.contains("method=\"post\""));

    let posts = [
        (format!("{BASE}/practitioners"), vec![("name", "X")]),
        (
            format!("{BASE}/practitioners/{}", cal.dr_a),
            vec![("name", "X")],
        ),
        (
            format!("{BASE}/practitioners/{}/hours", cal.dr_a),
            vec![("weekday", "mon"), ("start", "08:00"), ("end", "09:00")],
        ),
        (
            format!("{BASE}/practitioners/{}/absences", cal.dr_a),
            vec![("start_date", MONDAY)],
        ),
        (format!("{BASE}/visit-types"), vec![("name", "X")]),
        (
            format!("{BASE}/patients"),
            vec![
                ("given_name", "X"),
                ("family_name", "Y"),
                ("birth_date", "1980-01-01"),
            ],
        ),
    ];
    for (path, fields) in posts {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let answer = reader.post_form(&path, &form).await;
        assert_eq!(answer.status, 403, "{path}");
    }
    let edit = reader
        .get(&format!("{BASE}/visit-types/{}", cal.checkup))
        .await;
    assert_eq!(edit.status, 403);
    assert_eq!(
        owner.get("/api/v1/practitioners").await.body["practitioners"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "nothing was created"
    );
}

#[tokio::test]
async fn the_pages_speak_german_and_english_and_are_linked_for_calendar_members() {
    let (_server, owner) = practice().await;
    let cal = calendar::set_up(&owner).await;
    let overview = owner.get("/app").await;
    let body = html(&overview);
    for page in ["practitioners", "visit-types", "patients"] {
        assert!(body.contains(&format!("href=\"{BASE}/{page}\"")), "{page}");
    }
    let pages = [
        format!("{BASE}/practitioners"),
        format!("{BASE}/practitioners/{}", cal.dr_a),
        format!("{BASE}/visit-types"),
        format!("{BASE}/visit-types/{}", cal.checkup),
        format!("{BASE}/patients"),
        format!("{BASE}/patients/{}", cal.patient),
    ];
    for path in &pages {
        let german = owner.get(path).await;
        assert_eq!(german.status, 200, "{path}");
        let body = html(&german);
        assert!(body.contains("<html lang=\"de\">"), "{path}");
        assert!(!body.contains("[missing text]"), "{path}");
        assert!(body.contains(">Behandelnde</a>"), "{path}");
    }
    let english = owner
        .get_with_header(&pages[1], ("accept-language", "en-GB,en;q=0.9"))
        .await;
    let body = html(&english);
    assert!(body.contains("<html lang=\"en\">"));
    assert!(body.contains("Opening hours") && body.contains(">Practitioners</a>"));
    assert!(body.contains("<option value=\"mon\" selected>Mon</option>"));
    owner.set_cookie("lang", "en");
    for path in &pages {
        let answer = owner.get(path).await;
        assert!(!html(&answer).contains("[missing text]"), "{path}");
    }
    let refused = submit(
        &owner,
        &format!("{BASE}/visit-types"),
        &[("name", ""), ("duration_minutes", "3")],
    )
    .await;
    let body = html(&refused);
    assert!(body.contains("id=\"new-name-error\"><li>is required</li>"));
    assert!(body.contains("<li>must be between 5 and 480</li>"));
}
