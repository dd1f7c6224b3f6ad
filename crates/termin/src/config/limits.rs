//! `[limits]` (denial-of-service hardening, S12) and `[lockout]` (account-theft
//! protection, S8). The defaults are safe; an operator (or a test, or a benchmark) may
//! raise them, and every value is checked.

use std::time::Duration;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use termin_app::auth::GuardPolicy;
use termin_domain::guard::{AccountPolicy, SourcePolicy};
use termin_web::HttpLimits;

use super::ConfigError;
use crate::connections::ConnectionLimits;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLimits {
    /// Requests per minute per client address on every endpoint, and the burst above it.
    pub requests_per_minute: u32,
    pub burst: u32,
    /// The same for sign-in, codes, password reset, invitations and public booking.
    pub auth_requests_per_minute: u32,
    pub auth_burst: u32,
    /// Requests handled at once; more are answered 503 with Retry-After.
    pub max_in_flight: usize,
    /// Requests of one client address handled at once.
    pub max_in_flight_per_ip: usize,
    pub request_timeout_secs: u64,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub header_read_timeout_secs: u64,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

impl Default for RawLimits {
    fn default() -> Self {
        let http = HttpLimits::default();
        let conn = ConnectionLimits::default();
        Self {
            requests_per_minute: http.per_minute,
            burst: http.burst,
            auth_requests_per_minute: http.auth_per_minute,
            auth_burst: http.auth_burst,
            max_in_flight: http.max_in_flight,
            max_in_flight_per_ip: http.max_in_flight_per_ip,
            request_timeout_secs: http.request_timeout.as_secs(),
            max_body_bytes: http.max_body_bytes,
            max_header_bytes: conn.max_header_bytes,
            header_read_timeout_secs: conn.header_read_timeout.as_secs(),
            max_connections: conn.max_connections,
            max_connections_per_ip: conn.max_connections_per_ip,
        }
    }
}

fn within<T: PartialOrd + std::fmt::Display + Copy>(
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::new(
            key,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(value)
}

impl RawLimits {
    pub fn validate(&self) -> Result<(HttpLimits, ConnectionLimits), ConfigError> {
        let http = HttpLimits {
            per_minute: within(
                "limits.requests_per_minute",
                self.requests_per_minute,
                1,
                10_000_000,
            )?,
            burst: within("limits.burst", self.burst, 1, 10_000_000)?,
            auth_per_minute: within(
                "limits.auth_requests_per_minute",
                self.auth_requests_per_minute,
                1,
                10_000_000,
            )?,
            auth_burst: within("limits.auth_burst", self.auth_burst, 1, 10_000_000)?,
            max_in_flight: within("limits.max_in_flight", self.max_in_flight, 1, 1_000_000)?,
            max_in_flight_per_ip: within(
                "limits.max_in_flight_per_ip",
                self.max_in_flight_per_ip,
                1,
                1_000_000,
            )?,
            request_timeout: Duration::from_secs(within(
                "limits.request_timeout_secs",
                self.request_timeout_secs,
                1,
                3600,
            )?),
            max_body_bytes: within(
                "limits.max_body_bytes",
                self.max_body_bytes,
                1024,
                64 * 1024 * 1024,
            )?,
        };
        let header_read_timeout = Duration::from_secs(within(
            "limits.header_read_timeout_secs",
            self.header_read_timeout_secs,
            1,
            600,
        )?);
        let connections = ConnectionLimits {
            max_connections: within("limits.max_connections", self.max_connections, 1, 1_000_000)?,
            max_connections_per_ip: within(
                "limits.max_connections_per_ip",
                self.max_connections_per_ip,
                1,
                1_000_000,
            )?,
            header_read_timeout,
            // The TLS handshake comes before the first request's headers.
            first_request_timeout: header_read_timeout + Duration::from_secs(5),
            max_header_bytes: within(
                "limits.max_header_bytes",
                self.max_header_bytes,
                8192,
                1024 * 1024,
            )?,
        };
        Ok((http, connections))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLockout {
    /// Failures in a row after which every further attempt waits (1 s, doubling, at most
    /// `max_delay_secs`).
    pub delay_after_failures: u32,
    pub max_delay_secs: u32,
    /// Every this many failures in a row lock the account, first for `first_lock_minutes`,
    /// twice as long each time after.
    pub lock_after_failures: u32,
    pub first_lock_minutes: u32,
    /// The longest a (doubling) lock lasts.
    pub max_lock_minutes: u32,
    /// This many failures in 24 hours lock the account until an administrator unlocks it
    /// or the password is reset.
    pub permanent_lock_after_failures: u32,
    /// Failures from one address, or against this many different accounts, within an hour
    /// block the address; the `network` ones the /24 or /64 network.
    pub max_failures_per_ip: u32,
    pub max_accounts_per_ip: u32,
    pub max_failures_per_network: u32,
    pub max_accounts_per_network: u32,
    /// How long a first block lasts; each block within a day lasts twice as long.
    pub first_block_minutes: u32,
}

impl Default for RawLockout {
    fn default() -> Self {
        let account = AccountPolicy::default();
        let source = SourcePolicy::default();
        let minutes = |d: SignedDuration| u32::try_from(d.as_mins()).unwrap_or(u32::MAX);
        let secs = |d: SignedDuration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        Self {
            delay_after_failures: account.delay_after,
            max_delay_secs: secs(account.max_delay),
            lock_after_failures: account.lock_after,
            first_lock_minutes: minutes(account.first_lock),
            max_lock_minutes: minutes(account.max_lock),
            permanent_lock_after_failures: account.permanent_after,
            max_failures_per_ip: source.max_failures_per_ip,
            max_accounts_per_ip: source.max_accounts_per_ip,
            max_failures_per_network: source.max_failures_per_network,
            max_accounts_per_network: source.max_accounts_per_network,
            first_block_minutes: minutes(source.first_block),
        }
    }
}

impl RawLockout {
    pub fn validate(&self) -> Result<GuardPolicy, ConfigError> {
        const MANY: u32 = 1_000_000;
        let delay_after = within(
            "lockout.delay_after_failures",
            self.delay_after_failures,
            1,
            MANY,
        )?;
        let lock_after = within(
            "lockout.lock_after_failures",
            self.lock_after_failures,
            delay_after,
            MANY,
        )?;
        let account = AccountPolicy {
            delay_after,
            max_delay: SignedDuration::from_secs(i64::from(within(
                "lockout.max_delay_secs",
                self.max_delay_secs,
                1,
                60,
            )?)),
            lock_after,
            first_lock: SignedDuration::from_mins(i64::from(within(
                "lockout.first_lock_minutes",
                self.first_lock_minutes,
                1,
                24 * 60,
            )?)),
            max_lock: SignedDuration::from_mins(i64::from(within(
                "lockout.max_lock_minutes",
                self.max_lock_minutes,
                self.first_lock_minutes.max(1),
                24 * 60,
            )?)),
            permanent_after: within(
                "lockout.permanent_lock_after_failures",
                self.permanent_lock_after_failures,
                lock_after,
                MANY,
            )?,
            ..AccountPolicy::default()
        };
        let source = SourcePolicy {
            max_failures_per_ip: within(
                "lockout.max_failures_per_ip",
                self.max_failures_per_ip,
                2,
                MANY,
            )?,
            max_accounts_per_ip: within(
                "lockout.max_accounts_per_ip",
                self.max_accounts_per_ip,
                2,
                MANY,
            )?,
            max_failures_per_network: within(
                "lockout.max_failures_per_network",
                self.max_failures_per_network,
                2,
                MANY,
            )?,
            max_accounts_per_network: within(
                "lockout.max_accounts_per_network",
                self.max_accounts_per_network,
                2,
                MANY,
            )?,
            first_block: SignedDuration::from_mins(i64::from(within(
                "lockout.first_block_minutes",
                self.first_block_minutes,
                1,
                24 * 60,
            )?)),
            ..SourcePolicy::default()
        };
        Ok(GuardPolicy { account, source })
    }
}
