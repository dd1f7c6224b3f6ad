//! Sessions: how long they live and what stage they are in.

use jiff::{SignedDuration, Timestamp};

/// A session unused this long ends (unless a practice of the user sets otherwise).
pub const IDLE_TIMEOUT: SignedDuration = SignedDuration::from_mins(30);
/// No session lives longer than this, however active (unless a practice sets otherwise).
pub const ABSOLUTE_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// Sensitive actions (factors, users and rights, security settings, patient data exports)
/// need a password entered this recently.
pub const REAUTH_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// How long a practice lets its members' sessions live. A practice may tighten the
/// defaults or relax them within these bounds: idle 5 minutes to 4 hours, at most 1 to 24
/// hours in all. A user in several practices gets the strictest of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle: SignedDuration,
    pub absolute: SignedDuration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: IDLE_TIMEOUT,
            absolute: ABSOLUTE_LIFETIME,
        }
    }
}

impl SessionLimits {
    pub const IDLE_MINUTES: std::ops::RangeInclusive<i64> = 5..=240;
    pub const ABSOLUTE_HOURS: std::ops::RangeInclusive<i64> = 1..=24;

    /// From the settings form or API; each bad field is reported.
    pub fn parse(idle_minutes: i64, absolute_hours: i64) -> Result<Self, crate::DomainError> {
        let mut errors = crate::FieldErrors::new();
        if !Self::IDLE_MINUTES.contains(&idle_minutes) {
            errors.add("session_idle_minutes", "must be between 5 and 240");
        }
        if !Self::ABSOLUTE_HOURS.contains(&absolute_hours) {
            errors.add("session_max_hours", "must be between 1 and 24");
        }
        errors.into_result()?;
        Ok(Self {
            idle: SignedDuration::from_mins(idle_minutes),
            absolute: SignedDuration::from_hours(absolute_hours),
        })
    }

    /// As stored: `None` for a value outside the bounds (a corrupt row).
    pub fn from_stored(idle_minutes: i64, absolute_hours: i64) -> Option<Self> {
        Self::parse(idle_minutes, absolute_hours).ok()
    }

    pub fn idle_minutes(&self) -> i64 {
        self.idle.as_mins()
    }

    pub fn absolute_hours(&self) -> i64 {
        self.absolute.as_hours()
    }
}

/// Whether a login completed, or its password was entered again, within [`REAUTH_WINDOW`].
pub fn freshly_authenticated(authenticated_at: Option<Timestamp>, now: Timestamp) -> bool {
    authenticated_at.is_some_and(|at| now.duration_since(at) < REAUTH_WINDOW)
}
/// A login that still waits for a second factor or a verification code ends after this.
pub const PENDING_LIFETIME: SignedDuration = SignedDuration::from_mins(15);
/// How long a device stays trusted after a login completed on it.
pub const DEVICE_TRUST: SignedDuration = SignedDuration::from_hours(90 * 24);

/// Where a login stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// The password was right; a second factor or the account's verification is missing.
    Pending,
    /// Fully signed in.
    Authenticated,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Pending => "pending",
            SessionStage::Authenticated => "authenticated",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(SessionStage::Pending),
            "authenticated" => Some(SessionStage::Authenticated),
            _ => None,
        }
    }
}

/// Whether a session is still alive at `now`.
pub fn session_alive(
    stage: SessionStage,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    now: Timestamp,
    limits: SessionLimits,
) -> bool {
    let (idle, absolute) = match stage {
        SessionStage::Pending => (PENDING_LIFETIME, PENDING_LIFETIME),
        SessionStage::Authenticated => (limits.idle, limits.absolute),
    };
    now.duration_since(last_seen_at) < idle && now.duration_since(created_at) < absolute
}

/// A short device name from a User-Agent header, e.g. "Firefox on Windows".
pub fn device_name(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map_or("Browser", |(_, name)| name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map_or("unknown system", |(_, name)| name);
    format!("{browser} on {os}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn an_authenticated_session_ends_after_thirty_idle_minutes() {
        let start = at(0);
        assert!(session_alive(
            SessionStage::Authenticated,
            start,
            start,
            at(29 * 60 + 59),
            SessionLimits::default()
        ));
        assert!(!session_alive(
            SessionStage::Authenticated,
            start,
            start,
            at(30 * 60),
            SessionLimits::default()
        ));
    }

    #[test]
    fn an_active_session_still_ends_after_twelve_hours() {
        let start = at(0);
        let recent = at(12 * 3600 - 60);
        assert!(session_alive(
            SessionStage::Authenticated,
            start,
            recent,
            at(12 * 3600 - 1),
            SessionLimits::default()
        ));
        assert!(!session_alive(
            SessionStage::Authenticated,
            start,
            recent,
            at(12 * 3600),
            SessionLimits::default()
        ));
    }

    #[test]
    fn a_pending_login_ends_after_fifteen_minutes() {
        let start = at(0);
        assert!(session_alive(
            SessionStage::Pending,
            start,
            at(14 * 60),
            at(15 * 60 - 1),
            SessionLimits::default()
        ));
        assert!(!session_alive(
            SessionStage::Pending,
            start,
            at(14 * 60),
            at(15 * 60),
            SessionLimits::default()
        ));
    }

    #[test]
    fn a_practice_limit_replaces_the_defaults_within_bounds() {
        let limits = SessionLimits::parse(10, 2).unwrap();
        let start = at(0);
        assert!(session_alive(
            SessionStage::Authenticated,
            start,
            start,
            at(599),
            limits
        ));
        assert!(!session_alive(
            SessionStage::Authenticated,
            start,
            start,
            at(600),
            limits
        ));
        let Err(crate::DomainError::Invalid(fields)) = SessionLimits::parse(4, 25) else {
            panic!("out of bounds");
        };
        assert!(fields.get("session_idle_minutes").is_some());
        assert!(fields.get("session_max_hours").is_some());
        assert!(SessionLimits::parse(240, 24).is_ok());
        assert!(SessionLimits::parse(241, 24).is_err());
    }

    #[test]
    fn fresh_means_within_ten_minutes_of_the_password() {
        assert!(freshly_authenticated(Some(at(0)), at(599)));
        assert!(!freshly_authenticated(Some(at(0)), at(600)));
        assert!(!freshly_authenticated(None, at(0)));
    }

    #[test]
    fn device_names_come_from_the_user_agent() {
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(device_name(firefox), "Firefox on Windows");
        let chrome_android =
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36";
        assert_eq!(device_name(chrome_android), "Chrome on Android");
        assert_eq!(device_name("curl/8.5"), "Browser on unknown system");
    }
}
