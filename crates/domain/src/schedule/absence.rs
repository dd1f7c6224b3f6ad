//! When a practitioner is away: holidays, training days, a weekly afternoon off.
//!
//! An absence is planned in civil time ("from Monday to Wednesday", "Fridays from 14:00")
//! and turned into real-time [`Span`]s in the practice's zone only when needed, so that a
//! whole day stays a whole day even when it is 23 or 25 hours long.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::hours::{
    add_days, days_between, format_time, parse_date, parse_optional_date, parse_time,
};
use super::span::Span;
use crate::error::{DomainError, FieldErrors};

/// A planned absence: whole days (`start_time` and `end_time` both `None`) or from
/// `start_time` on `start_date` to `end_time` on `end_date`, optionally repeated every
/// seven days while the repetition starts on or before `repeat_weekly_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsencePlan {
    pub start_date: Date,
    pub end_date: Date,
    pub start_time: Option<Time>,
    pub end_time: Option<Time>,
    pub repeat_weekly_until: Option<Date>,
}

/// An absence as the client sends it: dates `YYYY-MM-DD`, times `HH:MM`. An empty string in
/// an optional field counts as absent, as HTML forms send it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawAbsencePlan {
    pub start_date: String,
    pub end_date: String,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub repeat_weekly_until: Option<String>,
}

impl AbsencePlan {
    /// Parses and checks the plan; problems are reported under the raw field names.
    pub fn parse(raw: &RawAbsencePlan) -> Result<AbsencePlan, DomainError> {
        let mut errors = FieldErrors::new();
        let start_date = errors.take("start_date", parse_date(&raw.start_date));
        let end_date = errors.take("end_date", parse_date(&raw.end_date));
        if let (Some(start), Some(end)) = (start_date, end_date)
            && end < start
        {
            errors.add("end_date", "must not be before start_date");
        }
        let start_time = errors.take("start_time", parse_optional_time(raw.start_time.as_deref()));
        let end_time = errors.take("end_time", parse_optional_time(raw.end_time.as_deref()));
        match (start_time, end_time) {
            (Some(Some(_)), Some(None)) => errors.add("end_time", "required with start_time"),
            (Some(None), Some(Some(_))) => errors.add("start_time", "required with end_time"),
            (Some(Some(start)), Some(Some(end))) if start_date == end_date && end <= start => {
                errors.add("end_time", "must be after start_time");
            }
            _ => {}
        }
        let until = errors.take(
            "repeat_weekly_until",
            parse_optional_date(raw.repeat_weekly_until.as_deref()),
        );
        if let (Some(Some(until)), Some(start)) = (until, start_date)
            && until < start
        {
            errors.add("repeat_weekly_until", "must not be before start_date");
        }
        errors.into_result()?;
        match (start_date, end_date, start_time, end_time, until) {
            (Some(start_date), Some(end_date), Some(start_time), Some(end_time), Some(until)) => {
                Ok(AbsencePlan {
                    start_date,
                    end_date,
                    start_time,
                    end_time,
                    repeat_weekly_until: until,
                })
            }
            // Every `None` above recorded an error, so this arm is never reached.
            _ => Err(DomainError::invalid("start_date", "could not be read")),
        }
    }

    /// The plan in its text form; `parse(&to_raw())` gives the same plan back.
    pub fn to_raw(&self) -> RawAbsencePlan {
        RawAbsencePlan {
            start_date: self.start_date.to_string(),
            end_date: self.end_date.to_string(),
            start_time: self.start_time.map(format_time),
            end_time: self.end_time.map(format_time),
            repeat_weekly_until: self.repeat_weekly_until.map(|d| d.to_string()),
        }
    }

    /// Whether the absence covers whole days rather than a time range.
    pub fn is_whole_days(&self) -> bool {
        self.start_time.is_none() || self.end_time.is_none()
    }

    /// The real-time spans of every occurrence whose dates touch `from..=to`, in order.
    ///
    /// Whole days run from local midnight to the next local midnight (23 or 25 hours on DST
    /// days). A part-day boundary that falls in a gap or fold is read so that the absence
    /// covers more, never less: the earlier instant for its start, the later for its end.
    pub fn spans(&self, tz: &TimeZone, from: Date, to: Date) -> Vec<Span> {
        let mut spans = Vec::new();
        let last_start = match self.repeat_weekly_until {
            Some(until) => until.min(to),
            None => self.start_date.min(to),
        };
        // Skip the occurrences that end before `from` without walking through them.
        let behind = days_between(self.end_date, from);
        let first_week = if behind > 0 && self.repeat_weekly_until.is_some() {
            (behind + 6) / 7
        } else {
            0
        };
        for week in first_week.. {
            let Some(offset) = week.checked_mul(7) else {
                break;
            };
            let (Some(start), Some(end)) = (
                add_days(self.start_date, offset),
                add_days(self.end_date, offset),
            ) else {
                break;
            };
            if start > last_start {
                break;
            }
            if end < from {
                continue;
            }
            if let Some(span) = self.occurrence(tz, start, end) {
                spans.push(span);
            }
        }
        spans
    }

    fn occurrence(&self, tz: &TimeZone, start: Date, end: Date) -> Option<Span> {
        let (start, end) = match (self.start_time, self.end_time) {
            (Some(start_time), Some(end_time)) => (
                tz.to_ambiguous_timestamp(start.to_datetime(start_time))
                    .earlier()
                    .ok()?,
                tz.to_ambiguous_timestamp(end.to_datetime(end_time))
                    .later()
                    .ok()?,
            ),
            _ => (
                start_of_day(tz, start)?,
                start_of_day(tz, add_days(end, 1)?)?,
            ),
        };
        Span::new(start, end)
    }
}

/// The first instant of `date` in the zone; after the gap when midnight does not exist.
pub(crate) fn start_of_day(tz: &TimeZone, date: Date) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(date.to_datetime(Time::midnight()))
        .compatible()
        .ok()
}

fn parse_optional_time(raw: Option<&str>) -> Result<Option<Time>, &'static str> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_time(text).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn raw(start_date: &str, end_date: &str) -> RawAbsencePlan {
        RawAbsencePlan {
            start_date: start_date.to_owned(),
            end_date: end_date.to_owned(),
            ..RawAbsencePlan::default()
        }
    }

    fn span(start: &str, end: &str) -> Span {
        Span::new(start.parse().unwrap(), end.parse().unwrap()).unwrap()
    }

    fn errors_of(raw: &RawAbsencePlan) -> FieldErrors {
        match AbsencePlan::parse(raw) {
            Err(DomainError::Invalid(errors)) => errors,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_whole_day_on_the_spring_forward_sunday_lasts_23_hours() {
        let plan = AbsencePlan::parse(&raw("2026-03-29", "2026-03-29")).unwrap();
        let spans = plan.spans(&berlin(), date(2026, 3, 1), date(2026, 4, 30));
        assert_eq!(
            spans,
            vec![span("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")]
        );
        assert_eq!(spans[0].duration().as_hours(), 23);
    }

    #[test]
    fn a_whole_day_on_the_fall_back_sunday_lasts_25_hours() {
        let plan = AbsencePlan::parse(&raw("2026-10-25", "2026-10-25")).unwrap();
        let spans = plan.spans(&berlin(), date(2026, 10, 25), date(2026, 10, 25));
        assert_eq!(
            spans,
            vec![span("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")]
        );
        assert_eq!(spans[0].duration().as_hours(), 25);
    }

    #[test]
    fn whole_days_across_the_spring_change_run_midnight_to_midnight() {
        let plan = AbsencePlan::parse(&raw("2026-03-27", "2026-03-30")).unwrap();
        let spans = plan.spans(&berlin(), date(2026, 3, 30), date(2026, 3, 30));
        // From midnight CET (+01) to midnight CEST (+02): four days less one hour.
        assert_eq!(
            spans,
            vec![span("2026-03-26T23:00:00Z", "2026-03-30T22:00:00Z")]
        );
    }

    #[test]
    fn a_part_day_absence_runs_from_start_time_to_end_time() {
        let plan = AbsencePlan::parse(&RawAbsencePlan {
            start_time: Some("14:00".to_owned()),
            end_time: Some("10:00".to_owned()),
            ..raw("2026-05-04", "2026-05-06")
        })
        .unwrap();
        assert!(!plan.is_whole_days());
        let spans = plan.spans(&berlin(), date(2026, 5, 1), date(2026, 5, 31));
        assert_eq!(
            spans,
            vec![span("2026-05-04T12:00:00Z", "2026-05-06T08:00:00Z")]
        );
    }

    #[test]
    fn a_part_day_boundary_in_the_fold_covers_both_hours() {
        let plan = AbsencePlan::parse(&RawAbsencePlan {
            start_time: Some("02:00".to_owned()),
            end_time: Some("02:30".to_owned()),
            ..raw("2026-10-25", "2026-10-25")
        })
        .unwrap();
        let spans = plan.spans(&berlin(), date(2026, 10, 25), date(2026, 10, 25));
        // 02:00 CEST (00:00Z) up to the second 02:30, in CET (01:30Z).
        assert_eq!(
            spans,
            vec![span("2026-10-25T00:00:00Z", "2026-10-25T01:30:00Z")]
        );
    }

    #[test]
    fn a_weekly_absence_repeats_until_the_date_inclusive() {
        let plan = AbsencePlan::parse(&RawAbsencePlan {
            start_time: Some("14:00".to_owned()),
            end_time: Some("18:00".to_owned()),
            repeat_weekly_until: Some("2026-05-27".to_owned()),
            ..raw("2026-05-06", "2026-05-06")
        })
        .unwrap();
        let spans = plan.spans(&berlin(), date(2026, 5, 10), date(2026, 6, 30));
        assert_eq!(
            spans,
            vec![
                span("2026-05-13T12:00:00Z", "2026-05-13T16:00:00Z"),
                span("2026-05-20T12:00:00Z", "2026-05-20T16:00:00Z"),
                span("2026-05-27T12:00:00Z", "2026-05-27T16:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_weekly_absence_keeps_its_wall_times_across_the_change() {
        // Saturdays 10:00–12:00 around the spring change: CET before, CEST after.
        let plan = AbsencePlan::parse(&RawAbsencePlan {
            start_time: Some("10:00".to_owned()),
            end_time: Some("12:00".to_owned()),
            repeat_weekly_until: Some("2026-12-31".to_owned()),
            ..raw("2026-01-03", "2026-01-03")
        })
        .unwrap();
        let spans = plan.spans(&berlin(), date(2026, 3, 28), date(2026, 4, 4));
        assert_eq!(
            spans,
            vec![
                span("2026-03-28T09:00:00Z", "2026-03-28T11:00:00Z"),
                span("2026-04-04T08:00:00Z", "2026-04-04T10:00:00Z"),
            ]
        );
    }

    #[test]
    fn an_occurrence_that_only_touches_the_range_is_included() {
        let plan = AbsencePlan::parse(&raw("2026-05-01", "2026-05-04")).unwrap();
        assert_eq!(
            plan.spans(&berlin(), date(2026, 5, 4), date(2026, 5, 10))
                .len(),
            1
        );
        assert!(
            plan.spans(&berlin(), date(2026, 5, 5), date(2026, 5, 10))
                .is_empty()
        );
        assert!(
            plan.spans(&berlin(), date(2026, 4, 1), date(2026, 4, 30))
                .is_empty()
        );
    }

    #[test]
    fn times_come_in_pairs() {
        let errors = errors_of(&RawAbsencePlan {
            start_time: Some("10:00".to_owned()),
            end_time: Some(String::new()),
            ..raw("2026-05-04", "2026-05-04")
        });
        assert_eq!(
            errors.get("end_time"),
            Some(&["required with start_time".to_owned()][..])
        );
    }

    #[test]
    fn malformed_and_reversed_fields_are_reported_by_name() {
        let errors = errors_of(&RawAbsencePlan {
            start_time: Some("25:00".to_owned()),
            end_time: Some("10:00".to_owned()),
            repeat_weekly_until: Some("2026-05-01".to_owned()),
            ..raw("2026-05-04", "2026-05-03")
        });
        assert_eq!(
            errors.get("end_date"),
            Some(&["must not be before start_date".to_owned()][..])
        );
        assert!(errors.get("start_time").is_some());
        assert_eq!(
            errors.get("repeat_weekly_until"),
            Some(&["must not be before start_date".to_owned()][..])
        );
    }

    #[test]
    fn a_same_day_absence_must_end_after_it_starts() {
        let errors = errors_of(&RawAbsencePlan {
            start_time: Some("10:00".to_owned()),
            end_time: Some("10:00".to_owned()),
            ..raw("2026-05-04", "2026-05-04")
        });
        assert_eq!(
            errors.get("end_time"),
            Some(&["must be after start_time".to_owned()][..])
        );
    }

    #[test]
    fn raw_plans_round_trip() {
        let raw = RawAbsencePlan {
            start_time: Some("08:15".to_owned()),
            end_time: Some("12:00".to_owned()),
            repeat_weekly_until: Some("2026-12-31".to_owned()),
            ..raw("2026-05-04", "2026-05-05")
        };
        let plan = AbsencePlan::parse(&raw).unwrap();
        assert_eq!(plan.to_raw(), raw);
        assert_eq!(AbsencePlan::parse(&plan.to_raw()).unwrap(), plan);
    }
}
