//! The domain's field messages in the member's language. The domain words its messages in
//! English for the API; the pages show the known ones from the catalogue (numbers such as
//! limits carried over) and any other one as it is, so no message is ever lost.

use crate::i18n::Texts;

/// Messages without numbers that vary, and their catalogue keys.
const EXACT: &[(&str, &str)] = &[
    ("is required", "required"),
    ("must not contain control characters", "control_characters"),
    ("must be a colour like #3366cc", "colour"),
    ("must be a whole number", "whole_number"),
    ("must be a time HH:MM between 00:00 and 23:59", "time"),
    ("must be a date YYYY-MM-DD", "date"),
    ("is not a date in the calendar", "no_such_date"),
    ("must be after the start", "end_after_start"),
    ("must not be before valid_from", "until_before_from"),
    ("must be 1 or 2", "every_weeks"),
    ("required when every_weeks is 2", "fortnight_needs_start"),
    (
        "must be one of mon, tue, wed, thu, fri, sat, sun",
        "weekday",
    ),
    ("must not be before start_date", "before_start_date"),
    ("required with start_time", "needs_end_time"),
    ("required with end_time", "needs_start_time"),
    ("must be after start_time", "end_time_after_start"),
    (
        "a visit type is open to new patients, returning patients or both",
        "patients_open",
    ),
    ("must be statutory, private or self_pay", "insurance"),
    ("is not a practitioner id", "practitioner"),
    ("is not a practitioner of this practice", "practitioner"),
    ("must be a date like 1980-04-30", "birth_date"),
    ("must not be in the future", "future"),
    ("must be after 1900-01-01", "too_old"),
    (
        "is not a phone number in international form, e.g. +49 151 23456789",
        "phone",
    ),
    ("is not a valid e-mail address", "email"),
    (
        "must be a capital letter and nine digits, e.g. A123456780",
        "kvnr",
    ),
    ("has a wrong check digit", "kvnr_check"),
    (
        "enter a name, a birth date or a phone number",
        "search_empty",
    ),
    ("is not a valid id", "id"),
];

/// Messages with numbers (`{}` in the pattern), and their catalogue keys, whose texts
/// carry the same `{}` in the same order.
const PATTERNS: &[(&str, &str)] = &[
    ("must be at most {} characters", "max_chars"),
    ("must be between {} and {}", "between"),
    ("overlaps row {}", "overlaps"),
];

pub(crate) fn localize(t: Texts<'_>, message: &str) -> String {
    if let Some((_, key)) = EXACT.iter().find(|(m, _)| *m == message) {
        return t.get(&format!("schedule_pages.msg.{key}")).to_owned();
    }
    let (pattern, numbers) = split_numbers(message);
    match PATTERNS.iter().find(|(p, _)| *p == pattern) {
        Some((_, key)) => fill(t.get(&format!("schedule_pages.msg.{key}")), &numbers),
        None => message.to_owned(),
    }
}

/// The message with each run of digits replaced by `{}`, and the runs.
fn split_numbers(message: &str) -> (String, Vec<String>) {
    let mut pattern = String::with_capacity(message.len());
    let mut numbers: Vec<String> = Vec::new();
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                pattern.push_str("{}");
                numbers.push(String::new());
                in_number = true;
            }
            if let Some(last) = numbers.last_mut() {
                last.push(c);
            }
        } else {
            in_number = false;
            pattern.push(c);
        }
    }
    (pattern, numbers)
}

/// `text` with its `{}` replaced by `numbers` in order.
fn fill(text: &str, numbers: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut parts = text.split("{}");
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push_str(numbers.get(i).map_or("", String::as_str));
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{I18n, Lang};

    #[test]
    fn known_messages_are_translated_with_their_numbers() {
        let de = I18n::global().texts(Lang::De);
        assert_eq!(localize(de, "is required"), "ist erforderlich");
        assert_eq!(
            localize(de, "must be between 5 and 480"),
            "muss zwischen 5 und 480 liegen"
        );
        assert_eq!(
            localize(de, "something new"),
            "something new",
            "an unknown message is shown as it is"
        );
    }

    #[test]
    fn every_known_message_has_a_text() {
        let en = I18n::global().texts(Lang::En);
        for (_, key) in EXACT.iter().chain(PATTERNS) {
            assert_ne!(
                en.get(&format!("schedule_pages.msg.{key}")),
                "[missing text]"
            );
        }
    }
}
