//! Termin's domain: the rules of the practice platform, free of HTTP, SQL and sockets.
//!
//! Everything here is plain Rust and tested without a database. Values that cross a trust
//! boundary are parsed into newtypes (`Email`, `PhoneNumber`, `OrgSlug`, …) whose fields are
//! private, so once a value exists it is valid.

pub mod audit;
pub mod backup;
pub mod clock;
pub mod delivery;
pub mod error;
pub mod guard;
pub mod ids;
pub mod network;
pub mod org;
pub mod otp;
pub mod password;
pub mod rights;
pub mod schedule;
pub mod security;
pub mod session;
pub mod setup;
pub mod token;
pub mod totp;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{DomainError, FieldErrors};
