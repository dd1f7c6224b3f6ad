//! Blocking account theft (seed promise S8): how failed sign-in attempts turn into delays,
//! locks and blocked sources. Pure rules; the counts live in the database so that every
//! instance agrees.
//!
//! Per account (in fact per e-mail address tried, so that an unknown address behaves exactly
//! like a known one): from the fifth failure in a row each further attempt must wait a
//! growing delay (1, 2, 4, 8, then 10 s); every tenth failure locks the address, 15 minutes
//! first and twice as long each time after, up to two hours; 100 failures within 24 hours
//! lock it until an administrator unlocks it or the password is reset. Only checked attempts
//! count as failures: one refused inside a delay or lock costs the attacker nothing, so it
//! must not bring the permanent lock nearer (that would let anyone lock anyone out for good
//! with a hundred quick requests). With the two-hour ceiling a hundred real guesses fit into
//! a day (about 14 hours). A completed login resets everything.
//!
//! Per source (an IP address, and its /24 or /64 network): too many failures, or failures
//! against too many different addresses (credential stuffing), block the source's sign-in
//! attempts for a time that doubles with each block within a day.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

/// The thresholds for one account (one e-mail address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPolicy {
    /// Failures in a row after which every attempt waits [`AccountPolicy::delay`].
    pub delay_after: u32,
    pub max_delay: SignedDuration,
    /// Every this many failures in a row lock the account.
    pub lock_after: u32,
    pub first_lock: SignedDuration,
    pub max_lock: SignedDuration,
    /// This many failures within [`AccountPolicy::permanent_window`] lock the account until
    /// an administrator unlocks it or the password is reset.
    pub permanent_after: u32,
    pub permanent_window: SignedDuration,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            delay_after: 5,
            max_delay: SignedDuration::from_secs(10),
            lock_after: 10,
            first_lock: SignedDuration::from_mins(15),
            max_lock: SignedDuration::from_hours(2),
            permanent_after: 100,
            permanent_window: SignedDuration::from_hours(24),
        }
    }
}

/// What the database knows about one account's recent failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountGuard {
    /// Failed attempts since the last completed login (an attempt counts when it starts).
    pub failures: u32,
    pub last_attempt_at: Option<Timestamp>,
    pub locked_until: Option<Timestamp>,
    /// Locked until an administrator unlocks it or the password is reset.
    pub locked_permanently: bool,
}

/// Whether an attempt may be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Refused without looking at the password: locked or within a delay. `until` is `None`
    /// for a permanent lock.
    Refused {
        until: Option<Timestamp>,
    },
}

impl AccountPolicy {
    /// The wait before the next attempt after `failures` failures in a row.
    pub fn delay(&self, failures: u32) -> SignedDuration {
        if failures < self.delay_after.max(1) {
            return SignedDuration::ZERO;
        }
        let exponent = (failures - self.delay_after.max(1)).min(20);
        SignedDuration::from_secs(1_i64 << exponent).min(self.max_delay)
    }

    /// How long the lock reached at `failures` failures in a row lasts, if it is one.
    pub fn lock_for(&self, failures: u32) -> Option<SignedDuration> {
        let every = self.lock_after.max(1);
        if failures == 0 || !failures.is_multiple_of(every) {
            return None;
        }
        let doublings = (failures / every - 1).min(20);
        let lock = self
            .first_lock
            .checked_mul(1_i32 << doublings)
            .unwrap_or(self.max_lock);
        Some(lock.min(self.max_lock))
    }

    /// Whether an attempt at `now` may be checked.
    pub fn admit(&self, guard: &AccountGuard, now: Timestamp) -> Admission {
        if guard.locked_permanently {
            return Admission::Refused { until: None };
        }
        if let Some(until) = guard.locked_until.filter(|until| now < *until) {
            return Admission::Refused { until: Some(until) };
        }
        if let Some(last) = guard.last_attempt_at {
            let not_before = last.checked_add(self.delay(guard.failures)).unwrap_or(last);
            if now < not_before {
                return Admission::Refused {
                    until: Some(not_before),
                };
            }
        }
        Admission::Allowed
    }

    /// Counts an admitted attempt before it is checked: the guard as it stands if the
    /// attempt fails (a success undoes or resets it). Counting first means that concurrent
    /// attempts cannot all slip through before the first failure is recorded.
    pub fn count_attempt(&self, guard: &AccountGuard, now: Timestamp) -> AccountGuard {
        let failures = guard.failures.saturating_add(1);
        AccountGuard {
            failures,
            last_attempt_at: Some(now),
            locked_until: self
                .lock_for(failures)
                .and_then(|lock| now.checked_add(lock).ok())
                .or(guard.locked_until),
            locked_permanently: guard.locked_permanently,
        }
    }

    /// Whether `failures_in_window` checked failures lock permanently.
    pub fn locks_permanently(&self, failures_in_window: u32) -> bool {
        failures_in_window >= self.permanent_after
    }
}

/// The thresholds for one source of sign-in attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePolicy {
    /// Failures are counted over this window.
    pub window: SignedDuration,
    pub max_failures_per_ip: u32,
    /// Different e-mail addresses with failures from one IP within the window: more is
    /// credential stuffing.
    pub max_accounts_per_ip: u32,
    pub max_failures_per_network: u32,
    pub max_accounts_per_network: u32,
    pub first_block: SignedDuration,
    pub max_block: SignedDuration,
    /// A block within this time of the previous one lasts twice as long.
    pub memory: SignedDuration,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_mins(60),
            max_failures_per_ip: 50,
            max_accounts_per_ip: 20,
            max_failures_per_network: 200,
            max_accounts_per_network: 60,
            first_block: SignedDuration::from_mins(15),
            max_block: SignedDuration::from_hours(24),
            memory: SignedDuration::from_hours(24),
        }
    }
}

/// Recent failures from one source, as counted in the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounts {
    pub failures: u32,
    /// Distinct e-mail addresses among them.
    pub accounts: u32,
}

/// An IP address or a network, as sign-in failures are counted and blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Ip,
    Network,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Ip => "ip",
            SourceKind::Network => "network",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ip" => Some(SourceKind::Ip),
            "network" => Some(SourceKind::Network),
            _ => None,
        }
    }
}

/// Why a source was blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    TooManyFailures,
    ManyAccounts,
}

impl BlockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockReason::TooManyFailures => "too_many_failures",
            BlockReason::ManyAccounts => "credential_stuffing",
        }
    }
}

impl SourcePolicy {
    /// Whether these counts block the source, and why.
    pub fn verdict(&self, kind: SourceKind, counts: SourceCounts) -> Option<BlockReason> {
        let (max_failures, max_accounts) = match kind {
            SourceKind::Ip => (self.max_failures_per_ip, self.max_accounts_per_ip),
            SourceKind::Network => (self.max_failures_per_network, self.max_accounts_per_network),
        };
        if counts.accounts >= max_accounts {
            Some(BlockReason::ManyAccounts)
        } else if counts.failures >= max_failures {
            Some(BlockReason::TooManyFailures)
        } else {
            None
        }
    }

    /// How long the `level`-th block in a row (1 for the first) lasts.
    pub fn block_for(&self, level: u32) -> SignedDuration {
        let doublings = level.saturating_sub(1).min(20);
        self.first_block
            .checked_mul(1_i32 << doublings)
            .unwrap_or(self.max_block)
            .min(self.max_block)
    }
}

/// The key failures are counted under: a hash of the e-mail address as typed, normalised,
/// so that an unknown address is counted (and delayed, and locked) exactly like a known one
/// and no address is stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginSubject(String);

impl LoginSubject {
    pub fn for_email(raw: &str) -> Self {
        // Counted the way accounts are looked up, so that every spelling of one address
        // is one subject.
        let normalised = match crate::user::Email::parse(raw) {
            Ok(email) => email.normalized(),
            Err(_) => raw.trim().to_lowercase().chars().take(320).collect(),
        };
        Self(hex::encode(Sha256::digest(normalised.as_bytes())))
    }

    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key a client address is metered under: an IPv4 address as it is (also when it comes
/// IPv4-mapped), an IPv6 address by its /64 network, because one subscriber holds a whole
/// /64 and could otherwise rotate through it.
pub fn meter_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Where an attempt came from: the address and its network (/24 for IPv4, /64 for IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub ip: String,
    pub network: String,
}

impl Source {
    /// From the client address as recorded; something that is not an address counts as its
    /// own network.
    pub fn of(raw_ip: &str) -> Self {
        let network = match raw_ip.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => {
                let [a, b, c, _] = v4.octets();
                format!("{a}.{b}.{c}.0/24")
            }
            Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => {
                    let [a, b, c, _] = v4.octets();
                    format!("{a}.{b}.{c}.0/24")
                }
                None => {
                    let s = v6.segments();
                    let prefix =
                        std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0).to_string();
                    format!("{prefix}/64")
                }
            },
            Err(_) => raw_ip.to_owned(),
        };
        Self {
            ip: raw_ip.to_owned(),
            network,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn delays_start_at_the_fifth_failure_and_stop_growing_at_ten_seconds() {
        let policy = AccountPolicy::default();
        let secs: Vec<i64> = (0..=12).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(secs, [0, 0, 0, 0, 0, 1, 2, 4, 8, 10, 10, 10, 10]);
    }

    #[test]
    fn every_tenth_failure_locks_and_each_lock_doubles() {
        let policy = AccountPolicy::default();
        assert_eq!(policy.lock_for(9), None);
        assert_eq!(policy.lock_for(10), Some(SignedDuration::from_mins(15)));
        assert_eq!(policy.lock_for(11), None);
        assert_eq!(policy.lock_for(20), Some(SignedDuration::from_mins(30)));
        assert_eq!(policy.lock_for(30), Some(SignedDuration::from_mins(60)));
        assert_eq!(policy.lock_for(50), Some(SignedDuration::from_hours(2)));
        assert_eq!(policy.lock_for(90), Some(SignedDuration::from_hours(2)));
        assert_eq!(policy.lock_for(0), None);
    }

    #[test]
    fn an_attempt_inside_the_delay_is_refused_and_one_after_it_is_allowed() {
        let policy = AccountPolicy::default();
        let guard = AccountGuard {
            failures: 6,
            last_attempt_at: Some(at(0)),
            ..AccountGuard::default()
        };
        assert_eq!(
            policy.admit(&guard, at(1)),
            Admission::Refused { until: Some(at(2)) }
        );
        assert_eq!(policy.admit(&guard, at(2)), Admission::Allowed);
    }

    #[test]
    fn the_tenth_counted_attempt_sets_the_lock_and_the_ninth_does_not() {
        let policy = AccountPolicy::default();
        let nine = AccountGuard {
            failures: 8,
            last_attempt_at: Some(at(0)),
            ..AccountGuard::default()
        };
        let counted = policy.count_attempt(&nine, at(100));
        assert_eq!(counted.failures, 9);
        assert_eq!(counted.locked_until, None);
        let counted = policy.count_attempt(&counted, at(200));
        assert_eq!(counted.failures, 10);
        assert_eq!(counted.locked_until, Some(at(200 + 15 * 60)));
        assert_eq!(
            policy.admit(&counted, at(200 + 15 * 60 - 1)),
            Admission::Refused {
                until: Some(at(200 + 15 * 60))
            }
        );
        assert_eq!(
            policy.admit(&counted, at(200 + 15 * 60)),
            Admission::Allowed
        );
    }

    #[test]
    fn a_permanent_lock_has_no_end() {
        let policy = AccountPolicy::default();
        let guard = AccountGuard {
            locked_permanently: true,
            ..AccountGuard::default()
        };
        assert_eq!(
            policy.admit(&guard, at(10_000_000)),
            Admission::Refused { until: None }
        );
        assert!(!policy.locks_permanently(99));
        assert!(policy.locks_permanently(100));
    }

    #[test]
    fn sources_are_blocked_for_many_failures_or_many_accounts() {
        let policy = SourcePolicy::default();
        let counts = |failures, accounts| SourceCounts { failures, accounts };
        assert_eq!(policy.verdict(SourceKind::Ip, counts(49, 1)), None);
        assert_eq!(
            policy.verdict(SourceKind::Ip, counts(50, 1)),
            Some(BlockReason::TooManyFailures)
        );
        assert_eq!(policy.verdict(SourceKind::Ip, counts(19, 19)), None);
        assert_eq!(
            policy.verdict(SourceKind::Ip, counts(20, 20)),
            Some(BlockReason::ManyAccounts)
        );
        assert_eq!(policy.verdict(SourceKind::Network, counts(199, 59)), None);
        assert_eq!(
            policy.verdict(SourceKind::Network, counts(60, 60)),
            Some(BlockReason::ManyAccounts)
        );
        assert_eq!(policy.block_for(1), SignedDuration::from_mins(15));
        assert_eq!(policy.block_for(2), SignedDuration::from_mins(30));
        assert_eq!(policy.block_for(30), SignedDuration::from_hours(24));
    }

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        assert_eq!(Source::of("203.0.113.77").network, "203.0.113.0/24");
        assert_eq!(
            Source::of("2001:db8:1:2:3:4:5:6").network,
            "2001:db8:1:2::/64"
        );
        assert_eq!(Source::of("::ffff:10.1.2.3").network, "10.1.2.0/24");
        assert_eq!(Source::of("unknown").network, "unknown");
    }

    #[test]
    fn ipv6_clients_are_metered_by_their_slash_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(meter_key(a), meter_key(b));
        assert_ne!(meter_key(a), meter_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(meter_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn subjects_ignore_case_and_never_hold_the_address() {
        let a = LoginSubject::for_email("Anna@Praxis.example");
        let b = LoginSubject::for_email("anna@praxis.example");
        assert_eq!(a, b);
        assert!(!a.as_str().contains("anna"));
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, LoginSubject::for_email("ben@praxis.example"));
    }
}
