//! A practitioner: one calendar of a practice (a doctor, a therapist, a room-bound service).
//! The practice's time zone applies to all of its calendars.

use serde::Deserialize;

use super::text;
use crate::error::{DomainError, FieldErrors};

/// A practitioner as sent by a client; checked by [`PractitionerDraft::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawPractitioner {
    pub name: String,
    pub title: Option<String>,
    pub specialty: Option<String>,
    pub colour: Option<String>,
    pub room: Option<String>,
}

/// A valid practitioner record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PractitionerDraft {
    pub name: String,
    pub title: Option<String>,
    pub specialty: Option<String>,
    pub colour: Colour,
    pub room: Option<String>,
}

impl PractitionerDraft {
    pub fn parse(raw: &RawPractitioner) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let name = text::required(&mut errors, "name", &raw.name, 120);
        let title = text::optional(&mut errors, "title", raw.title.as_deref(), 40);
        let specialty = text::optional(&mut errors, "specialty", raw.specialty.as_deref(), 120);
        let room = text::optional(&mut errors, "room", raw.room.as_deref(), 120);
        let colour = match raw
            .colour
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => Colour::default(),
            Some(value) => errors
                .take("colour", Colour::parse(value))
                .unwrap_or_default(),
        };
        errors.into_result()?;
        Ok(Self {
            name,
            title,
            specialty,
            colour,
            room,
        })
    }
}

/// A calendar colour, `#rrggbb` in lower case (it ends up in a style attribute, so nothing
/// else may pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colour(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a colour like #3366cc")]
pub struct InvalidColour;

impl Colour {
    pub fn parse(raw: &str) -> Result<Self, InvalidColour> {
        let hex = raw.strip_prefix('#').ok_or(InvalidColour)?;
        if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(format!("#{}", hex.to_ascii_lowercase())))
        } else {
            Err(InvalidColour)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Colour {
    fn default() -> Self {
        Self("#2f6fb0".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_practitioner_needs_a_name_and_a_real_colour() {
        let raw = RawPractitioner {
            name: " Dr. Anna Weber ".into(),
            specialty: Some("Allgemeinmedizin".into()),
            colour: Some("#A0B1C2".into()),
            ..RawPractitioner::default()
        };
        let draft = PractitionerDraft::parse(&raw).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(draft.name, "Dr. Anna Weber");
        assert_eq!(draft.colour.as_str(), "#a0b1c2");

        let bad = RawPractitioner {
            name: String::new(),
            colour: Some("red;background:url(x)".into()),
            ..RawPractitioner::default()
        };
        let Err(DomainError::Invalid(errors)) = PractitionerDraft::parse(&bad) else {
            panic!("expected field errors");
        };
        assert!(errors.get("name").is_some());
        assert!(errors.get("colour").is_some());
    }
}
