//! The patient's choices so far, as they travel from step to step in links and hidden form
//! fields. What arrives is parsed; what does not parse counts as not chosen, and only the
//! parsed values are written into the next links (ids, dates and instants, all URL-safe).

use jiff::Timestamp;
use serde::Deserialize;
use termin_domain::ids::{PractitionerId, VisitTypeId};
use termin_domain::schedule::visit_type::Insurance;

/// The carried fields as a link or form sends them; any may be missing or wrong.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct Carried {
    pub patient: String,
    pub insurance: String,
    pub visit_type: String,
    pub practitioner: String,
}

/// What the patient has chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Choices {
    /// Whether they have been patients of the practice before.
    pub returning: Option<bool>,
    pub insurance: Option<Insurance>,
    pub visit_type: Option<VisitTypeId>,
    /// `None`: anyone who offers the visit type.
    pub practitioner: Option<PractitionerId>,
}

impl Choices {
    pub fn parse(carried: &Carried) -> Self {
        Self {
            returning: match carried.patient.trim() {
                "new" => Some(false),
                "returning" => Some(true),
                _ => None,
            },
            insurance: Insurance::parse(carried.insurance.trim()).ok(),
            visit_type: carried.visit_type.trim().parse().ok(),
            practitioner: carried.practitioner.trim().parse().ok(),
        }
    }

    /// `new`, `returning` or "".
    pub fn patient(&self) -> &'static str {
        match self.returning {
            Some(true) => "returning",
            Some(false) => "new",
            None => "",
        }
    }

    pub fn insurance(&self) -> &'static str {
        self.insurance.map_or("", Insurance::as_str)
    }

    pub fn visit_type(&self) -> String {
        self.visit_type.map(|v| v.to_string()).unwrap_or_default()
    }

    pub fn practitioner(&self) -> String {
        self.practitioner.map(|p| p.to_string()).unwrap_or_default()
    }

    /// The choices made, as query parameters.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("patient", self.patient().to_owned()),
            ("insurance", self.insurance().to_owned()),
            ("visit_type", self.visit_type()),
            ("practitioner", self.practitioner()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }

    /// `path` with the choices and `extra` (already URL-safe values) as its query.
    pub fn link(&self, path: &str, extra: &[(&'static str, String)]) -> String {
        let query: Vec<String> = self
            .pairs()
            .into_iter()
            .chain(extra.iter().cloned())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", query.join("&"))
        }
    }
}

/// A free time the patient picked: with whom and when, as one form value
/// (`<practitioner id>@<RFC 3339 instant>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    pub practitioner: PractitionerId,
    pub start: Timestamp,
}

impl Slot {
    pub fn parse(raw: &str) -> Option<Self> {
        let (practitioner, start) = raw.trim().split_once('@')?;
        Some(Self {
            practitioner: practitioner.parse().ok()?,
            start: start.parse().ok()?,
        })
    }

    pub fn value(&self) -> String {
        format!("{}@{}", self.practitioner, self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_parsed_choices_reach_a_link() {
        let visit = VisitTypeId::random();
        let choices = Choices::parse(&Carried {
            patient: "returning".into(),
            insurance: "<script>".into(),
            visit_type: visit.to_string(),
            practitioner: "any".into(),
        });
        assert_eq!(
            choices.link("/book/x/slots", &[("from", "2026-03-30".into())]),
            format!("/book/x/slots?patient=returning&visit_type={visit}&from=2026-03-30")
        );
        assert_eq!(Choices::default().link("/book/x", &[]), "/book/x");
    }

    #[test]
    fn a_slot_value_round_trips() {
        let slot = Slot {
            practitioner: PractitionerId::random(),
            start: "2026-03-30T07:00:00Z"
                .parse()
                .unwrap_or(Timestamp::UNIX_EPOCH),
        };
        assert_eq!(Slot::parse(&slot.value()), Some(slot));
        assert_eq!(Slot::parse("nonsense"), None);
        assert_eq!(Slot::parse("x@2026-03-30T07:00:00Z"), None);
    }
}
