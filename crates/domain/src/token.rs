//! Secret tokens (set-up links, later invitations, sessions): 256 random bits from the OS
//! CSPRNG, shown once as hex, stored only as their SHA-256 hash.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly generated or presented token. `Debug` hides it.
#[derive(Clone)]
pub struct SecretToken(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct MalformedToken;

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessUnavailable;

impl SecretToken {
    const BYTES: usize = 32;

    pub fn generate() -> Result<Self, RandomnessUnavailable> {
        let mut bytes = [0u8; Self::BYTES];
        getrandom::fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
        Ok(Self(hex::encode(bytes)))
    }

    /// Accepts a token as presented by a client: exactly 64 lower-case hex digits.
    pub fn parse(raw: &str) -> Result<Self, MalformedToken> {
        let ok = raw.len() == Self::BYTES * 2
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(MalformedToken)
        }
    }

    /// The token's text, to be shown to its owner exactly once (a link, a cookie).
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// A second token bound to this one, e.g. the CSRF token of a session: computable by
    /// whoever holds this token, and revealing nothing about it.
    pub fn derive(&self, purpose: &str) -> SecretToken {
        let mut hasher = Sha256::new();
        hasher.update(purpose.as_bytes());
        hasher.update(b":");
        hasher.update(self.0.as_bytes());
        SecretToken(hex::encode(hasher.finalize()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// What the database keeps of a token. A stolen copy of the database cannot be replayed
/// as tokens, because SHA-256 of 256 random bits cannot be inverted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(raw: &str) -> Result<Self, MalformedToken> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(raw, &mut out).map_err(|_| MalformedToken)?;
        Ok(Self(out))
    }

    /// Constant-time comparison, for the rare place that compares hashes in memory.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_distinct_and_parse_back() {
        let a = SecretToken::generate().unwrap();
        let b = SecretToken::generate().unwrap();
        assert_ne!(a.reveal(), b.reveal());
        assert_eq!(a.reveal().len(), 64);
        assert!(
            SecretToken::parse(a.reveal())
                .unwrap()
                .hash()
                .ct_eq(&a.hash())
        );
    }

    #[test]
    fn hash_round_trips_through_hex() {
        let t = SecretToken::generate().unwrap();
        assert!(
            TokenHash::from_hex(&t.hash().to_hex())
                .unwrap()
                .ct_eq(&t.hash())
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "abc", &"G".repeat(64), &"A".repeat(64), &"a".repeat(65)] {
            assert!(SecretToken::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn derived_tokens_are_stable_distinct_and_well_formed() {
        let t = SecretToken::generate().unwrap();
        let csrf = t.derive("csrf");
        assert_eq!(csrf.reveal(), t.derive("csrf").reveal());
        assert_ne!(csrf.reveal(), t.derive("other").reveal());
        assert_ne!(csrf.reveal(), t.reveal());
        assert!(SecretToken::parse(csrf.reveal()).is_ok());
    }

    #[test]
    fn debug_hides_the_token() {
        let t = SecretToken::generate().unwrap();
        assert!(!format!("{t:?}").contains(t.reveal()));
    }
}
