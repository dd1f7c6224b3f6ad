//! Form fields as the set-up pages render them (label, entered value, messages beside the
//! field) and the refused fields of a use case, in the member's language.

use std::collections::BTreeMap;

use termin_domain::FieldErrors;

use super::messages::localize;
use crate::i18n::Texts;

/// A submitted form: name-value pairs in form order.
pub(super) type Pairs = Vec<(String, String)>;

/// The value of `name` when the form has that field at all (an empty field is `Some("")`,
/// a field the page did not show is `None`).
pub(super) fn present(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The value of `name`, or "".
pub(super) fn value(pairs: &[(String, String)], name: &str) -> String {
    present(pairs, name).unwrap_or_default()
}

/// The value of `name` unless it is missing or blank.
pub(super) fn filled(pairs: &[(String, String)], name: &str) -> Option<String> {
    present(pairs, name).filter(|v| !v.trim().is_empty())
}

/// Whether checkbox `name` is ticked.
pub(super) fn ticked(pairs: &[(String, String)], name: &str) -> bool {
    pairs.iter().any(|(k, _)| k == name)
}

/// An optional whole number: blank is `None`; anything else that is not a number is
/// recorded under `name`.
pub(super) fn number(
    pairs: &[(String, String)],
    name: &str,
    refused: &mut FieldErrors,
) -> Option<i64> {
    let raw = filled(pairs, name)?;
    match raw.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            refused.add(name, "must be a whole number");
            None
        }
    }
}

/// The refused fields of a form, each message in the member's language. Fields take their
/// messages out; what no field took is shown above the form.
#[derive(Debug, Default)]
pub(super) struct Errors(BTreeMap<String, Vec<String>>);

impl Errors {
    pub fn new(t: Texts<'_>, refused: &FieldErrors) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (field, messages) in refused.iter() {
            map.entry(field.to_owned())
                .or_default()
                .extend(messages.iter().map(|m| localize(t, m)));
        }
        Self(map)
    }

    /// Takes the messages of `field` and of its indexed parts (`field[2]`, `field[2].x`).
    pub fn take(&mut self, field: &str) -> Vec<String> {
        let keys: Vec<String> = self
            .0
            .keys()
            .filter(|k| {
                k.as_str() == field
                    || k.strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
            })
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.0.remove(&k))
            .flatten()
            .collect()
    }

    /// The messages no field took.
    pub fn rest(self) -> Vec<String> {
        self.0.into_values().flatten().collect()
    }
}

/// One labelled input of a form.
#[derive(Debug)]
pub(super) struct Field {
    /// The element id (unique on the page).
    pub id: String,
    pub name: &'static str,
    /// The catalogue key of the label.
    pub label: &'static str,
    /// An input type (`text`, `date`, `time`, `number`, `color`, `tel`, `email`), or
    /// `textarea` or `select`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    /// For `select`: values and the catalogue keys of their labels.
    pub options: Vec<(&'static str, &'static str)>,
    /// The catalogue key of a hint shown under the field.
    pub hint: Option<&'static str>,
    pub errors: Vec<String>,
}

impl Field {
    /// A field of form `form`, its value taken from `pairs` and its messages from `errors`.
    pub fn new(
        form: &str,
        (name, label, kind): (&'static str, &'static str, &'static str),
        pairs: &[(String, String)],
        errors: &mut Errors,
    ) -> Self {
        Self {
            id: format!("{form}-{name}"),
            name,
            label,
            kind,
            value: value(pairs, name),
            required: false,
            options: Vec::new(),
            hint: None,
            errors: errors.take(name),
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn hint(mut self, key: &'static str) -> Self {
        self.hint = Some(key);
        self
    }

    pub fn options(mut self, options: Vec<(&'static str, &'static str)>) -> Self {
        self.options = options;
        self
    }

    pub fn invalid(&self) -> bool {
        !self.errors.is_empty()
    }
}
