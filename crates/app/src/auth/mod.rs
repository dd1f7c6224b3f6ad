//! Logging in (seed promises S3 and S4): password, then — for an account whose e-mail
//! address and mobile number are not yet verified — a code to each, or — on a device not yet
//! trusted — a code by SMS. A login is a session in the `pending` stage until then.

mod account;
mod codes;
mod factors;
mod guard;
mod login;
mod passkeys;
mod recovery;
mod session;
mod sessions;
mod verify;

use termin_domain::token::SecretToken;

pub use account::DeviceView;
pub use factors::TotpEnrolment;
pub use guard::GuardPolicy;
pub use login::LoginRequest;
pub use passkeys::PasskeyView;
pub use session::{CurrentSession, Me};
pub use sessions::SessionView;

/// Who is asking: recorded with sessions and trusted devices.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

/// A second factor or verification channel, by its API name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Sms,
    Email,
    Totp,
    RecoveryCode,
    Passkey,
}

/// Wrong TOTP codes, recovery codes or passkey answers allowed in one login before it ends.
pub(crate) const MAX_FACTOR_ATTEMPTS: u32 = 5;

impl Method {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "sms" => Some(Method::Sms),
            "email" => Some(Method::Email),
            "totp" => Some(Method::Totp),
            "recovery_code" => Some(Method::RecoveryCode),
            "passkey" => Some(Method::Passkey),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
            Method::Passkey => "passkey",
        }
    }
}

/// Where a login stands after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStatus {
    Authenticated,
    /// New device: one of `methods` must be used.
    SecondFactorRequired {
        methods: Vec<Method>,
    },
    /// Account set-up unfinished: these contacts (`"email"`, `"phone"`) still need a code.
    VerificationRequired {
        pending: Vec<&'static str>,
    },
}

/// The outcome of a login step, with the tokens the client must now hold.
#[derive(Debug)]
pub struct LoginStep {
    pub status: LoginStatus,
    /// The session cookie's value (new at login and again when the login completes).
    pub session_token: SecretToken,
    /// The value the client sends as `X-CSRF-Token`.
    pub csrf_token: SecretToken,
    /// A new trusted-device cookie, when this step made the device trusted.
    pub device_token: Option<SecretToken>,
}
