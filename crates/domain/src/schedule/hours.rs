//! Weekly opening hours of one practitioner, in civil (wall-clock) time.
//!
//! A practitioner plans "Mondays 08:00–12:00", not instants: the rules stay civil here and
//! only the slot engine turns them into real time, day by day, in the practice's zone. A
//! rule may be limited to a validity period, to every second week (counted from the
//! Monday-based week that holds `valid_from`) and to some visit types.

use std::collections::BTreeSet;

use jiff::SignedDuration;
use jiff::civil::{Date, Time, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldErrors};
use crate::ids::VisitTypeId;

/// One opening window that repeats on a weekday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningRule {
    pub weekday: Weekday,
    pub start: Time,
    pub end: Time,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
    /// 1 (every week) or 2 (every second week, counted from the week of `valid_from`).
    pub every_weeks: u8,
    /// The visit types offered in this window; empty means all of them.
    pub visit_type_ids: BTreeSet<VisitTypeId>,
}

impl OpeningRule {
    /// Whether the rule opens on `date`: right weekday, inside the validity period and, for
    /// a fortnightly rule, in an "on" week.
    pub fn applies_on(&self, date: Date) -> bool {
        if date.weekday() != self.weekday
            || self.valid_from.is_some_and(|from| date < from)
            || self.valid_until.is_some_and(|until| date > until)
        {
            return false;
        }
        match (self.every_weeks, self.valid_from) {
            (2, Some(anchor)) => {
                // Weeks run Monday to Sunday; the anchor's week is week 0, an "on" week.
                let monday_offset = i64::from(anchor.weekday().to_monday_zero_offset());
                let week = (days_between(anchor, date) + monday_offset).div_euclid(7);
                week.rem_euclid(2) == 0
            }
            // Parsed hours never hold a fortnightly rule without an anchor; a hand-built
            // one is read as weekly rather than silently never opening.
            _ => true,
        }
    }

    /// Whether the rule offers `visit_type`; `None` asks for any visit type.
    pub fn offers(&self, visit_type: Option<VisitTypeId>) -> bool {
        match visit_type {
            None => true,
            Some(id) => self.visit_type_ids.is_empty() || self.visit_type_ids.contains(&id),
        }
    }

    fn times_overlap(&self, other: &OpeningRule) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether some date exists on which both rules open. The pattern of two rules repeats
    /// every fortnight, so checking the first two candidate dates of the shared validity
    /// period is exact.
    fn can_share_a_date(&self, other: &OpeningRule) -> bool {
        if self.weekday != other.weekday {
            return false;
        }
        let first = match (self.valid_from, other.valid_from) {
            // Both open-ended into the past, hence both weekly: they meet somewhere.
            (None, None) => return true,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => a.max(b),
        };
        let Some(first) = add_days(first, i64::from(first.weekday().until(self.weekday))) else {
            return false;
        };
        [0, 7]
            .into_iter()
            .filter_map(|days| add_days(first, days))
            .any(|date| self.applies_on(date) && other.applies_on(date))
    }
}

/// An opening rule as the client sends it and as it is stored (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawOpeningRule {
    /// `"mon"` … `"sun"`.
    pub weekday: String,
    /// `"HH:MM"`.
    pub start: String,
    /// `"HH:MM"`, after `start`, at most `"23:59"`.
    pub end: String,
    /// `"YYYY-MM-DD"`.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// `"YYYY-MM-DD"`, inclusive.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// 1 or 2; absent means 1.
    #[serde(default)]
    pub every_weeks: Option<u8>,
    /// Visit type ids; empty means all visit types.
    #[serde(default)]
    pub visit_type_ids: Vec<String>,
}

/// The opening rules of one practitioner, checked to be well-formed and free of overlaps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours(Vec<OpeningRule>);

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

impl WeeklyHours {
    /// Parses the rules; every problem is reported under its field, e.g. `weekly[2].start`.
    /// A rule that can open at the same time as an earlier one is reported on the later one
    /// (`weekly[3]`: "overlaps weekly[1]").
    pub fn parse(raw: &[RawOpeningRule]) -> Result<WeeklyHours, DomainError> {
        let mut errors = FieldErrors::new();
        let parsed: Vec<Option<OpeningRule>> = raw
            .iter()
            .enumerate()
            .map(|(i, rule)| parse_rule(&format!("weekly[{i}]"), rule, &mut errors))
            .collect();
        for (j, later) in parsed.iter().enumerate() {
            let Some(later) = later else { continue };
            let clash = parsed[..j].iter().enumerate().find_map(|(i, earlier)| {
                let earlier = earlier.as_ref()?;
                (earlier.times_overlap(later) && earlier.can_share_a_date(later)).then_some(i)
            });
            if let Some(i) = clash {
                errors.add(&format!("weekly[{j}]"), format!("overlaps weekly[{i}]"));
            }
        }
        errors.into_result()?;
        Ok(WeeklyHours(parsed.into_iter().flatten().collect()))
    }

    /// The opening intervals on `date` for `visit_type` (`None`: for any visit type), as
    /// civil times sorted by start.
    pub fn intervals_on(&self, date: Date, visit_type: Option<VisitTypeId>) -> Vec<(Time, Time)> {
        let mut intervals: Vec<(Time, Time)> = self
            .0
            .iter()
            .filter(|rule| rule.applies_on(date) && rule.offers(visit_type))
            .map(|rule| (rule.start, rule.end))
            .collect();
        intervals.sort_unstable();
        intervals
    }

    pub fn rules(&self) -> &[OpeningRule] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rules in their text form; `parse(&to_raw())` gives the same hours back.
    pub fn to_raw(&self) -> Vec<RawOpeningRule> {
        self.0
            .iter()
            .map(|rule| RawOpeningRule {
                weekday: weekday_name(rule.weekday).to_owned(),
                start: format_time(rule.start),
                end: format_time(rule.end),
                valid_from: rule.valid_from.map(|d| d.to_string()),
                valid_until: rule.valid_until.map(|d| d.to_string()),
                every_weeks: Some(rule.every_weeks),
                visit_type_ids: rule
                    .visit_type_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            })
            .collect()
    }
}

fn parse_rule(prefix: &str, raw: &RawOpeningRule, all: &mut FieldErrors) -> Option<OpeningRule> {
    let mut errors = FieldErrors::new();
    let field = |name: &str| format!("{prefix}.{name}");

    let weekday = errors.take(&field("weekday"), parse_weekday(&raw.weekday));
    let start = errors.take(&field("start"), parse_time(&raw.start));
    let end = errors.take(&field("end"), parse_time(&raw.end));
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        errors.add(&field("end"), "must be after the start");
    }
    let valid_from = errors.take(
        &field("valid_from"),
        parse_optional_date(raw.valid_from.as_deref()),
    );
    let valid_until = errors.take(
        &field("valid_until"),
        parse_optional_date(raw.valid_until.as_deref()),
    );
    if let (Some(Some(from)), Some(Some(until))) = (valid_from, valid_until)
        && until < from
    {
        errors.add(&field("valid_until"), "must not be before valid_from");
    }
    let every_weeks = raw.every_weeks.unwrap_or(1);
    if !matches!(every_weeks, 1 | 2) {
        errors.add(&field("every_weeks"), "must be 1 or 2");
    } else if every_weeks == 2 && valid_from == Some(None) {
        errors.add(&field("valid_from"), "required when every_weeks is 2");
    }
    let mut visit_type_ids = BTreeSet::new();
    for (k, id) in raw.visit_type_ids.iter().enumerate() {
        let field = field(&format!("visit_type_ids[{k}]"));
        if let Some(id) = errors.take(&field, id.trim().parse()) {
            visit_type_ids.insert(id);
        }
    }

    if !errors.is_empty() {
        for (name, messages) in errors.iter() {
            for message in messages {
                all.add(name, message.clone());
            }
        }
        return None;
    }
    Some(OpeningRule {
        weekday: weekday?,
        start: start?,
        end: end?,
        valid_from: valid_from?,
        valid_until: valid_until?,
        every_weeks,
        visit_type_ids,
    })
}

fn parse_weekday(raw: &str) -> Result<Weekday, &'static str> {
    let raw = raw.trim();
    WEEKDAYS
        .iter()
        .find(|(name, _)| raw.eq_ignore_ascii_case(name))
        .map(|&(_, weekday)| weekday)
        .ok_or("must be one of mon, tue, wed, thu, fri, sat, sun")
}

fn weekday_name(weekday: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|&&(_, w)| w == weekday)
        .map_or("mon", |&(name, _)| name)
}

/// `"HH:MM"` from `00:00` to `23:59`, exactly five characters.
pub(crate) fn parse_time(raw: &str) -> Result<Time, &'static str> {
    const MESSAGE: &str = "must be a time HH:MM between 00:00 and 23:59";
    let b = raw.trim().as_bytes();
    let [h1, h2, b':', m1, m2] = *b else {
        return Err(MESSAGE);
    };
    let hour = two_digits(h1, h2).ok_or(MESSAGE)?;
    let minute = two_digits(m1, m2).ok_or(MESSAGE)?;
    if hour > 23 || minute > 59 {
        return Err(MESSAGE);
    }
    Time::new(hour, minute, 0, 0).map_err(|_| MESSAGE)
}

/// `"YYYY-MM-DD"`, exactly ten characters, a date that exists.
pub(crate) fn parse_date(raw: &str) -> Result<Date, &'static str> {
    const MESSAGE: &str = "must be a date YYYY-MM-DD";
    let b = raw.trim().as_bytes();
    let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *b else {
        return Err(MESSAGE);
    };
    let century = two_digits(y1, y2).ok_or(MESSAGE)?;
    let year = two_digits(y3, y4).ok_or(MESSAGE)?;
    let month = two_digits(m1, m2).ok_or(MESSAGE)?;
    let day = two_digits(d1, d2).ok_or(MESSAGE)?;
    let year = i16::from(century) * 100 + i16::from(year);
    Date::new(year, month, day).map_err(|_| "is not a date in the calendar")
}

/// An optional date field; an empty string (as forms send it) counts as absent.
pub(crate) fn parse_optional_date(raw: Option<&str>) -> Result<Option<Date>, &'static str> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_date(text).map(Some),
    }
}

pub(crate) fn format_time(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub(crate) fn days_between(from: Date, to: Date) -> i64 {
    to.duration_since(from).as_hours().div_euclid(24)
}

/// `date` moved by `days`; `None` past the ends of the calendar.
pub(crate) fn add_days(date: Date, days: i64) -> Option<Date> {
    let duration = SignedDuration::from_hours(days.checked_mul(24)?);
    date.checked_add(duration).ok()
}

fn two_digits(tens: u8, ones: u8) -> Option<i8> {
    if tens.is_ascii_digit() && ones.is_ascii_digit() {
        // Both are ASCII digits, so the value is at most 99 and fits.
        i8::try_from((tens - b'0') * 10 + (ones - b'0')).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};

    use super::*;

    fn rule(weekday: &str, start: &str, end: &str) -> RawOpeningRule {
        RawOpeningRule {
            weekday: weekday.to_owned(),
            start: start.to_owned(),
            end: end.to_owned(),
            ..RawOpeningRule::default()
        }
    }

    fn errors_of(raw: &[RawOpeningRule]) -> FieldErrors {
        match WeeklyHours::parse(raw) {
            Err(DomainError::Invalid(errors)) => errors,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_weekly_rule_opens_on_its_weekday_only() {
        let hours = WeeklyHours::parse(&[rule("mon", "08:00", "12:00")]).unwrap();
        assert_eq!(
            hours.intervals_on(date(2026, 5, 4), None),
            vec![(time(8, 0, 0, 0), time(12, 0, 0, 0))]
        );
        assert!(hours.intervals_on(date(2026, 5, 5), None).is_empty());
    }

    #[test]
    fn intervals_of_a_day_come_sorted_by_start() {
        let hours =
            WeeklyHours::parse(&[rule("mon", "14:00", "18:00"), rule("mon", "08:00", "12:00")])
                .unwrap();
        assert_eq!(
            hours.intervals_on(date(2026, 5, 4), None),
            vec![
                (time(8, 0, 0, 0), time(12, 0, 0, 0)),
                (time(14, 0, 0, 0), time(18, 0, 0, 0)),
            ]
        );
    }

    #[test]
    fn a_fortnightly_rule_opens_in_the_week_of_valid_from_and_every_second_week_after() {
        // 2026-05-06 is a Wednesday; its week starts Monday 2026-05-04.
        let raw = RawOpeningRule {
            every_weeks: Some(2),
            valid_from: Some("2026-05-06".to_owned()),
            ..rule("mon", "08:00", "12:00")
        };
        let hours = WeeklyHours::parse(&[raw]).unwrap();
        let opens = |d: Date| !hours.intervals_on(d, None).is_empty();
        assert!(!opens(date(2026, 5, 4)), "before valid_from");
        assert!(!opens(date(2026, 5, 11)), "off week");
        assert!(opens(date(2026, 5, 18)), "on week");
        assert!(!opens(date(2026, 5, 25)), "off week");
        assert!(opens(date(2026, 6, 1)), "on week");
    }

    #[test]
    fn a_fortnightly_rule_anchored_on_a_sunday_counts_that_monday_based_week_as_on() {
        // Sunday 2026-05-10 belongs to the week of Monday 2026-05-04; Monday 05-11 is off.
        let raw = RawOpeningRule {
            every_weeks: Some(2),
            valid_from: Some("2026-05-10".to_owned()),
            ..rule("mon", "08:00", "12:00")
        };
        let hours = WeeklyHours::parse(&[raw]).unwrap();
        assert!(hours.intervals_on(date(2026, 5, 11), None).is_empty());
        assert!(!hours.intervals_on(date(2026, 5, 18), None).is_empty());
    }

    #[test]
    fn a_rule_opens_from_valid_from_until_valid_until_inclusive() {
        let raw = RawOpeningRule {
            valid_from: Some("2026-05-04".to_owned()),
            valid_until: Some("2026-05-11".to_owned()),
            ..rule("mon", "08:00", "12:00")
        };
        let hours = WeeklyHours::parse(&[raw]).unwrap();
        let opens = |d: Date| !hours.intervals_on(d, None).is_empty();
        assert!(!opens(date(2026, 4, 27)));
        assert!(opens(date(2026, 5, 4)));
        assert!(opens(date(2026, 5, 11)));
        assert!(!opens(date(2026, 5, 18)));
    }

    #[test]
    fn a_rule_limited_to_visit_types_opens_only_for_them() {
        let checkup = VisitTypeId::random();
        let other = VisitTypeId::random();
        let raw = RawOpeningRule {
            visit_type_ids: vec![checkup.to_string()],
            ..rule("mon", "08:00", "12:00")
        };
        let hours = WeeklyHours::parse(&[raw, rule("mon", "14:00", "16:00")]).unwrap();
        let monday = date(2026, 5, 4);
        assert_eq!(hours.intervals_on(monday, Some(checkup)).len(), 2);
        assert_eq!(
            hours.intervals_on(monday, Some(other)),
            vec![(time(14, 0, 0, 0), time(16, 0, 0, 0))]
        );
        assert_eq!(hours.intervals_on(monday, None).len(), 2);
    }

    #[test]
    fn malformed_fields_are_reported_by_name() {
        let errors = errors_of(&[
            rule("mon", "08:00", "12:00"),
            RawOpeningRule {
                weekday: "monday".to_owned(),
                start: "8:00".to_owned(),
                end: "24:00".to_owned(),
                valid_from: Some("2026-02-30".to_owned()),
                valid_until: Some("tomorrow".to_owned()),
                every_weeks: Some(3),
                visit_type_ids: vec!["nope".to_owned()],
            },
        ]);
        for field in [
            "weekly[1].weekday",
            "weekly[1].start",
            "weekly[1].end",
            "weekly[1].valid_from",
            "weekly[1].valid_until",
            "weekly[1].every_weeks",
            "weekly[1].visit_type_ids[0]",
        ] {
            assert!(errors.get(field).is_some(), "{field} missing in {errors:?}");
        }
        assert_eq!(errors.iter().count(), 7);
    }

    #[test]
    fn start_must_not_be_24_00_and_end_may_be_23_59() {
        let errors = errors_of(&[rule("mon", "24:00", "23:59")]);
        assert!(errors.get("weekly[0].start").is_some());
        assert!(WeeklyHours::parse(&[rule("mon", "00:00", "23:59")]).is_ok());
    }

    #[test]
    fn end_must_be_after_start() {
        let errors = errors_of(&[rule("tue", "12:00", "12:00")]);
        assert_eq!(
            errors.get("weekly[0].end"),
            Some(&["must be after the start".to_owned()][..])
        );
    }

    #[test]
    fn fortnightly_needs_valid_from() {
        let errors = errors_of(&[RawOpeningRule {
            every_weeks: Some(2),
            ..rule("mon", "08:00", "12:00")
        }]);
        assert_eq!(
            errors.get("weekly[0].valid_from"),
            Some(&["required when every_weeks is 2".to_owned()][..])
        );
    }

    #[test]
    fn valid_until_must_not_precede_valid_from() {
        let errors = errors_of(&[RawOpeningRule {
            valid_from: Some("2026-05-04".to_owned()),
            valid_until: Some("2026-05-03".to_owned()),
            ..rule("mon", "08:00", "12:00")
        }]);
        assert_eq!(
            errors.get("weekly[0].valid_until"),
            Some(&["must not be before valid_from".to_owned()][..])
        );
    }

    #[test]
    fn overlapping_rules_are_reported_on_the_later_one() {
        let errors = errors_of(&[
            rule("mon", "08:00", "12:00"),
            rule("tue", "08:00", "12:00"),
            rule("mon", "11:30", "13:00"),
        ]);
        assert_eq!(
            errors.get("weekly[2]"),
            Some(&["overlaps weekly[0]".to_owned()][..])
        );
        assert_eq!(errors.iter().count(), 1);
    }

    #[test]
    fn back_to_back_rules_do_not_overlap() {
        assert!(
            WeeklyHours::parse(&[rule("mon", "08:00", "12:00"), rule("mon", "12:00", "13:00")])
                .is_ok()
        );
    }

    #[test]
    fn fortnightly_rules_in_opposite_weeks_do_not_overlap() {
        let on_a = RawOpeningRule {
            every_weeks: Some(2),
            valid_from: Some("2026-05-04".to_owned()),
            ..rule("mon", "08:00", "12:00")
        };
        let on_b = RawOpeningRule {
            valid_from: Some("2026-05-11".to_owned()),
            ..on_a.clone()
        };
        assert!(WeeklyHours::parse(&[on_a.clone(), on_b]).is_ok());
        let same_parity = RawOpeningRule {
            valid_from: Some("2026-05-18".to_owned()),
            ..on_a.clone()
        };
        let errors = errors_of(&[on_a.clone(), same_parity]);
        assert_eq!(
            errors.get("weekly[1]"),
            Some(&["overlaps weekly[0]".to_owned()][..])
        );
        let weekly = rule("mon", "10:00", "11:00");
        assert!(WeeklyHours::parse(&[on_a, weekly]).is_err());
    }

    #[test]
    fn rules_with_disjoint_validity_do_not_overlap() {
        let spring = RawOpeningRule {
            valid_until: Some("2026-05-31".to_owned()),
            ..rule("mon", "08:00", "12:00")
        };
        let summer = RawOpeningRule {
            valid_from: Some("2026-06-01".to_owned()),
            ..rule("mon", "09:00", "13:00")
        };
        assert!(WeeklyHours::parse(&[spring.clone(), summer]).is_ok());
        let overlapping = RawOpeningRule {
            valid_from: Some("2026-05-25".to_owned()),
            ..rule("mon", "09:00", "13:00")
        };
        assert!(WeeklyHours::parse(&[spring, overlapping]).is_err());
    }

    #[test]
    fn validity_periods_that_share_no_such_weekday_do_not_overlap() {
        // 2026-05-05 is a Tuesday: both rules are valid that day, but neither opens on it.
        let a = RawOpeningRule {
            valid_until: Some("2026-05-05".to_owned()),
            ..rule("fri", "08:00", "12:00")
        };
        let b = RawOpeningRule {
            valid_from: Some("2026-05-05".to_owned()),
            valid_until: Some("2026-05-07".to_owned()),
            ..rule("fri", "08:00", "12:00")
        };
        assert!(WeeklyHours::parse(&[a, b]).is_ok());
    }

    #[test]
    fn raw_rules_round_trip() {
        let raw = vec![
            RawOpeningRule {
                every_weeks: Some(2),
                valid_from: Some("2026-05-04".to_owned()),
                valid_until: Some("2026-12-31".to_owned()),
                visit_type_ids: vec![VisitTypeId::random().to_string()],
                ..rule("thu", "07:30", "11:45")
            },
            rule("sat", "09:00", "10:00"),
        ];
        let hours = WeeklyHours::parse(&raw).unwrap();
        let again = WeeklyHours::parse(&hours.to_raw()).unwrap();
        assert_eq!(again, hours);
        assert_eq!(hours.to_raw()[0], raw[0]);
    }

    #[test]
    fn every_weeks_left_out_means_weekly() {
        let hours = WeeklyHours::parse(&[rule("wed", "08:00", "12:00")]).unwrap();
        assert_eq!(hours.rules()[0].every_weeks, 1);
        assert!(hours.rules()[0].visit_type_ids.is_empty());
        assert!(!hours.intervals_on(date(2026, 5, 6), None).is_empty());
        assert!(!hours.intervals_on(date(2026, 5, 13), None).is_empty());
    }
}
