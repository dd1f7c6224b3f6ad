//! Denial-of-service hardening at the request level (S12): per-source request rates on
//! every endpoint, stricter ones on sign-in, codes, password reset and public booking
//! (429 with `Retry-After`), and a global cap on requests in flight that sheds load with
//! 503 and `Retry-After` before the server degrades.
//!
//! Rates are per instance and in memory (a flood is absorbed where it lands; the account and
//! source guards that must agree across instances live in the database). Time comes from the
//! injected clock, so tests move it instead of sleeping.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use termin_domain::guard::meter_key;
use termin_domain::{Clock, DomainError};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The request limits in force (configurable: tests and benchmarks raise them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Requests per minute and source on every endpoint, and the burst allowed above it.
    pub per_minute: u32,
    pub burst: u32,
    /// The same for sign-in, codes, password reset, invitations and public booking.
    pub auth_per_minute: u32,
    pub auth_burst: u32,
    /// Requests handled at once; more are answered 503 at once.
    pub max_in_flight: usize,
    /// Requests of one source handled at once (so that a few slow clients cannot take all
    /// places); more are answered 503 too.
    pub max_in_flight_per_ip: usize,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            per_minute: 600,
            burst: 120,
            auth_per_minute: 30,
            auth_burst: 15,
            max_in_flight: 512,
            max_in_flight_per_ip: 32,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 256 * 1024,
        }
    }
}

/// Paths whose state-changing requests are limited strictly: where guessing happens.
const STRICT_PREFIXES: [&str; 13] = [
    "/api/v1/auth/",
    "/api/v1/invitations/accept",
    "/api/v1/public/",
    "/api/v1/manage/",
    "/manage/",
    "/login",
    "/reset",
    "/not-me/",
    "/invite/",
    "/setup",
    "/book/",
    "/api/v1/offers/",
    "/offers/",
];

/// Paths that are never rate-limited: probes of load balancers and monitors.
const UNLIMITED: [&str; 2] = ["/healthz", "/readyz"];

/// Whether a request falls under the strict limit.
pub fn is_strict(method: &Method, path: &str) -> bool {
    *method != Method::GET
        && *method != Method::HEAD
        && STRICT_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// A GCRA limiter ("leaky bucket as a meter") per source address: one stored instant per
/// source, the theoretical arrival time of its next request.
#[derive(Debug)]
struct Meter {
    /// Microseconds between requests at the sustained rate.
    interval: i64,
    /// How far ahead of now the next arrival time may run: the burst.
    tolerance: i64,
    table: Mutex<Table>,
}

/// The next arrival time per source, and the size at which stale entries are next swept.
#[derive(Debug)]
struct Table {
    next_arrival: HashMap<IpAddr, i64>,
    sweep_at: usize,
}

/// Sources remembered before stale entries are first swept.
const SWEEP_AT: usize = 10_000;

impl Meter {
    fn new(per_minute: u32, burst: u32) -> Self {
        let interval = 60_000_000 / i64::from(per_minute.max(1));
        Self {
            interval,
            tolerance: interval * i64::from(burst.max(1).saturating_sub(1)),
            table: Mutex::new(Table {
                next_arrival: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
        }
    }

    /// Admits one request from `source` at `now` (microseconds), or tells how many seconds
    /// until it would be admitted.
    fn admit(&self, source: IpAddr, now: i64) -> Result<(), u32> {
        let mut guard = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Table {
            next_arrival: table,
            sweep_at,
        } = &mut *guard;
        if table.len() >= *sweep_at {
            // Sources whose next arrival has passed are as good as new. Sweep again only
            // when the table has doubled, so that many live sources cannot make every
            // request pay for a sweep.
            table.retain(|_, next| *next > now);
            *sweep_at = (table.len() * 2).max(SWEEP_AT);
        }
        let next = table.get(&source).copied().unwrap_or(now).max(now);
        let ahead = next - now;
        if ahead > self.tolerance {
            let wait = ahead - self.tolerance;
            let secs = (wait + 999_999) / 1_000_000;
            return Err(u32::try_from(secs.max(1)).unwrap_or(u32::MAX));
        }
        table.insert(source, next + self.interval);
        Ok(())
    }
}

/// Places per source: at most `max` held at once by one source (a client address, IPv6 by
/// its /64). A place is given back when its [`SourcePlace`] is dropped. Used for requests in
/// flight here and for open connections by the server.
#[derive(Debug, Clone)]
pub struct PerSource {
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max: usize,
}

impl PerSource {
    pub fn new(max: usize) -> Self {
        Self {
            held: Arc::new(Mutex::new(HashMap::new())),
            max: max.max(1),
        }
    }

    /// A place for `ip`, or `None` when its sources already hold `max`.
    pub fn take(&self, ip: IpAddr) -> Option<SourcePlace> {
        let key = meter_key(ip);
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(SourcePlace {
            key,
            held: self.held.clone(),
        })
    }
}

/// One place taken under [`PerSource`]; dropping it gives the place back (entries that fall
/// to zero are removed, so the table holds only sources with something open).
#[derive(Debug)]
pub struct SourcePlace {
    key: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for SourcePlace {
    fn drop(&mut self) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// The shared state of the request limits.
#[derive(Debug, Clone)]
pub struct Limiter {
    limits: HttpLimits,
    clock: Arc<dyn Clock>,
    general: Arc<Meter>,
    strict: Arc<Meter>,
    in_flight: Arc<Semaphore>,
    in_flight_per_source: PerSource,
}

impl Limiter {
    pub fn new(limits: HttpLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            general: Arc::new(Meter::new(limits.per_minute, limits.burst)),
            strict: Arc::new(Meter::new(limits.auth_per_minute, limits.auth_burst)),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            in_flight_per_source: PerSource::new(limits.max_in_flight_per_ip),
            clock,
            limits,
        }
    }

    pub fn limits(&self) -> &HttpLimits {
        &self.limits
    }
}

/// Answers a source over its rate 429, and anything beyond the in-flight cap 503; both
/// with `Retry-After`. Requests without a peer address (in-process tests) are not metered.
pub async fn enforce(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // The client behind trusted proxies, else the peer.
    let source = crate::client_ip::client_ip(request.headers()).or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    });
    let mut place = None;
    if let Some(source) = source.filter(|_| !UNLIMITED.contains(&path)) {
        let now = limiter.clock.now().as_microsecond();
        let key = meter_key(source);
        let strict = is_strict(request.method(), path);
        let admitted = limiter.general.admit(key, now).and_then(|()| {
            if strict {
                limiter.strict.admit(key, now)
            } else {
                Ok(())
            }
        });
        if let Err(retry_after_secs) = admitted {
            return ApiError::Domain(DomainError::Throttled { retry_after_secs }).into_response();
        }
        place = limiter.in_flight_per_source.take(source);
        if place.is_none() {
            tracing::debug!("one source's requests in flight at its cap: request shed");
            return ApiError::Domain(DomainError::Unavailable).into_response();
        }
    }
    // Shed at once rather than queue: a queue only makes every request late.
    let Ok(_permit) = limiter.in_flight.clone().try_acquire_owned() else {
        tracing::warn!("overloaded: request shed");
        return ApiError::Domain(DomainError::Unavailable).into_response();
    };
    let response = next.run(request).await;
    drop(place);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000;

    #[test]
    fn a_burst_passes_then_the_sustained_rate_applies() {
        let meter = Meter::new(60, 5);
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(meter.admit(ip, 0), Ok(()));
        }
        assert_eq!(meter.admit(ip, 0), Err(1));
        // One request a second refills.
        assert_eq!(meter.admit(ip, SEC - 1), Err(1));
        assert_eq!(meter.admit(ip, SEC), Ok(()));
        assert_eq!(meter.admit(ip, SEC), Err(1));
    }

    #[test]
    fn sources_are_metered_apart() {
        let meter = Meter::new(60, 1);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        assert_eq!(meter.admit(a, 0), Ok(()));
        assert!(meter.admit(a, 0).is_err());
        assert_eq!(meter.admit(b, 0), Ok(()));
    }

    #[test]
    fn retry_after_tells_the_wait_in_whole_seconds() {
        let meter = Meter::new(6, 1);
        let ip: IpAddr = "::1".parse().unwrap();
        assert_eq!(meter.admit(ip, 0), Ok(()));
        assert_eq!(meter.admit(ip, 0), Err(10));
        assert_eq!(meter.admit(ip, 9 * SEC + 1), Err(1));
    }

    #[test]
    fn stale_sources_are_swept_and_live_ones_kept() {
        let meter = Meter::new(60, 1);
        for i in 0..SWEEP_AT {
            let ip = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
            assert_eq!(meter.admit(ip, 0), Ok(()));
        }
        let live: IpAddr = "192.0.2.1".parse().unwrap();
        // Two seconds later every entry is stale: the sweep leaves only the newcomer.
        assert_eq!(meter.admit(live, 2 * SEC), Ok(()));
        let table = meter.table.lock().unwrap();
        assert_eq!(table.next_arrival.len(), 1);
        assert_eq!(table.sweep_at, SWEEP_AT);
        drop(table);
        assert!(
            meter.admit(live, 2 * SEC).is_err(),
            "the live entry still counts"
        );
    }

    #[test]
    fn places_are_capped_per_source_and_given_back() {
        let places = PerSource::new(2);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let first = places.take(a).unwrap();
        let _second = places.take(same_64).unwrap();
        assert!(places.take(a).is_none(), "a /64 is one source");
        assert!(places.take(b).is_some());
        drop(first);
        assert!(places.take(a).is_some());
    }

    #[test]
    fn only_writes_to_guessable_endpoints_are_strict() {
        assert!(is_strict(&Method::POST, "/api/v1/auth/login"));
        assert!(is_strict(&Method::POST, "/login/verify"));
        assert!(is_strict(&Method::POST, "/api/v1/public/praxis/bookings"));
        assert!(!is_strict(&Method::GET, "/login"));
        assert!(!is_strict(&Method::POST, "/api/v1/sessions/end-all"));
    }
}
