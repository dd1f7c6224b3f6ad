//! Termin's storage: the only code that knows which database it talks to.
//!
//! One interface, [`Store`], over two backends: embedded SQLite (the default) and
//! PostgreSQL (larger installs, several stateless instances on one database). Queries are
//! written once in the SQL both understand and run through sqlx's `Any` driver; the few
//! places where the backends differ (connection pragmas, how a write transaction starts,
//! migrations, error shapes) are branched on here and nowhere else.
//!
//! Guarantees such as "a set-up link is used once" are enforced by the database, so they
//! hold across instances, not only inside one process.

mod account_links;
mod audit;
mod backup_state;
mod codes;
mod connect;
mod devices;
mod error;
mod factors;
mod guard;
mod invitations;
mod migrate;
mod orgs;
mod outbox;
mod passkeys;
mod practice;
mod rights;
mod sessions;
mod setup_tokens;
mod snapshot;
mod time;
mod tx;
mod url;
mod users;

pub use account_links::{LinkAttempt, LinkKind, NewLink};
pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use backup_state::{BackupRun, BackupRunKind, TargetHistory};
pub use codes::{CodeAttempt, NewCode};
pub use connect::{Backend, PoolSettings, Store};
pub use devices::{DeviceRecord, NewDevice};
pub use error::StorageError;
pub use factors::TotpSecrets;
pub use guard::{
    FailureKind, FailureRecord, LockedAccount, NewFailure, NewSecurityEvent, SecurityEvent,
    SeenBlock, SourceBlock,
};
pub use invitations::{AcceptedInvitation, NewInvitation};
pub use migrate::{MigrationReport, Readiness};
pub use orgs::{NewOrganization, Organization};
pub use outbox::{ClaimedMessage, DeliveryState, DeliveryStatus};
pub use passkeys::{Ceremony, NewPasskey, PasskeyRecord};
pub use practice::{
    Absence, AnonymisedRecord, Appointment, AppointmentChange, AppointmentFilter, Booking,
    DueReminder, ErasedCounts, NewAppointment, NewHold, Patient, PatientBooking, PatientQuery,
    PatientVisibility, PendingBooking, PracticeData, PracticeTx, Practitioner, ReminderOutcome,
    ReminderState, Reschedule, VisitType,
};
pub use practice::{FreedTime, Joined, OfferLink, WaitingCandidate, WaitingEntry, WaitingOffer};
pub use sessions::{NewSession, SessionRecord};
pub use snapshot::{
    Cell, ColumnKind, RestoreError, RestoreReport, SnapshotEvent, SnapshotSummary, TableSpec,
};
pub use tx::Tx;
pub use url::{DatabaseUrl, InvalidDatabaseUrl};
pub use users::{Member, Membership, NewUser, UserRecord};

pub type StoreResult<T> = Result<T, StorageError>;
