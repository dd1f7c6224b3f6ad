//! The one error type of Termin's use cases. The web layer maps it to HTTP in exactly one
//! place; nothing else decides status codes. `Internal` carries its cause for the log only:
//! no response ever shows it.

use std::collections::BTreeMap;
use std::fmt;

/// Per-field validation messages, keyed by the field name the client sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Records the error of a parse result under `field` and returns the value, if any.
    pub fn take<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.add(field, err.to_string());
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded, otherwise the collected [`DomainError::Invalid`].
    pub fn into_result(self) -> Result<(), DomainError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self))
        }
    }
}

/// What can go wrong in a use case, in terms a client may be told.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Unknown id, or an id of another practice: the two are indistinguishable on purpose.
    #[error("not found")]
    NotFound,
    #[error("not authenticated")]
    Unauthenticated,
    /// Wrong e-mail, wrong password, locked or disabled account: one answer for all, so
    /// that nobody learns which accounts exist.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A one-time code that is wrong, expired, used or out of attempts (one answer for all).
    #[error("invalid code")]
    InvalidCode,
    /// The request needs a fresh token, the CSRF token, that did not match.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// A limit was reached; the client may retry after the given seconds.
    #[error("too many requests")]
    Throttled { retry_after_secs: u32 },
    #[error("not allowed")]
    Forbidden,
    /// The practice requires an authenticator app or a passkey for the user's role, and the
    /// user has neither yet.
    #[error("a strong second factor is required")]
    StrongFactorRequired,
    /// A sensitive action, and the password was last entered more than ten minutes ago:
    /// the user confirms it again first.
    #[error("recent authentication required")]
    ReauthenticationRequired,
    /// The practice allows its staff (of this role) only from certain networks, and the
    /// request comes from elsewhere.
    #[error("not allowed from this network")]
    NetworkNotAllowed,
    /// A state conflict, e.g. a unique value already taken. `code` is machine-readable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Input that parsed but broke a field rule.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The password breaks the password policy; each violated rule is listed.
    #[error("password policy violated")]
    PasswordPolicy {
        violations: Vec<crate::password::Violation>,
    },
    /// Overloaded or a dependency is down for the moment; the client should retry soon.
    #[error("temporarily unavailable")]
    Unavailable,
    /// Something broke that the client cannot fix. The cause is for the log only.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DomainError {
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.add(field, message);
        Self::Invalid(fields)
    }
}
