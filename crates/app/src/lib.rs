//! Termin's use cases: each public function here is one thing a user or operator does.
//! They combine domain rules, the store, the clock and (later) the outbox. HTTP handlers and
//! CLI commands call exactly one of them and render its result.

pub mod audit;
pub mod auth;
pub mod backups;
pub mod booking;
pub mod delivery;
pub mod invitations;
pub mod lockouts;
pub mod passwords;
pub mod practice;
pub mod schedule;
pub mod setup;
pub mod users;

use std::sync::Arc;

use termin_domain::Clock;
use termin_domain::password::PasswordPolicy;
use termin_storage::Store;

pub use passwords::PasswordHasher;

/// Everything a use case needs, shared by all requests.
#[derive(Clone, Debug)]
pub struct Services {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub password_policy: PasswordPolicy,
    /// Thresholds of the account and source guards (S8).
    pub guard: auth::GuardPolicy,
    /// Where users reach Termin (`https://host[:port]`), for links in messages.
    pub public_origin: String,
    /// The configured backup targets' names (none: backups are not configured).
    pub backup_targets: Arc<Vec<termin_domain::backup::TargetName>>,
    /// A hash of nothing, verified against when an e-mail address is unknown.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
}

impl Services {
    pub fn new(store: Store, clock: Arc<dyn Clock>, hasher: PasswordHasher) -> Self {
        Self {
            store,
            clock,
            hasher,
            password_policy: PasswordPolicy::default(),
            guard: auth::GuardPolicy::default(),
            public_origin: "https://localhost:8443".to_owned(),
            backup_targets: Arc::new(Vec::new()),
            dummy_hash: Arc::new(tokio::sync::OnceCell::new()),
        }
    }
}

pub use termin_storage::Readiness;

impl Services {
    /// Whether the database is reachable and migrated (for `/readyz`).
    pub async fn readiness(&self) -> Readiness {
        self.store.readiness().await
    }
}
