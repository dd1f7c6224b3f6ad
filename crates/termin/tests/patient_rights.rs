//! Patients' data rights (GDPR Art. 15, 17, 20; issue 7, item 8): members with "export or
//! erase patient data" export everything held on a patient (JSON and a printable page) and
//! erase or anonymise them; both are audit-logged, the entries survive the erased data and
//! the chain still verifies. The database is searched directly for anything left behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use jiff::SignedDuration;
use serde_json::{Value, json};
use termin_testkit::calendar::{self, Calendar, MONDAY};
use termin_testkit::{
    Answer, Browser, CHROME, FIREFOX, OWNER_PASSWORD, TestBackend, TestDb, TestServer,
};

const SLUG: &str = "praxis-am-see";
const PHONE: &str = "+4915199887766";
const EMAIL: &str = "j.mueller@example.org";
const VISIT_REASON: &str = "Rückenschmerzen seit Januar";
const APPOINTMENT_NOTES: &str = "Kontrolle in vier Wochen";
const CANCEL_REASON: &str = "Urlaub auf Rügen";
const RECORD_NOTES: &str = "Penicillin-Allergie";

/// A practice whose patient Jürgen Müller has a full record, an appointment booked by
/// staff with a visit reason and notes (moved once), a cancelled one with a reason, one
/// booked online (confirmed, with a manage link) and an unconfirmed hold.
struct Practice {
    server: TestServer,
    owner: Browser,
    cal: Calendar,
    staff_appointment: String,
    online_appointment: String,
}

async fn practice_on(server: TestServer) -> Practice {
    server.with_practice().await;
    let owner = server.signed_in_owner(FIREFOX).await;
    let cal = calendar::set_up(&owner).await;
    let updated = owner
        .patch(
            &format!("/api/v1/patients/{}", cal.patient),
            &json!({"email": EMAIL, "street": "Seestraße 5", "postal_code": "78462",
                    "city": "Konstanz", "insurance": "statutory",
                    "insurance_number": "A123456780", "notes": RECORD_NOTES}),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    let mut booking = cal.booking(&cal.dr_a, &format!("{MONDAY}T09:00"));
    booking["visit_reason"] = json!(VISIT_REASON);
    booking["notes"] = json!(APPOINTMENT_NOTES);
    let booked = owner.post("/api/v1/appointments", &booking).await;
    assert_eq!(booked.status, 201, "{:?}", booked.body);
    let staff_appointment = booked.body["id"].as_str().unwrap().to_owned();
    let moved = owner
        .patch(
            &format!("/api/v1/appointments/{staff_appointment}"),
            &json!({"start": format!("{MONDAY}T09:30")}),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    let cancelled = cal
        .book(&owner, &cal.dr_b, &format!("{MONDAY}T10:00"))
        .await;
    assert_eq!(cancelled.status, 201, "{:?}", cancelled.body);
    let cancel = owner
        .request_json(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/appointments/{}",
                cancelled.body["id"].as_str().unwrap()
            ),
            &json!({"reason": CANCEL_REASON}),
        )
        .await;
    assert!(cancel.status < 300, "{:?}", cancel.body);

    let patient = Browser::new(&server, CHROME);
    let held = hold(&patient, &cal, "11:00").await;
    let code = server.latest_code("sms", PHONE).await;
    let confirmed = patient
        .post(
            &format!(
                "/api/v1/public/{SLUG}/bookings/{}/confirm",
                held.body["booking_id"].as_str().unwrap()
            ),
            &json!({"code": code}),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{:?}", confirmed.body);
    let online_appointment = confirmed.body["appointment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    hold(&patient, &cal, "11:30").await;
    Practice {
        server,
        owner,
        cal,
        staff_appointment,
        online_appointment,
    }
}

async fn hold(patient: &Browser, cal: &Calendar, time: &str) -> Answer {
    let held = patient
        .post(
            &format!("/api/v1/public/{SLUG}/bookings"),
            &json!({
                "visit_type_id": cal.checkup,
                "practitioner_id": cal.dr_a,
                "start": format!("{MONDAY}T{time}"),
                "patient": {"given_name": "Jürgen", "family_name": "Müller",
                            "birth_date": "1970-05-04", "phone": PHONE, "email": EMAIL},
            }),
        )
        .await;
    assert_eq!(held.status, 202, "{:?}", held.body);
    held
}

async fn practice() -> Practice {
    practice_on(TestServer::start().await).await
}

async fn practice_on_postgres() -> Option<Practice> {
    Some(practice_on(TestServer::on_postgres().await?).await)
}

fn export_path(cal: &Calendar) -> String {
    format!("/api/v1/patients/{}/export", cal.patient)
}

fn erase_path(cal: &Calendar) -> String {
    format!("/api/v1/patients/{}/erase", cal.patient)
}

fn strings(values: &Value, key: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every `table.column` of the database whose text contains `needle` (both backends).
async fn columns_containing(db: &TestDb, needle: &str) -> Vec<String> {
    let columns_sql = match db.backend {
        TestBackend::Sqlite => {
            "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
             ORDER BY 1"
        }
        TestBackend::Postgres => {
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' ORDER BY 1"
        }
    };
    let columns: Vec<String> = db
        .raw_strings(columns_sql)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(columns.len() > 50, "{columns:?}");
    let probes: Vec<String> = columns
        .iter()
        .map(|c| {
            let (table, column) = c.split_once('.').unwrap();
            format!(
                "SELECT '{c}' FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE '%{needle}%'"
            )
        })
        .collect();
    let mut found: Vec<String> = db
        .raw_strings(&probes.join(" UNION ALL "))
        .await
        .into_iter()
        .flatten()
        .collect();
    found.sort();
    found.dedup();
    found
}

/// What the patient gave that must be gone; the outbox keeps the recipients of what was
/// sent to them (it is not tied to a practice; texts are erased once delivered).
async fn assert_nothing_personal_left(server: &TestServer) {
    server.outbox("sms").await;
    server.outbox("email").await;
    let db = server.db();
    for needle in [
        "Müller",
        "Jürgen",
        // The search keys ("mueller" is in the e-mail address, checked below).
        "muller",
        "juergen",
        "jurgen",
        "1970-05-04",
        "Seestraße",
        "78462",
        "Konstanz",
        "A123456780",
        RECORD_NOTES,
        VISIT_REASON,
        APPOINTMENT_NOTES,
        CANCEL_REASON,
    ] {
        assert_eq!(
            columns_containing(db, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    for needle in [PHONE, EMAIL] {
        assert_eq!(
            columns_containing(db, needle).await,
            vec!["outbox.recipient".to_owned()],
            "{needle}"
        );
    }
}

async fn assert_chain_verifies(server: &TestServer) {
    let reports = server.services.verify_audit(Some(SLUG)).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].result.is_ok(), "{:?}", reports[0].result);
}

async fn audit_targets(p: &Practice, action: &str) -> Vec<String> {
    let log = p.owner.get(&format!("/api/v1/audit?action={action}")).await;
    assert_eq!(log.status, 200, "{:?}", log.body);
    strings(&log.body["entries"], "target")
}

#[tokio::test]
async fn the_export_holds_record_appointments_history_bookings_and_audit_entries() {
    let p = practice().await;
    let export = p.owner.get(&export_path(&p.cal)).await;
    assert_eq!(export.status, 200, "{:?}", export.body);
    let doc = &export.body;
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["exported_at"], "2026-03-25T00:00:00Z");
    assert_eq!(doc["practice"]["time_zone"], "Europe/Berlin");
    let patient = &doc["patient"];
    assert_eq!(patient["id"], p.cal.patient);
    assert_eq!(patient["given_name"], "Jürgen");
    assert_eq!(patient["family_name"], "Müller");
    assert_eq!(patient["birth_date"], "1970-05-04");
    assert_eq!(patient["phone"], PHONE);
    assert_eq!(patient["email"], EMAIL);
    assert_eq!(patient["insurance_number"], "A123456780");
    assert_eq!(patient["notes"], RECORD_NOTES);

    let appointments = doc["appointments"].as_array().unwrap();
    assert_eq!(appointments.len(), 3, "{appointments:?}");
    let staff = appointments
        .iter()
        .find(|a| a["id"] == p.staff_appointment)
        .unwrap();
    assert_eq!(staff["visit_reason"], VISIT_REASON);
    assert_eq!(staff["notes"], APPOINTMENT_NOTES);
    assert_eq!(staff["start"], "2026-03-30T07:30:00Z");
    assert_eq!(staff["practitioner"]["name"], "Dr. Anna Weber");
    assert_eq!(staff["visit_type"]["name"], "Kontrolle");
    let history = strings(&staff["history"], "change");
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history[0].starts_with("created"), "{history:?}");
    assert!(history[1].starts_with("moved"), "{history:?}");
    let cancelled = appointments
        .iter()
        .find(|a| a["status"] == "cancelled")
        .unwrap();
    assert_eq!(cancelled["cancel_reason"], CANCEL_REASON);
    let online = appointments
        .iter()
        .find(|a| a["id"] == p.online_appointment)
        .unwrap();
    assert_eq!(online["source"], "online");

    let bookings = doc["online_bookings"].as_array().unwrap();
    assert_eq!(bookings.len(), 2, "{bookings:?}");
    let confirmed = bookings
        .iter()
        .find(|b| b["status"] == "confirmed")
        .unwrap();
    assert_eq!(confirmed["appointment_id"], p.online_appointment);
    assert_eq!(confirmed["phone"], PHONE);
    assert_eq!(confirmed["family_name"], "Müller");
    let pending = bookings.iter().find(|b| b["status"] == "pending").unwrap();
    assert!(pending["appointment_id"].is_null());
    assert_eq!(pending["start"], "2026-03-30T09:30:00Z");

    let actions = strings(&doc["audit_entries"], "action");
    for action in [
        "patient.create",
        "patient.update",
        "appointment.create",
        "appointment.move",
        "appointment.cancel",
        "booking.confirm",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action}: {actions:?}"
        );
    }
    assert!(doc["audit_entries"][0].get("source").is_none());
    // The export itself is logged.
    assert_eq!(
        audit_targets(&p, "patient.export").await,
        vec![format!("patient:{}", p.cal.patient)]
    );
}

#[tokio::test]
async fn another_practices_patient_is_not_found() {
    let p = practice().await;
    let nord = p.server.other_practice_owner().await;
    assert_eq!(nord.get(&export_path(&p.cal)).await.status, 404);
    let erase = nord
        .post(&erase_path(&p.cal), &json!({"mode": "erase"}))
        .await;
    assert_eq!(erase.status, 404);
    assert_eq!(p.owner.get(&export_path(&p.cal)).await.status, 200);
}

#[tokio::test]
async fn a_member_without_the_right_is_refused() {
    let p = practice().await;
    let practitioner = p
        .server
        .join_practice(
            &p.owner,
            ("weber@praxis.example", "+4915112340007", "practitioner"),
            "Kaffee&Kuchen2026",
        )
        .await;
    assert_eq!(practitioner.get(&export_path(&p.cal)).await.status, 403);
    for mode in ["erase", "anonymise"] {
        let answer = practitioner
            .post(&erase_path(&p.cal), &json!({"mode": mode}))
            .await;
        assert_eq!(answer.status, 403);
    }
    let page = format!("/practices/{SLUG}/patients/{}", p.cal.patient);
    assert_eq!(
        practitioner.get(&format!("{page}/export")).await.status,
        403
    );
    // The patient's page links the export only for those who may.
    let theirs = practitioner.get(&page).await;
    assert_eq!(theirs.status, 200);
    assert!(!theirs.body.as_str().unwrap().contains("/export"));
    let owners = p.owner.get(&page).await;
    assert!(
        owners
            .body
            .as_str()
            .unwrap()
            .contains(&format!("{page}/export"))
    );
    assert_eq!(p.owner.get(&export_path(&p.cal)).await.status, 200);
}

#[tokio::test]
async fn the_printable_page_shows_everything_in_german_and_english() {
    let p = practice().await;
    let path = format!("/practices/{SLUG}/patients/{}/export", p.cal.patient);
    let german = p.owner.get(&path).await;
    assert_eq!(german.status, 200);
    let html = german.body.as_str().unwrap();
    assert!(html.contains("Auskunft über gespeicherte Daten"), "{html}");
    for shown in [
        "Jürgen",
        "Müller",
        "04.05.1970",
        PHONE,
        "A123456780",
        RECORD_NOTES,
        VISIT_REASON,
        APPOINTMENT_NOTES,
        CANCEL_REASON,
        "Online-Buchung",
        "appointment.move",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    p.owner.set_cookie("lang", "en");
    let english = p.owner.get(&path).await;
    let html = english.body.as_str().unwrap();
    assert!(html.contains("Data held on a patient"), "{html}");
    assert!(html.contains("1970-05-04"));
    let file = p.owner.get(&format!("{path}.json")).await;
    assert_eq!(file.status, 200);
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
}

#[tokio::test]
async fn the_mode_must_be_named() {
    let p = practice().await;
    for body in [json!({}), json!({"mode": "delete"})] {
        let answer = p.owner.post(&erase_path(&p.cal), &body).await;
        assert_eq!(answer.status, 422, "{:?}", answer.body);
        assert!(answer.body["fields"]["mode"].is_array());
    }
    assert_eq!(p.owner.get(&export_path(&p.cal)).await.status, 200);
}

async fn erasure_leaves_nothing(p: Practice) {
    // The search reaches every table the patient is in.
    let before = columns_containing(p.server.db(), "Müller").await;
    for column in ["patients.family_name", "bookings.family_name"] {
        assert!(before.contains(&column.to_owned()), "{before:?}");
    }
    let erased = p
        .owner
        .post(&erase_path(&p.cal), &json!({"mode": "erase"}))
        .await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    assert_eq!(erased.body["status"], "erased");
    assert_eq!(erased.body["appointments"], 3);
    assert_eq!(erased.body["bookings"], 2);
    assert_eq!(erased.body["manage_links"], 1);

    let record = format!("/api/v1/patients/{}", p.cal.patient);
    assert_eq!(p.owner.get(&record).await.status, 404);
    assert_eq!(p.owner.get(&export_path(&p.cal)).await.status, 404);
    let db = p.server.db();
    assert!(
        db.raw_strings("SELECT id FROM appointments")
            .await
            .is_empty()
    );
    assert!(
        db.raw_strings("SELECT appointment_id FROM appointment_changes")
            .await
            .is_empty()
    );
    assert!(db.raw_strings("SELECT id FROM bookings").await.is_empty());
    assert!(
        db.raw_strings("SELECT token_hash FROM manage_links")
            .await
            .is_empty()
    );
    assert_nothing_personal_left(&p.server).await;
    // The entry survives with the id only, and the chain still verifies.
    assert_eq!(
        audit_targets(&p, "patient.erase").await,
        vec![format!(
            "patient:{} (3 appointments, 2 bookings)",
            p.cal.patient
        )]
    );
    assert_chain_verifies(&p.server).await;
}

#[tokio::test]
async fn erasing_removes_the_patient_and_their_appointments_on_sqlite() {
    erasure_leaves_nothing(practice().await).await;
}

#[tokio::test]
async fn erasing_removes_the_patient_and_their_appointments_on_postgres() {
    if let Some(p) = practice_on_postgres().await {
        erasure_leaves_nothing(p).await;
    }
}

async fn anonymisation_keeps_only_statistics(p: Practice) {
    let done = p
        .owner
        .post(&erase_path(&p.cal), &json!({"mode": "anonymise"}))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["status"], "anonymised");
    assert_eq!(done.body["appointments"], 3);

    let record = p
        .owner
        .get(&format!("/api/v1/patients/{}", p.cal.patient))
        .await;
    assert_eq!(record.status, 200);
    assert_eq!(record.body["given_name"], "Patient");
    assert_eq!(
        record.body["family_name"],
        format!("#{}", &p.cal.patient[..8])
    );
    assert_eq!(record.body["birth_date"], "1970-01-01");
    assert_eq!(record.body["insurance"], "statutory");
    for hidden in [
        "phone",
        "email",
        "street",
        "city",
        "insurance_number",
        "notes",
    ] {
        assert!(record.body[hidden].is_null(), "{hidden}");
    }
    // The appointments stay for the practice's statistics, without medical text.
    let kept = p
        .owner
        .get(&format!("/api/v1/patients/{}/appointments", p.cal.patient))
        .await;
    assert_eq!(kept.body["appointments"].as_array().unwrap().len(), 3);
    let appointment = p
        .owner
        .get(&format!("/api/v1/appointments/{}", p.staff_appointment))
        .await;
    assert_eq!(appointment.status, 200);
    assert_eq!(appointment.body["start"], "2026-03-30T07:30:00Z");
    assert!(appointment.body["visit_reason"].is_null());
    assert!(appointment.body["notes"].is_null());
    let db = p.server.db();
    assert_eq!(db.raw_strings("SELECT id FROM appointments").await.len(), 3);
    assert!(
        db.raw_strings("SELECT token_hash FROM manage_links")
            .await
            .is_empty()
    );
    assert_eq!(
        db.raw_strings("SELECT status FROM bookings").await,
        vec![Some("confirmed".to_owned())]
    );
    assert_nothing_personal_left(&p.server).await;
    // Not found by name any more, nor taken for a duplicate of a new Jürgen Müller.
    let search = p.owner.get("/api/v1/patients?q=M%C3%BCller").await;
    assert_eq!(search.body["patients"], json!([]));
    assert_eq!(
        audit_targets(&p, "patient.anonymise").await,
        vec![format!(
            "patient:{} (3 appointments, 2 bookings)",
            p.cal.patient
        )]
    );
    assert_chain_verifies(&p.server).await;
    // What is left can still be exported, the anonymisation among its entries.
    let export = p.owner.get(&export_path(&p.cal)).await;
    assert_eq!(export.status, 200);
    assert_eq!(export.body["patient"]["given_name"], "Patient");
    let actions = strings(&export.body["audit_entries"], "action");
    assert!(
        actions.contains(&"patient.anonymise".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn anonymising_keeps_the_appointments_without_anything_personal_on_sqlite() {
    anonymisation_keeps_only_statistics(practice().await).await;
}

#[tokio::test]
async fn anonymising_keeps_the_appointments_without_anything_personal_on_postgres() {
    if let Some(p) = practice_on_postgres().await {
        anonymisation_keeps_only_statistics(p).await;
    }
}

#[tokio::test]
async fn erasing_needs_the_password_within_ten_minutes() {
    let p = practice().await;
    p.server.clock.advance(SignedDuration::from_mins(11));
    for mode in ["erase", "anonymise"] {
        let stale = p
            .owner
            .post(&erase_path(&p.cal), &json!({"mode": mode}))
            .await;
        assert_eq!(stale.status, 403, "{:?}", stale.body);
        assert_eq!(stale.body["error"], "reauthentication_required");
    }
    // Exporting is a read: no confirmation needed.
    assert_eq!(p.owner.get(&export_path(&p.cal)).await.status, 200);
    let record = format!("/api/v1/patients/{}", p.cal.patient);
    assert_eq!(p.owner.get(&record).await.body["family_name"], "Müller");

    let confirmed = p
        .owner
        .post(
            "/api/v1/auth/reauthenticate",
            &json!({"password": OWNER_PASSWORD}),
        )
        .await;
    assert_eq!(confirmed.status, 200);
    let erased = p
        .owner
        .post(&erase_path(&p.cal), &json!({"mode": "erase"}))
        .await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    assert_eq!(p.owner.get(&record).await.status, 404);
}
