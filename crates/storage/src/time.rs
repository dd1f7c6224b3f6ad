//! Instants are stored as microseconds since the Unix epoch, an integer both backends and
//! the `Any` driver carry unchanged.

use jiff::Timestamp;

use crate::StorageError;

pub(crate) fn to_db(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub(crate) fn from_db(micros: i64) -> Result<Timestamp, StorageError> {
    Timestamp::from_microsecond(micros)
        .map_err(|_| StorageError::Corrupt(format!("timestamp out of range: {micros}")))
}
