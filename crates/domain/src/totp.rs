//! Second factors stronger than SMS: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second
//! steps, one step of tolerance either way; a step is accepted once) and single-use
//! recovery codes.

use std::fmt;

use jiff::Timestamp;
use totp_rs::{Builder, Secret};

use crate::otp::CodeHash;
use crate::token::RandomnessUnavailable;

/// A TOTP shared secret: 160 random bits, shown to the user once (QR code or base32).
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a TOTP secret")]
pub struct InvalidTotpSecret;

impl TotpSecret {
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = vec![0u8; 20];
        getrandom::fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
        Ok(Self(bytes))
    }

    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    pub fn from_base32(raw: &str) -> Result<Self, InvalidTotpSecret> {
        let secret = Secret::try_from_base32(raw).map_err(|_| InvalidTotpSecret)?;
        let bytes: &[u8] = secret.as_ref();
        if bytes.len() < 16 {
            return Err(InvalidTotpSecret);
        }
        Ok(Self(bytes.to_vec()))
    }

    fn totp(&self, account: &str) -> Option<totp_rs::Totp> {
        Builder::new()
            .with_secret(self.0.clone())
            .with_account_name(account.replace(':', ""))
            .with_issuer(Some("Termin"))
            .build()
            .ok()
    }

    /// The `otpauth://totp/…` URI authenticator apps read from the QR code.
    pub fn otpauth_url(&self, account: &str) -> Option<String> {
        self.totp(account)?.to_url().ok()
    }

    /// The step (time / 30 s) whose code `presented` is, within one step of `now`, or `None`.
    /// The caller must refuse a step it has accepted before.
    pub fn matching_step(&self, presented: &str, now: Timestamp) -> Option<u64> {
        let digits: String = presented.chars().filter(|c| !c.is_whitespace()).collect();
        let time = u64::try_from(now.as_second()).ok()?;
        self.totp("x")?.check(&digits, time)
    }

    /// The code for a given instant (for tests and for showing what the app should say).
    pub fn code_at(&self, at: Timestamp) -> Option<String> {
        let time = u64::try_from(at.as_second()).ok()?;
        Some(self.totp("x")?.generate(time).to_string())
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// How many recovery codes a user gets at once.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// A recovery code, e.g. `7KQ4M-XR2PD`: 50 random bits from an alphabet without look-alike
/// characters, shown once, stored as a salted SHA-256 (so a stolen database cannot be
/// attacked for all users at once).
#[derive(Clone)]
pub struct RecoveryCode(String);

const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

impl RecoveryCode {
    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = [0u8; 10];
        getrandom::fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
        let chars: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        Ok(Self(format!("{}-{}", &chars[..5], &chars[5..])))
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// A code as generated or as typed, reduced to what counts (case, dashes and spaces
    /// ignored).
    pub fn canonical(raw: &str) -> String {
        raw.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    }

    /// The salted hash to store.
    pub fn hash(&self) -> Result<CodeHash, RandomnessUnavailable> {
        CodeHash::salted(&Self::canonical(&self.0))
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 secret "12345678901234567890": 8-digit codes there; the
    /// last six digits are the 6-digit codes.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let at = Timestamp::from_second(time).unwrap();
            assert_eq!(secret.code_at(at).unwrap(), eight[2..], "t={time}");
        }
    }

    #[test]
    fn one_step_of_tolerance_either_way() {
        // A fixed secret and instant keep this deterministic: the five codes around `now`
        // differ (checked), so every assertion below is about the step, never luck.
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        let now = Timestamp::from_second(1_800_000_015).unwrap();
        let step = 1_800_000_015 / 30;
        let code_of = |offset: i64| {
            secret
                .code_at(Timestamp::from_second(1_800_000_015 + offset).unwrap())
                .unwrap()
        };
        let codes: std::collections::HashSet<String> =
            [-60, -30, 0, 30, 60].into_iter().map(code_of).collect();
        assert_eq!(codes.len(), 5);
        assert_eq!(secret.matching_step(&code_of(0), now), Some(step));
        assert_eq!(secret.matching_step(&code_of(-30), now), Some(step - 1));
        assert_eq!(secret.matching_step(&code_of(30), now), Some(step + 1));
        assert_eq!(secret.matching_step(&code_of(-60), now), None);
        assert_eq!(secret.matching_step(&code_of(60), now), None);
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        let secret = TotpSecret::generate().unwrap();
        let again = TotpSecret::from_base32(&secret.to_base32()).unwrap();
        assert_eq!(again.0, secret.0);
        assert!(
            secret
                .otpauth_url("owner@praxis.example")
                .unwrap()
                .starts_with("otpauth://totp/Termin:")
        );
    }

    #[test]
    fn recovery_codes_match_however_typed_and_hash_with_fresh_salt() {
        let code = RecoveryCode::generate().unwrap();
        assert_eq!(code.reveal().len(), 11);
        let stored = code.hash().unwrap();
        let typed = code.reveal().to_lowercase().replace('-', " ");
        assert!(stored.matches(&RecoveryCode::canonical(&typed)));
        assert_ne!(
            code.hash().unwrap().to_stored(),
            stored.to_stored(),
            "salted"
        );
        assert!(!stored.matches(&RecoveryCode::canonical(
            RecoveryCode::generate().unwrap().reveal()
        )));
    }
}
