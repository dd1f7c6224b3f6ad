//! Issue 5's promise, end to end: an administrator gives a member a narrow, per-calendar
//! set of rights, and that member can do exactly that and nothing else — book in Dr. A's
//! calendar, only see Dr. B's, not even see Dr. C's, see only those patients, no contact
//! data, no settings — and a change takes effect on the very next request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use serde_json::{Value, json};
use termin_testkit::calendar::{self, MONDAY};
use termin_testkit::{FIREFOX, TestServer};

const MIA: (&str, &str, &str) = ("mia@praxis.example", "+4915112340011", "assistant");
const PASSWORD: &str = "Kaffee&Kuchen2026";

fn at(time: &str) -> String {
    format!("{MONDAY}T{time}")
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Mia's row in the users list, as the owner sees it.
async fn member(owner: &termin_testkit::Browser) -> Value {
    owner.get("/api/v1/users").await.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == MIA.0)
        .unwrap()
        .clone()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn a_member_with_narrow_calendar_rights_can_do_exactly_that() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    let dr_c = owner
        .post("/api/v1/practitioners", &json!({"name": "Dr. Clara Vogt"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .put(
            &format!("/api/v1/practitioners/{dr_c}/opening-hours"),
            &calendar::weekday_hours(),
        )
        .await;
    let new_patient = |given: &str| {
        json!({"given_name": given, "family_name": "Schulz", "birth_date": "1985-02-03",
               "phone": "+4915100001111"})
    };
    let mut patients = Vec::new();
    for given in ["Bea", "Carl"] {
        let created = owner.post("/api/v1/patients", &new_patient(given)).await;
        assert_eq!(created.status, 201);
        patients.push(created.body["id"].as_str().unwrap().to_owned());
    }
    let (of_b, of_c) = (patients[0].clone(), patients[1].clone());
    let book = |dr: &str, patient: &str, start: &str| {
        let mut body = cal.booking(dr, &at(start));
        body["patient_id"] = json!(patient);
        body
    };
    let at_a = cal.book(&owner, &cal.dr_a, &at("09:00")).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_b = owner
        .post("/api/v1/appointments", &book(&cal.dr_b, &of_b, "09:00"))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let offered_by_c = owner
        .post(
            "/api/v1/visit-types",
            &json!({"name": "Kontrolle C", "duration_minutes": 30, "online_bookable": false,
                    "practitioner_ids": [dr_c]}),
        )
        .await;
    let mut at_c_body = book(&dr_c, &of_c, "09:00");
    at_c_body["visit_type_id"] = offered_by_c.body["id"].clone();
    let at_c = owner.post("/api/v1/appointments", &at_c_body).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The administrator narrows Mia (an assistant) to: manage Dr. A's calendar, see
    // Dr. A's and Dr. B's, manage patients, nothing else.
    let mia = server.join_practice(&owner, MIA, PASSWORD).await;
    let mia_id = member(&owner).await["id"].as_str().unwrap().to_owned();
    let narrowed = owner
        .put(
            &format!("/api/v1/users/{mia_id}/permissions"),
            &json!({
                "grants": [
                    {"permission": "view_calendar", "practitioner_ids": [cal.dr_a, cal.dr_b]},
                    {"permission": "manage_appointments", "practitioner_ids": [cal.dr_a]},
                ],
                "removals": ["manage_availability", "book_outside_hours", "see_patient_contacts"],
            }),
        )
        .await;
    assert_eq!(narrowed.status, 200, "{:?}", narrowed.body);

    // What she may do.
    let calendars = mia.get("/api/v1/practitioners").await;
    assert_eq!(
        ids(&calendars.body["practitioners"]),
        sorted(vec![cal.dr_a.clone(), cal.dr_b.clone()])
    );
    let booked = cal.book(&mia, &cal.dr_a, &at("10:00")).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let moved = mia
        .patch(
            &format!(
                "/api/v1/appointments/{}",
                booked.body["id"].as_str().unwrap()
            ),
            &json!({"start": at("10:30")}),
        )
        .await;
    assert_eq!(moved.status, 200);
    let week = mia
        .get(&format!("/api/v1/appointments?from={MONDAY}&to={MONDAY}"))
        .await;
    assert_eq!(
        ids(&week.body["appointments"]),
        sorted(vec![
            at_a.clone(),
            at_b.clone(),
            booked.body["id"].as_str().unwrap().to_owned()
        ])
    );
    let of_dr_b = mia
        .get(&format!(
            "/api/v1/appointments?practitioner_id={}&from={MONDAY}&to={MONDAY}",
            cal.dr_b
        ))
        .await;
    assert_eq!(ids(&of_dr_b.body["appointments"]), vec![at_b.clone()]);
    let patient_b = mia.get(&format!("/api/v1/patients/{of_b}")).await;
    assert_eq!(patient_b.status, 200);
    assert!(
        patient_b.body.get("phone").is_none(),
        "no contact data: {:?}",
        patient_b.body
    );
    let created = mia
        .post(
            "/api/v1/patients",
            &json!({"given_name": "Dora", "family_name": "Neu", "birth_date": "2001-07-07"}),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let dora = created.body["id"].as_str().unwrap();
    assert_eq!(
        mia.get(&format!("/api/v1/patients/{dora}")).await.status,
        200,
        "her own new patient, before any appointment"
    );
    let search = mia.get("/api/v1/patients?q=schulz").await;
    assert_eq!(ids(&search.body["patients"]), vec![of_b.clone()]);

    // And nothing else.
    let refused = [
        ("book in Dr. B's calendar", mia.post("/api/v1/appointments", &book(&cal.dr_b, &of_b, "11:00")).await.status, 403),
        ("book in Dr. C's calendar", mia.post("/api/v1/appointments", &{ let mut b = at_c_body.clone(); b["start"] = json!(at("11:00")); b }).await.status, 403),
        ("cancel in Dr. B's", mia.delete(&format!("/api/v1/appointments/{at_b}")).await.status, 403),
        ("see Dr. C's appointment", mia.get(&format!("/api/v1/appointments/{at_c}")).await.status, 404),
        ("list Dr. C's calendar", mia.get(&format!("/api/v1/appointments?practitioner_id={dr_c}&from={MONDAY}&to={MONDAY}")).await.status, 403),
        ("see Dr. C's patient", mia.get(&format!("/api/v1/patients/{of_c}")).await.status, 404),
        ("change opening hours", mia.put(&format!("/api/v1/practitioners/{}/opening-hours", cal.dr_a), &calendar::weekday_hours()).await.status, 403),
        ("add an absence", mia.post("/api/v1/absences", &json!({"start_date": MONDAY, "end_date": MONDAY, "practitioner_ids": [cal.dr_a]})).await.status, 403),
        ("book outside hours", cal.book(&mia, &cal.dr_a, &at("12:30")).await.status, 409),
        ("overbook", mia.post("/api/v1/appointments", &json!({"practitioner_id": cal.dr_a, "visit_type_id": cal.checkup, "start": at("09:00"), "patient_id": cal.patient, "overbook": true})).await.status, 403),
        ("write a visit reason", mia.put(&format!("/api/v1/appointments/{at_a}/notes"), &json!({"visit_reason": "x"})).await.status, 403),
        ("enter contact data", mia.post("/api/v1/patients", &json!({"given_name": "Eli", "family_name": "Neu", "birth_date": "2001-07-07", "phone": "+4915100002222"})).await.status, 403),
        ("search by phone", mia.get("/api/v1/patients?phone=%2B4915100001111").await.status, 403),
        ("create a practitioner", mia.post("/api/v1/practitioners", &json!({"name": "Dr. X"})).await.status, 403),
        ("create a visit type", mia.post("/api/v1/visit-types", &json!({"name": "X", "duration_minutes": 10, "online_bookable": false})).await.status, 403),
        ("manage users", mia.get("/api/v1/users").await.status, 403),
        ("read the audit log", mia.get("/api/v1/audit").await.status, 403),
        ("change security settings", mia.get("/api/v1/settings/security").await.status, 403),
    ];
    for (what, status, expected) in refused {
        assert_eq!(status, expected, "{what}");
    }

    // Taking Dr. B's calendar away works on the very next request.
    let changed = owner
        .put(
            &format!("/api/v1/users/{mia_id}/permissions"),
            &json!({
                "grants": [
                    {"permission": "view_calendar", "practitioner_ids": [cal.dr_a]},
                    {"permission": "manage_appointments", "practitioner_ids": [cal.dr_a]},
                ],
                "removals": ["manage_availability", "book_outside_hours", "see_patient_contacts"],
            }),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(
        mia.get(&format!(
            "/api/v1/appointments?practitioner_id={}&from={MONDAY}&to={MONDAY}",
            cal.dr_b
        ))
        .await
        .status,
        403
    );
    assert_eq!(
        mia.get(&format!("/api/v1/patients/{of_b}")).await.status,
        404
    );
}

#[tokio::test]
async fn an_invitation_can_name_the_calendars_of_the_new_member() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    let bad = owner
        .post(
            "/api/v1/invitations",
            &json!({"email": MIA.0, "phone": MIA.1, "role": "assistant",
                    "practitioner_ids": [cal.dr_a, "00000000-0000-4000-8000-000000000001"]}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body["fields"]["practitioner_ids[1]"].is_array(),
        "{:?}",
        bad.body
    );
    let invited = owner
        .post(
            "/api/v1/invitations",
            &json!({"email": MIA.0, "phone": MIA.1, "role": "assistant",
                    "practitioner_ids": [cal.dr_a]}),
        )
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.body);
    let token = server.invitation_token(MIA.0).await;
    let accepted = server
        .post_json(
            "/api/v1/invitations/accept",
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    let mia = termin_testkit::Browser::new(&server, FIREFOX);
    server.sign_in(&mia, MIA.0, MIA.1, PASSWORD).await;
    // The patient becomes hers to see with an appointment in Dr. A's calendar.
    cal.book(&owner, &cal.dr_a, &at("08:00")).await;

    let row = member(&owner).await;
    for calendar_permission in [
        "view_calendar",
        "manage_appointments",
        "manage_availability",
        "book_outside_hours",
    ] {
        assert_eq!(
            row["scopes"][calendar_permission],
            json!([cal.dr_a]),
            "{calendar_permission}: {row:?}"
        );
    }
    assert_eq!(
        ids(&mia.get("/api/v1/practitioners").await.body["practitioners"]),
        vec![cal.dr_a.clone()]
    );
    assert_eq!(cal.book(&mia, &cal.dr_a, &at("09:00")).await.status, 201);
    assert_eq!(cal.book(&mia, &cal.dr_b, &at("09:00")).await.status, 403);
}

#[tokio::test]
async fn the_users_page_narrows_calendar_rights_to_chosen_practitioners() {
    let server = TestServer::start().await;
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    let mia = server.join_practice(&owner, MIA, PASSWORD).await;
    let mia_id = member(&owner).await["id"].as_str().unwrap().to_owned();
    let page = owner.get("/practices/praxis-am-see/users").await;
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains("Dr. Anna Weber"),
        "practitioners to choose from"
    );
    let csrf = page.form_csrf();
    let saved = owner
        .post_form(
            &format!("/practices/praxis-am-see/users/{mia_id}/permissions"),
            &[
                ("csrf", &csrf),
                ("permission", "view_calendar"),
                ("calendar.view_calendar", &cal.dr_a),
                ("calendar.view_calendar", &cal.dr_b),
                ("permission", "manage_appointments"),
                ("calendar.manage_appointments", &cal.dr_a),
                ("permission", "manage_patients"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{:?}", saved.body);
    let row = member(&owner).await;
    assert_eq!(
        row["scopes"]["manage_appointments"],
        json!([cal.dr_a]),
        "{row:?}"
    );
    assert_eq!(
        row["permissions"],
        json!(["view_calendar", "manage_appointments", "manage_patients"])
    );
    // The page shows the choice again.
    let again = owner.get("/practices/praxis-am-see/users").await;
    let html = again.body.as_str().unwrap();
    let checked = format!(
        "name=\"calendar.manage_appointments\" value=\"{}\" checked",
        cal.dr_a
    );
    assert!(html.contains(&checked), "the narrowed calendar is ticked");
    // And it holds: Dr. A yes, Dr. B no.
    cal.book(&owner, &cal.dr_a, &at("08:00")).await;
    assert_eq!(cal.book(&mia, &cal.dr_a, &at("09:00")).await.status, 201);
    assert_eq!(cal.book(&mia, &cal.dr_b, &at("09:00")).await.status, 403);
}
