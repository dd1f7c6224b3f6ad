//! The calendar's storage guarantees on both backends: a practice-bound handle never
//! reaches another practice's rows (reads, writes and references), and concurrent bookings
//! of one slot yield exactly one appointment — with the transactions really overlapping.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use termin_domain::ids::{AppointmentId, OrgId, PatientId, PractitionerId, VisitTypeId};
use termin_domain::org::{OrgName, OrgSlug, TimeZoneName};
use termin_domain::rights::Scope;
use termin_domain::schedule::appointment::AppointmentStatus;
use termin_domain::schedule::patient::{PatientDraft, RawPatient, search_term};
use termin_domain::schedule::practitioner::{PractitionerDraft, RawPractitioner};
use termin_domain::schedule::span::Span;
use termin_domain::schedule::visit_type::{RawVisitType, VisitTypeDraft};
use termin_storage::{
    AnonymisedRecord, AppointmentFilter, Booking, NewAppointment, NewOrganization, PatientQuery,
    PatientVisibility, Store,
};
use termin_testkit::{TestBackend, TestDb, on_both_backends, test_epoch};

on_both_backends!(
    another_practices_rows_are_out_of_reach,
    concurrent_bookings_of_one_slot_yield_one_appointment,
    names_are_found_whatever_the_spelling,
    a_member_sees_only_patients_of_their_calendars,
    erasing_a_patient_leaves_another_practice_untouched,
);

struct Practice {
    org: OrgId,
    practitioner: PractitionerId,
    visit_type: VisitTypeId,
    patient: PatientId,
}

async fn practice(store: &Store, slug: &str) -> Practice {
    let now = test_epoch();
    let org = OrgId::random();
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&NewOrganization {
        id: org,
        slug: OrgSlug::parse(slug).unwrap(),
        name: OrgName::parse("Praxis").unwrap(),
        time_zone: TimeZoneName::default_zone(),
        created_at: now,
    })
    .await
    .unwrap();
    let practitioner = PractitionerId::random();
    let visit_type = VisitTypeId::random();
    let patient = PatientId::random();
    let mut data = tx.practice(org);
    data.insert_practitioner(
        practitioner,
        &PractitionerDraft::parse(&RawPractitioner {
            name: "Dr. Anna Weber".into(),
            ..RawPractitioner::default()
        })
        .unwrap(),
        now,
    )
    .await
    .unwrap();
    data.insert_visit_type(
        visit_type,
        &VisitTypeDraft::parse(&RawVisitType {
            name: "Kontrolle".into(),
            duration_minutes: Some(30),
            ..RawVisitType::default()
        })
        .unwrap(),
        now,
    )
    .await
    .unwrap();
    data.insert_patient(patient, &patient_draft("Jürgen", "Müller"), None, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Practice {
        org,
        practitioner,
        visit_type,
        patient,
    }
}

fn patient_draft(given: &str, family: &str) -> PatientDraft {
    PatientDraft::parse(
        &RawPatient {
            given_name: given.into(),
            family_name: family.into(),
            birth_date: "1970-05-04".into(),
            ..RawPatient::default()
        },
        jiff::civil::date(2026, 3, 25),
    )
    .unwrap()
}

fn nine_o_clock() -> Span {
    let start: Timestamp = "2026-03-30T07:00:00Z".parse().unwrap();
    Span::new(start, start + SignedDuration::from_mins(30)).unwrap()
}

fn booking(p: &Practice, span: Span) -> NewAppointment<'static> {
    NewAppointment {
        id: AppointmentId::random(),
        practitioner_id: p.practitioner,
        visit_type_id: p.visit_type,
        patient_id: p.patient,
        start: span.start,
        end: span.end,
        block: span,
        overbook: false,
        visit_reason: None,
        notes: None,
        source: "staff",
        actor: None,
        now: test_epoch(),
        hold: None,
    }
}

async fn another_practices_rows_are_out_of_reach(db: &TestDb) {
    let store = db.store().await;
    let ours = practice(&store, "praxis-am-see").await;
    let theirs = practice(&store, "praxis-nord").await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.practice(ours.org)
            .book(&booking(&ours, nine_o_clock()))
            .await
            .unwrap(),
        Booking::Done
    );
    tx.commit().await.unwrap();
    let ours_listed = store
        .practice(ours.org)
        .appointments(&AppointmentFilter {
            practitioners: vec![ours.practitioner],
            from: test_epoch(),
            to: test_epoch() + SignedDuration::from_hours(24 * 30),
            include_cancelled: true,
            patient: None,
        })
        .await
        .unwrap();
    assert_eq!(ours_listed.len(), 1);
    let appointment = ours_listed[0].id;

    // Reads through their handle find nothing of ours.
    let seen = store.practice(theirs.org);
    assert!(
        seen.practitioner(ours.practitioner)
            .await
            .unwrap()
            .is_none()
    );
    assert!(seen.visit_type(ours.visit_type).await.unwrap().is_none());
    assert!(
        seen.patient(ours.patient, &PatientVisibility::All)
            .await
            .unwrap()
            .is_none()
    );
    assert!(seen.appointment(appointment).await.unwrap().is_none());
    assert!(
        seen.appointment_history(appointment)
            .await
            .unwrap()
            .is_empty()
    );
    let listed = seen
        .appointments(&AppointmentFilter {
            practitioners: vec![ours.practitioner],
            from: test_epoch(),
            to: test_epoch() + SignedDuration::from_hours(24 * 30),
            include_cancelled: true,
            patient: None,
        })
        .await
        .unwrap();
    assert!(listed.is_empty());
    let found = seen
        .search_patients(
            &PatientQuery {
                name: Some(search_term("Müller")),
                limit: 50,
                ..PatientQuery::default()
            },
            &PatientVisibility::All,
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|p| p.id).collect::<Vec<_>>(),
        [theirs.patient]
    );

    // Writes through their handle change nothing of ours.
    let mut tx = store.begin().await.unwrap();
    let mut data = tx.practice(theirs.org);
    assert!(
        !data
            .update_practitioner(
                ours.practitioner,
                &PractitionerDraft::parse(&RawPractitioner {
                    name: "Gekapert".into(),
                    ..RawPractitioner::default()
                })
                .unwrap(),
                true,
            )
            .await
            .unwrap()
    );
    assert!(
        !data
            .set_status(
                appointment,
                AppointmentStatus::Cancelled,
                None,
                None,
                test_epoch()
            )
            .await
            .unwrap()
    );
    assert!(
        !data
            .merge_patients(theirs.patient, ours.patient)
            .await
            .unwrap()
    );
    assert_eq!(
        data.book(&booking(&ours, nine_o_clock())).await.unwrap(),
        Booking::NotFound,
        "our practitioner is not theirs"
    );
    tx.commit().await.unwrap();

    // And the database refuses a row that mixes the two practices.
    let mut tx = store.begin().await.unwrap();
    let mixed = Practice {
        org: theirs.org,
        practitioner: theirs.practitioner,
        visit_type: theirs.visit_type,
        patient: ours.patient,
    };
    let refused = tx
        .practice(theirs.org)
        .book(&booking(&mixed, nine_o_clock()))
        .await;
    assert!(
        refused.is_err(),
        "a foreign key spans the practice: {refused:?}"
    );
    drop(tx);
    assert_eq!(
        store
            .practice(ours.org)
            .appointment(appointment)
            .await
            .unwrap()
            .unwrap()
            .status,
        AppointmentStatus::Booked
    );
}

async fn concurrent_bookings_of_one_slot_yield_one_appointment(db: &TestDb) {
    // Below the pool's ten connections: every attempt holds one while it waits.
    const ATTEMPTS: usize = 8;
    let store = Arc::new(db.store().await);
    let ours = Arc::new(practice(&store, "praxis-am-see").await);
    // On PostgreSQL every transaction is open before any books, so the checks really
    // overlap; SQLite's write transactions queue at BEGIN, so they start together there.
    let open_first = db.backend == TestBackend::Postgres;
    let barrier = Arc::new(tokio::sync::Barrier::new(ATTEMPTS));
    let attempts: Vec<_> = (0..ATTEMPTS)
        .map(|i| {
            let (store, ours, barrier) =
                (Arc::clone(&store), Arc::clone(&ours), Arc::clone(&barrier));
            tokio::spawn(async move {
                // Overlapping, not identical: each starts a minute later.
                let span = nine_o_clock();
                let offset = SignedDuration::from_mins(i as i64);
                let span = Span::new(span.start + offset, span.end + offset).unwrap();
                if !open_first {
                    barrier.wait().await;
                }
                let mut tx = store.begin().await.unwrap();
                // A read first, so PostgreSQL takes its snapshot before the barrier.
                tx.practice(ours.org)
                    .patient_exists(ours.patient)
                    .await
                    .unwrap();
                if open_first {
                    barrier.wait().await;
                }
                let outcome = tx
                    .practice(ours.org)
                    .book(&booking(&ours, span))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                outcome
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for attempt in attempts {
        outcomes.push(attempt.await.unwrap());
    }
    let done = outcomes.iter().filter(|o| **o == Booking::Done).count();
    let taken = outcomes
        .iter()
        .filter(|o| **o == Booking::SlotTaken)
        .count();
    assert_eq!((done, taken), (1, ATTEMPTS - 1), "{outcomes:?}");
}

async fn names_are_found_whatever_the_spelling(db: &TestDb) {
    let store = db.store().await;
    let ours = practice(&store, "praxis-am-see").await;
    let data = store.practice(ours.org);
    for term in ["Müller", "mueller", "MÜLL", "muller", "jürgen", "Juergen"] {
        let found = data
            .search_patients(
                &PatientQuery {
                    name: Some(search_term(term)),
                    limit: 10,
                    ..PatientQuery::default()
                },
                &PatientVisibility::All,
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{term}");
    }
    let none = data
        .search_patients(
            &PatientQuery {
                name: Some(search_term("%")),
                limit: 10,
                ..PatientQuery::default()
            },
            &PatientVisibility::All,
        )
        .await
        .unwrap();
    assert_eq!(
        none.len(),
        1,
        "an empty term after folding is a prefix of everything"
    );
}

async fn a_member_sees_only_patients_of_their_calendars(db: &TestDb) {
    let store = db.store().await;
    let ours = practice(&store, "praxis-am-see").await;
    let member = termin_domain::ids::UserId::random();
    let narrow = |practitioners: Vec<PractitionerId>| PatientVisibility::Calendars {
        practitioners: Some(practitioners),
        member,
    };
    let data = store.practice(ours.org);
    let other_calendar = PractitionerId::random();
    assert!(
        data.patient(ours.patient, &narrow(vec![ours.practitioner]))
            .await
            .unwrap()
            .is_none(),
        "no appointment yet"
    );
    let mut tx = store.begin().await.unwrap();
    tx.practice(ours.org)
        .book(&booking(&ours, nine_o_clock()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        data.patient(ours.patient, &narrow(vec![ours.practitioner]))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        data.patient(ours.patient, &narrow(vec![other_calendar]))
            .await
            .unwrap()
            .is_none()
    );
    let everywhere = PatientVisibility::of(Some(&Scope::All), false, member);
    assert!(
        data.patient(ours.patient, &everywhere)
            .await
            .unwrap()
            .is_some()
    );
    // Their own new record, before any appointment.
    let mine = PatientId::random();
    let mut tx = store.begin().await.unwrap();
    tx.practice(ours.org)
        .insert_patient(
            mine,
            &patient_draft("Dora", "Neu"),
            Some(member),
            test_epoch(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(data.patient(mine, &narrow(vec![])).await.unwrap().is_some());
}

/// The appointments of a practice's calendar in March and April 2026.
async fn listed(store: &Store, p: &Practice) -> Vec<termin_storage::Appointment> {
    store
        .practice(p.org)
        .appointments(&AppointmentFilter {
            practitioners: vec![p.practitioner],
            from: test_epoch(),
            to: test_epoch() + SignedDuration::from_hours(24 * 30),
            include_cancelled: true,
            patient: None,
        })
        .await
        .unwrap()
}

async fn erasing_a_patient_leaves_another_practice_untouched(db: &TestDb) {
    let store = db.store().await;
    let ours = practice(&store, "praxis-am-see").await;
    let theirs = practice(&store, "praxis-nord").await;
    let mut tx = store.begin().await.unwrap();
    for p in [&ours, &theirs] {
        assert_eq!(
            tx.practice(p.org)
                .book(&booking(p, nine_o_clock()))
                .await
                .unwrap(),
            Booking::Done
        );
    }
    tx.commit().await.unwrap();

    // Through their handle our patient does not exist: nothing to erase or anonymise.
    let mut tx = store.begin().await.unwrap();
    let mut seen = tx.practice(theirs.org);
    assert_eq!(seen.erase_patient(ours.patient).await.unwrap(), None);
    let placeholder = AnonymisedRecord {
        given_name: "Patient",
        family_name: "#x",
        birth_date: jiff::civil::date(1970, 1, 1),
    };
    assert_eq!(
        seen.anonymise_patient(ours.patient, &placeholder, test_epoch())
            .await
            .unwrap(),
        None
    );
    tx.commit().await.unwrap();
    assert_eq!(listed(&store, &ours).await.len(), 1);

    let mut tx = store.begin().await.unwrap();
    let erased = tx
        .practice(ours.org)
        .erase_patient(ours.patient)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(erased.appointments, 1);

    let data = store.practice(ours.org);
    assert!(
        data.patient(ours.patient, &PatientVisibility::All)
            .await
            .unwrap()
            .is_none()
    );
    assert!(listed(&store, &ours).await.is_empty());
    assert!(data.patient_changes(ours.patient).await.unwrap().is_empty());

    // Theirs, with the same name and birth date, keeps record, appointment and history.
    let kept = store.practice(theirs.org);
    let record = kept
        .patient(theirs.patient, &PatientVisibility::All)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.draft.family_name, "Müller");
    let appointments = listed(&store, &theirs).await;
    assert_eq!(appointments.len(), 1);
    assert_eq!(
        kept.appointment_history(appointments[0].id)
            .await
            .unwrap()
            .len(),
        1
    );
}
