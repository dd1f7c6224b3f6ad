//! Configurations that switch the sign-in guards (S8) off for tests about something else.

use termin::config::RawConfig;

/// Sources (addresses and networks) are never blocked: for tests about accounts, whose
/// clients all come from 127.0.0.1.
pub fn no_source_blocks(raw: &mut RawConfig) {
    raw.lockout.max_failures_per_ip = 1_000_000;
    raw.lockout.max_accounts_per_ip = 1_000_000;
    raw.lockout.max_failures_per_network = 1_000_000;
    raw.lockout.max_accounts_per_network = 1_000_000;
}

/// Neither accounts nor sources are ever delayed, locked or blocked: for measuring the
/// plain paths (timing).
pub fn no_sign_in_guards(raw: &mut RawConfig) {
    no_source_blocks(raw);
    raw.lockout.delay_after_failures = 1_000_000;
    raw.lockout.lock_after_failures = 1_000_000;
    raw.lockout.permanent_lock_after_failures = 1_000_000;
}
