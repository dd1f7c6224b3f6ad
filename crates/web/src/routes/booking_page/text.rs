//! Dates, times and messages of the booking page in the patient's language: days written
//! out ("Montag, 30. März"), times in the practice's wall-clock time, and the domain's
//! field messages translated.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::i18n::{Lang, Texts};
use crate::routes::schedule_pages::messages::localize;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The practice's zone; a name that no longer resolves falls back to UTC rather than
/// failing the page (the practice's settings only accept known names).
pub(super) fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

fn weekday(t: Texts<'_>, date: Date) -> String {
    let index = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or_default();
    t.get(&format!("booking.weekday.{}", WEEKDAYS[index % 7]))
        .to_owned()
}

fn month(t: Texts<'_>, date: Date) -> String {
    let index = usize::try_from(date.month() - 1).unwrap_or_default();
    t.get(&format!("booking.month.{}", MONTHS[index % 12]))
        .to_owned()
}

/// "Montag, 30. März" / "Monday, 30 March".
pub(super) fn day(t: Texts<'_>, lang: Lang, date: Date) -> String {
    let dot = if lang == Lang::De { "." } else { "" };
    format!(
        "{}, {}{dot} {}",
        weekday(t, date),
        date.day(),
        month(t, date)
    )
}

/// "Montag, 30. März 2026" / "Monday, 30 March 2026".
pub(super) fn day_with_year(t: Texts<'_>, lang: Lang, date: Date) -> String {
    format!("{} {}", day(t, lang, date), date.year())
}

/// "09:00" in the zone.
pub(super) fn clock(at: Timestamp, zone: &TimeZone) -> String {
    zone.to_datetime(at).strftime("%H:%M").to_string()
}

/// "Montag, 30. März 2026, 09:00 Uhr" / "Monday, 30 March 2026, 09:00".
pub(super) fn when(t: Texts<'_>, lang: Lang, at: Timestamp, zone: &TimeZone) -> String {
    let date = zone.to_datetime(at).date();
    t.get("booking.at")
        .replacen("{}", &day_with_year(t, lang, date), 1)
        .replacen("{}", &clock(at, zone), 1)
}

/// A text with its `{}` replaced by `value`.
pub(super) fn fill(t: Texts<'_>, key: &str, value: &str) -> String {
    t.get(key).replacen("{}", value, 1)
}

/// A field message of the domain in the patient's language (unknown ones as they are).
pub(super) fn message(t: Texts<'_>, text: &str) -> String {
    if text.starts_with("is required: the confirmation code") {
        return t.get("booking.phone_required").to_owned();
    }
    localize(t, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    #[test]
    fn days_and_times_are_written_out_in_the_language() {
        let de = I18n::global().texts(Lang::De);
        let en = I18n::global().texts(Lang::En);
        let monday = jiff::civil::date(2026, 3, 30);
        assert_eq!(day(de, Lang::De, monday), "Montag, 30. März");
        assert_eq!(day(en, Lang::En, monday), "Monday, 30 March");
        let berlin = zone("Europe/Berlin");
        let nine: Timestamp = "2026-03-30T07:00:00Z".parse().unwrap();
        assert_eq!(
            when(de, Lang::De, nine, &berlin),
            "Montag, 30. März 2026, 09:00 Uhr"
        );
        assert_eq!(
            when(en, Lang::En, nine, &berlin),
            "Monday, 30 March 2026, 09:00"
        );
    }

    #[test]
    fn field_messages_are_translated() {
        let de = I18n::global().texts(Lang::De);
        assert_eq!(message(de, "is required"), "ist erforderlich");
        assert_ne!(
            message(de, "is required: the confirmation code is sent there"),
            "is required: the confirmation code is sent there"
        );
    }
}
