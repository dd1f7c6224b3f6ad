//! Storage errors, and the single place where a database's constraint violation becomes a
//! domain conflict. Constraint names are identical in both schemas; SQLite reports the
//! columns instead of the name, so each constraint is registered with both.

use termin_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A named unique constraint was violated.
    #[error("{}", .0.message)]
    Conflict(&'static UniqueConstraint),
    /// No connection became free in time, or the pool is closing: the database is
    /// overloaded or going away, which a client may retry.
    #[error("the database is busy: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    #[error(
        "the database is newer than this termin: it has schema version {0}, which this binary does not know; upgrade termin"
    )]
    SchemaTooNew(i64),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A unique constraint that users can run into, and what they are told.
#[derive(Debug)]
pub struct UniqueConstraint {
    /// The constraint's name in both schemas (PostgreSQL reports it).
    pub name: &'static str,
    /// `table.column` as SQLite reports it.
    pub sqlite_columns: &'static str,
    /// Machine-readable conflict code for the API.
    pub code: &'static str,
    pub message: &'static str,
}

pub(crate) const UQ_ORG_SLUG: UniqueConstraint = UniqueConstraint {
    name: "uq_organizations_slug",
    sqlite_columns: "organizations.slug",
    code: "slug_taken",
    message: "this practice address is already taken",
};

pub(crate) const UQ_USER_EMAIL: UniqueConstraint = UniqueConstraint {
    name: "uq_users_email",
    sqlite_columns: "users.email_normalized",
    code: "email_taken",
    message: "an account with this e-mail address already exists",
};

pub(crate) const UQ_PASSKEY_CREDENTIAL: UniqueConstraint = UniqueConstraint {
    name: "uq_passkeys_credential_id",
    sqlite_columns: "passkeys.credential_id",
    code: "passkey_registered",
    message: "this passkey is already registered",
};

const REGISTERED: [&UniqueConstraint; 3] = [&UQ_ORG_SLUG, &UQ_USER_EMAIL, &UQ_PASSKEY_CREDENTIAL];

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        if matches!(err, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) {
            return StorageError::Unavailable(err);
        }
        if let sqlx::Error::Database(db) = &err
            && db.kind() == sqlx::error::ErrorKind::UniqueViolation
        {
            let by_name = db.constraint();
            let message = db.message();
            let found = REGISTERED.into_iter().find(|c| {
                by_name == Some(c.name)
                    || message.ends_with(&format!("constraint failed: {}", c.sqlite_columns))
            });
            if let Some(constraint) = found {
                return StorageError::Conflict(constraint);
            }
        }
        StorageError::Database(err)
    }
}

impl From<StorageError> for DomainError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Conflict(c) => DomainError::Conflict {
                code: c.code,
                message: c.message.to_owned(),
            },
            StorageError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                DomainError::Unavailable
            }
            other => DomainError::internal(other),
        }
    }
}

impl StorageError {
    /// The conflict code if this is a unique-constraint conflict.
    pub fn conflict_code(&self) -> Option<&'static str> {
        match self {
            StorageError::Conflict(c) => Some(c.code),
            _ => None,
        }
    }
}
