//! Free-text fields of scheduling records: trimmed, bounded, without control characters
//! (line breaks only where a field is multi-line). Errors are collected per field.

use crate::error::FieldErrors;

/// A required single-line text of 1..=`max` characters.
pub(crate) fn required(errors: &mut FieldErrors, field: &str, raw: &str, max: usize) -> String {
    let value = raw.trim();
    if value.is_empty() {
        errors.add(field, "is required");
    } else {
        check(errors, field, value, max, false);
    }
    value.to_owned()
}

/// An optional single-line text; empty means absent.
pub(crate) fn optional(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = raw.map(str::trim).filter(|v| !v.is_empty())?;
    check(errors, field, value, max, false);
    Some(value.to_owned())
}

/// An optional multi-line text (instructions, notes); empty means absent.
pub(crate) fn optional_multiline(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = raw.map(str::trim).filter(|v| !v.is_empty())?;
    check(errors, field, value, max, true);
    Some(value.to_owned())
}

fn check(errors: &mut FieldErrors, field: &str, value: &str, max: usize, multiline: bool) {
    if value.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(bad) {
        errors.add(field, "must not contain control characters");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_bounded() {
        let mut errors = FieldErrors::new();
        assert_eq!(required(&mut errors, "name", "  Dr. A  ", 10), "Dr. A");
        assert!(errors.is_empty());
        required(&mut errors, "name", "   ", 10);
        required(&mut errors, "title", "x".repeat(11).as_str(), 10);
        assert_eq!(errors.get("name"), Some(&["is required".to_owned()][..]));
        assert_eq!(
            errors.get("title"),
            Some(&["must be at most 10 characters".to_owned()][..])
        );
    }

    #[test]
    fn line_breaks_only_where_multiline() {
        let mut errors = FieldErrors::new();
        optional(&mut errors, "room", Some("a\nb"), 10);
        assert!(errors.get("room").is_some());
        let mut errors = FieldErrors::new();
        optional_multiline(&mut errors, "notes", Some("a\nb"), 10);
        assert!(errors.is_empty());
        assert_eq!(optional(&mut errors, "room", Some("  "), 10), None);
    }
}
