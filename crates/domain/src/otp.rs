//! One-time codes: the 6-digit codes sent by e-mail and SMS to verify an address, a number
//! or a login from a new device.
//!
//! A code comes from the OS CSPRNG (uniform over 000000–999999), is valid for 10 minutes,
//! may be tried 5 times, works once, and is bound to the login attempt it was sent for. Only
//! a salted SHA-256 of it is stored; presented codes are compared in constant time.

use std::fmt;

use jiff::SignedDuration;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::token::RandomnessUnavailable;

pub const CODE_VALIDITY: SignedDuration = SignedDuration::from_mins(10);
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// At least this long between two codes sent for one purpose of one login attempt.
pub const RESEND_INTERVAL: SignedDuration = SignedDuration::from_secs(30);
/// At most this many codes per user and purpose within an hour.
pub const MAX_CODES_PER_HOUR: u32 = 5;

/// What a code proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Possession of the e-mail address (account set-up).
    VerifyEmail,
    /// Possession of the mobile number (account set-up).
    VerifyPhone,
    /// A login from a device not yet trusted (seed promise S4).
    NewDevice,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::VerifyEmail => "verify_email",
            CodePurpose::VerifyPhone => "verify_phone",
            CodePurpose::NewDevice => "new_device",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "verify_email" => Some(CodePurpose::VerifyEmail),
            "verify_phone" => Some(CodePurpose::VerifyPhone),
            "new_device" => Some(CodePurpose::NewDevice),
            _ => None,
        }
    }
}

/// A freshly drawn code, to be sent once. `Debug` hides it.
#[derive(Clone)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        // Rejection sampling keeps the distribution uniform: 4,294,000,000 is the largest
        // multiple of 1,000,000 below 2^32.
        loop {
            let mut bytes = [0u8; 4];
            getrandom::fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
            let n = u32::from_le_bytes(bytes);
            if n < 4_294_000_000 {
                return Ok(Self(format!("{:06}", n % 1_000_000)));
            }
        }
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// Hashes the code with a fresh random salt, for storage.
    pub fn hash(&self) -> Result<CodeHash, RandomnessUnavailable> {
        CodeHash::salted(&self.0)
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(<redacted>)")
    }
}

/// Accepts what a person typed: six digits, spaces and dashes ignored.
pub fn normalize_presented(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `salt:sha256(salt || code)` in hex.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeHash {
    salt: [u8; 16],
    digest: [u8; 32],
}

impl CodeHash {
    /// Hashes `secret` with a fresh random salt.
    pub fn salted(secret: &str) -> Result<Self, RandomnessUnavailable> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|_| RandomnessUnavailable)?;
        Ok(Self::compute(&salt, secret))
    }

    fn compute(salt: &[u8; 16], code: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(code.as_bytes());
        Self {
            salt: *salt,
            digest: hasher.finalize().into(),
        }
    }

    pub fn to_stored(&self) -> String {
        format!("{}:{}", hex::encode(self.salt), hex::encode(self.digest))
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        let (salt, digest) = raw.split_once(':')?;
        let mut out = Self {
            salt: [0; 16],
            digest: [0; 32],
        };
        hex::decode_to_slice(salt, &mut out.salt).ok()?;
        hex::decode_to_slice(digest, &mut out.digest).ok()?;
        Some(out)
    }

    /// Constant-time check of a presented code.
    pub fn matches(&self, presented: &str) -> bool {
        let candidate = Self::compute(&self.salt, presented);
        candidate.digest.ct_eq(&self.digest).into()
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200)
            .map(|_| OneTimeCode::generate().unwrap().reveal().to_owned())
            .collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(codes.len() > 190, "random codes rarely repeat");
    }

    #[test]
    fn a_stored_hash_matches_only_its_code() {
        let code = OneTimeCode::generate().unwrap();
        let stored = code.hash().unwrap().to_stored();
        let hash = CodeHash::from_stored(&stored).unwrap();
        assert!(hash.matches(code.reveal()));
        let other = format!(
            "{:06}",
            (code.reveal().parse::<u32>().unwrap() + 1) % 1_000_000
        );
        assert!(!hash.matches(&other));
        assert!(!stored.contains(code.reveal()) || stored.len() > 6);
    }

    #[test]
    fn the_same_code_hashes_differently_each_time() {
        let code = OneTimeCode::generate().unwrap();
        assert_ne!(
            code.hash().unwrap().to_stored(),
            code.hash().unwrap().to_stored()
        );
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalize_presented("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize_presented("123-456").as_deref(), Some("123456"));
        assert_eq!(normalize_presented("12345"), None);
        assert_eq!(normalize_presented("12345a"), None);
        assert_eq!(normalize_presented("１２３４５６"), None);
    }

    #[test]
    fn debug_hides_the_code() {
        let code = OneTimeCode::generate().unwrap();
        assert!(!format!("{code:?}").contains(code.reveal()));
    }
}
