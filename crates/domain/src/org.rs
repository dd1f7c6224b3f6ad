//! Practices (organisations): their display name, URL slug and time zone.

use std::fmt;

/// A practice's display name: 2–120 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrgNameError {
    #[error("must be between 2 and 120 characters")]
    Length,
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, OrgNameError> {
        let name = raw.trim();
        if name.chars().any(char::is_control) {
            return Err(OrgNameError::ControlCharacter);
        }
        let len = name.chars().count();
        if !(2..=120).contains(&len) {
            return Err(OrgNameError::Length);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The practice's short name in URLs (`/book/<slug>`): 2–48 of `a-z`, `0-9` and inner `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgSlug(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be 2–48 characters of a–z, 0–9 and '-', not starting or ending with '-'")]
pub struct InvalidSlug;

impl OrgSlug {
    pub const MAX_LEN: usize = 48;

    pub fn parse(raw: &str) -> Result<Self, InvalidSlug> {
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_len = (2..=Self::MAX_LEN).contains(&raw.len());
        let ok_edges = !raw.starts_with('-') && !raw.ends_with('-') && !raw.contains("--");
        if ok_chars && ok_len && ok_edges {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidSlug)
        }
    }

    /// Derives a slug from a practice name ("Praxis Dr. Müller" → "praxis-dr-mueller").
    /// `attempt` > 1 appends "-<attempt>" so that a taken slug can be retried.
    pub fn from_name(name: &OrgName, attempt: u32) -> Self {
        let mut base = String::new();
        for c in name.as_str().chars().flat_map(char::to_lowercase) {
            match c {
                'a'..='z' | '0'..='9' => base.push(c),
                'ä' => base.push_str("ae"),
                'ö' => base.push_str("oe"),
                'ü' => base.push_str("ue"),
                'ß' => base.push_str("ss"),
                'à' | 'á' | 'â' | 'ã' | 'å' => base.push('a'),
                'è' | 'é' | 'ê' | 'ë' => base.push('e'),
                'ì' | 'í' | 'î' | 'ï' => base.push('i'),
                'ò' | 'ó' | 'ô' | 'õ' | 'ø' => base.push('o'),
                'ù' | 'ú' | 'û' => base.push('u'),
                'ç' => base.push('c'),
                'ñ' => base.push('n'),
                _ if !base.ends_with('-') => base.push('-'),
                _ => {}
            }
        }
        let suffix = if attempt > 1 {
            format!("-{attempt}")
        } else {
            String::new()
        };
        let mut slug: String = base.trim_matches('-').to_owned();
        slug.truncate(Self::MAX_LEN - suffix.len());
        let mut slug = slug.trim_end_matches('-').to_owned();
        if slug.len() < 2 {
            slug = "praxis".to_owned();
        }
        slug.push_str(&suffix);
        Self(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A named IANA time zone known to the bundled tz database, e.g. `Europe/Berlin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a known time zone name (e.g. Europe/Berlin)")]
pub struct UnknownTimeZone;

impl TimeZoneName {
    pub const DEFAULT: &'static str = "Europe/Berlin";

    pub fn parse(raw: &str) -> Result<Self, UnknownTimeZone> {
        let raw = raw.trim();
        // A named zone only: fixed offsets would silently ignore DST.
        if !raw.contains('/') && raw != "UTC" {
            return Err(UnknownTimeZone);
        }
        jiff::tz::TimeZone::get(raw).map_err(|_| UnknownTimeZone)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn default_zone() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone's rules from the bundled tz database. The name was checked against the same
    /// database when parsed, so the fallback to UTC is unreachable.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slug_from_german_name_transliterates() {
        let name = OrgName::parse("Praxis Dr. Müller & Söhne").unwrap();
        assert_eq!(
            OrgSlug::from_name(&name, 1).as_str(),
            "praxis-dr-mueller-soehne"
        );
        assert_eq!(
            OrgSlug::from_name(&name, 3).as_str(),
            "praxis-dr-mueller-soehne-3"
        );
    }

    #[test]
    fn slug_from_unpronounceable_name_falls_back() {
        let name = OrgName::parse("診療所").unwrap();
        assert_eq!(OrgSlug::from_name(&name, 1).as_str(), "praxis");
    }

    #[test]
    fn slug_parse_rejects_bad_shapes() {
        for bad in [
            "",
            "a",
            "-ab",
            "ab-",
            "a--b",
            "Ab",
            "a b",
            "a/b",
            &"a".repeat(49),
        ] {
            assert_eq!(OrgSlug::parse(bad), Err(InvalidSlug), "{bad:?}");
        }
        assert!(OrgSlug::parse("praxis-am-see-2").is_ok());
    }

    #[test]
    fn org_name_is_trimmed_and_bounded() {
        assert_eq!(OrgName::parse("  Praxis  ").unwrap().as_str(), "Praxis");
        assert_eq!(OrgName::parse("P"), Err(OrgNameError::Length));
        assert_eq!(
            OrgName::parse("Pra\u{7}xis"),
            Err(OrgNameError::ControlCharacter)
        );
        assert_eq!(OrgName::parse(&"x".repeat(121)), Err(OrgNameError::Length));
    }

    #[test]
    fn time_zones_must_be_named() {
        assert!(TimeZoneName::parse("Europe/Berlin").is_ok());
        assert!(TimeZoneName::parse("America/Argentina/Buenos_Aires").is_ok());
        assert_eq!(TimeZoneName::parse("CET"), Err(UnknownTimeZone));
        assert_eq!(TimeZoneName::parse("Europe/Atlantis"), Err(UnknownTimeZone));
        assert_eq!(TimeZoneName::parse("+02:00"), Err(UnknownTimeZone));
    }

    proptest! {
        #[test]
        fn any_valid_name_yields_a_valid_slug(name in "\\PC{2,120}", attempt in 1u32..1000) {
            if let Ok(name) = OrgName::parse(&name) {
                let slug = OrgSlug::from_name(&name, attempt);
                prop_assert!(OrgSlug::parse(slug.as_str()).is_ok(), "{slug:?}");
            }
        }
    }
}
