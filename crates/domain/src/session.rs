//! Sessions: how long they live and what stage they are in.

use jiff::{SignedDuration, Timestamp};

/// A session unused this long ends.
pub const IDLE_TIMEOUT: SignedDuration = SignedDuration::from_mins(30);
/// No session lives longer than this, however active.
pub const ABSOLUTE_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
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
) -> bool {
    let (idle, absolute) = match stage {
        SessionStage::Pending => (PENDING_LIFETIME, PENDING_LIFETIME),
        SessionStage::Authenticated => (IDLE_TIMEOUT, ABSOLUTE_LIFETIME),
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
            at(29 * 60 + 59)
        ));
        assert!(!session_alive(
            SessionStage::Authenticated,
            start,
            start,
            at(30 * 60)
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
            at(12 * 3600 - 1)
        ));
        assert!(!session_alive(
            SessionStage::Authenticated,
            start,
            recent,
            at(12 * 3600)
        ));
    }

    #[test]
    fn a_pending_login_ends_after_fifteen_minutes() {
        let start = at(0);
        assert!(session_alive(
            SessionStage::Pending,
            start,
            at(14 * 60),
            at(15 * 60 - 1)
        ));
        assert!(!session_alive(
            SessionStage::Pending,
            start,
            at(14 * 60),
            at(15 * 60)
        ));
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
