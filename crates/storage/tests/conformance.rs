//! The storage conformance suite: every test runs on SQLite and, when
//! `TERMIN_TEST_POSTGRES_URL` is set, on PostgreSQL, each in a fresh database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed step must fail the test"
)]

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use termin_domain::ids::{OrgId, UserId};
use termin_domain::org::{OrgName, OrgSlug, TimeZoneName};
use termin_domain::token::SecretToken;
use termin_domain::user::{Email, PhoneNumber, Role, UserStatus};
use termin_storage::{NewOrganization, NewUser, Readiness, StorageError, Store};
use termin_testkit::{TestDb, on_both_backends, test_epoch};

on_both_backends!(
    migrations_apply_once_and_report_the_schema_version,
    readiness_requires_migrations,
    a_database_from_a_newer_termin_is_refused,
    organizations_round_trip_and_slugs_are_unique,
    emails_are_unique_regardless_of_letter_case,
    memberships_require_existing_rows,
    an_uncommitted_transaction_leaves_nothing_behind,
    instants_round_trip_to_the_microsecond,
    setup_token_is_usable_until_one_microsecond_before_expiry,
    setup_token_is_consumed_exactly_once,
    fifty_concurrent_consumers_of_one_token_yield_one_winner,
);

fn org(slug: &str, at: Timestamp) -> NewOrganization {
    NewOrganization {
        id: OrgId::random(),
        slug: OrgSlug::parse(slug).unwrap(),
        name: OrgName::parse("Praxis am See").unwrap(),
        time_zone: TimeZoneName::default_zone(),
        created_at: at,
    }
}

fn user(email: &str, at: Timestamp) -> NewUser {
    NewUser {
        id: UserId::random(),
        email: Email::parse(email).unwrap(),
        phone: PhoneNumber::parse("+4915123456789").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        status: UserStatus::VerificationPending,
        created_at: at,
    }
}

async fn migrations_apply_once_and_report_the_schema_version(db: &TestDb) {
    let store = db.connect().await;
    let first = store.migrate().await.unwrap();
    assert!(first.applied_now >= 1);
    assert_eq!(first.schema_version, store.latest_schema_version());
    let second = store.migrate().await.unwrap();
    assert_eq!(second.applied_now, 0);
    assert_eq!(second.schema_version, first.schema_version);
}

async fn readiness_requires_migrations(db: &TestDb) {
    let store = db.connect().await;
    assert_eq!(store.readiness().await, Readiness::NotMigrated);
    store.migrate().await.unwrap();
    assert_eq!(store.readiness().await, Readiness::Ready);
    store.close().await;
    assert_eq!(store.readiness().await, Readiness::Unreachable);
}

async fn a_database_from_a_newer_termin_is_refused(db: &TestDb) {
    let store = db.store().await;
    db.execute_raw(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 99990101000000, 'from the future', success, checksum, execution_time \
         FROM _sqlx_migrations WHERE version = (SELECT MIN(version) FROM _sqlx_migrations)",
    )
    .await;
    match store.migrate().await {
        Err(StorageError::SchemaTooNew(v)) => assert_eq!(v, 99990101000000),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(store.readiness().await, Readiness::NotMigrated);
}

async fn organizations_round_trip_and_slugs_are_unique(db: &TestDb) {
    let store = db.store().await;
    let at = test_epoch();
    let new = org("praxis-am-see", at);
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&new).await.unwrap();
    tx.commit().await.unwrap();

    let found = store
        .find_organization_by_slug(&new.slug)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, new.id);
    assert_eq!(found.name.as_str(), "Praxis am See");
    assert_eq!(found.time_zone.as_str(), "Europe/Berlin");
    assert_eq!(found.created_at, at);
    assert_eq!(store.count_organizations().await.unwrap(), 1);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.slug_exists(&new.slug).await.unwrap());
    let err = tx
        .insert_organization(&org("praxis-am-see", at))
        .await
        .unwrap_err();
    assert_eq!(err.conflict_code(), Some("slug_taken"));
    drop(tx);
    assert_eq!(store.count_organizations().await.unwrap(), 1);
    assert!(
        store
            .find_organization_by_slug(&OrgSlug::parse("other").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn emails_are_unique_regardless_of_letter_case(db: &TestDb) {
    let store = db.store().await;
    let at = test_epoch();
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user("Anna.Schmidt@Praxis.example", at))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_user(&user("anna.schmidt@praxis.EXAMPLE", at))
        .await
        .unwrap_err();
    assert_eq!(err.conflict_code(), Some("email_taken"));
    drop(tx);

    let found = store
        .find_user_by_email(&Email::parse("ANNA.SCHMIDT@praxis.example").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.email.as_str(), "Anna.Schmidt@Praxis.example");
    assert_eq!(found.status, UserStatus::VerificationPending);
    assert_eq!(found.phone.as_str(), "+4915123456789");
}

async fn memberships_require_existing_rows(db: &TestDb) {
    let store = db.store().await;
    let at = test_epoch();
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_membership(OrgId::random(), UserId::random(), Role::Owner, at)
        .await;
    assert!(
        matches!(err, Err(StorageError::Database(_))),
        "foreign keys are enforced: {err:?}"
    );
    drop(tx);

    let o = org("praxis-nord", at);
    let u = user("owner@praxis.example", at);
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&o).await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_membership(o.id, u.id, Role::Owner, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let memberships = store.memberships_of(u.id).await.unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].org_id, o.id);
    assert_eq!(memberships[0].org_slug.as_str(), "praxis-nord");
    assert_eq!(memberships[0].role, Role::Owner);
}

async fn an_uncommitted_transaction_leaves_nothing_behind(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org("praxis-sued", test_epoch()))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org("praxis-west", test_epoch()))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(store.count_organizations().await.unwrap(), 0);
}

async fn instants_round_trip_to_the_microsecond(db: &TestDb) {
    let store = db.store().await;
    let at: Timestamp = "2026-10-25T00:59:59.123456Z".parse().unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org("praxis-zeit", at))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let found = store
        .find_organization_by_slug(&OrgSlug::parse("praxis-zeit").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.created_at, at);
}

/// Stores a fresh set-up token issued at the test epoch; returns it and its expiry.
async fn issued_token(store: &Store) -> (SecretToken, Timestamp) {
    let token = SecretToken::generate().unwrap();
    let created = test_epoch();
    let expires = created.checked_add(SignedDuration::from_hours(1)).unwrap();
    store
        .insert_setup_token(&token.hash(), created, expires)
        .await
        .unwrap();
    (token, expires)
}

async fn setup_token_is_usable_until_one_microsecond_before_expiry(db: &TestDb) {
    let store = db.store().await;
    let (token, expires) = issued_token(&store).await;
    let just_before = expires.checked_sub(SignedDuration::from_micros(1)).unwrap();
    assert!(
        store
            .setup_token_is_usable(&token.hash(), just_before)
            .await
            .unwrap()
    );
    assert!(
        !store
            .setup_token_is_usable(&token.hash(), expires)
            .await
            .unwrap()
    );

    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.consume_setup_token(&token.hash(), expires)
            .await
            .unwrap(),
        "expired"
    );
    assert!(
        tx.consume_setup_token(&token.hash(), just_before)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

async fn setup_token_is_consumed_exactly_once(db: &TestDb) {
    let store = db.store().await;
    let (token, _) = issued_token(&store).await;
    let now = test_epoch();
    let unknown = SecretToken::generate().unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.consume_setup_token(&unknown.hash(), now).await.unwrap());
    assert!(tx.consume_setup_token(&token.hash(), now).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.consume_setup_token(&token.hash(), now).await.unwrap());
    assert!(
        !store
            .setup_token_is_usable(&token.hash(), now)
            .await
            .unwrap()
    );
}

async fn fifty_concurrent_consumers_of_one_token_yield_one_winner(db: &TestDb) {
    let store = Arc::new(db.store().await);
    let (token, _) = issued_token(&store).await;
    let now = test_epoch();

    let attempts = (0..50).map(|_| {
        let store: Arc<Store> = Arc::clone(&store);
        let hash = token.hash();
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            let won = tx.consume_setup_token(&hash, now).await.unwrap();
            tx.commit().await.unwrap();
            won
        })
    });
    let mut winners = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        if attempt.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}
