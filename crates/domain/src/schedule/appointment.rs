//! Appointments: their status, when they start and end, and what counts as a clash. The
//! database guarantees that two appointments of one practitioner never overlap (unless
//! someone with the overbook right says so); the rules for what "overlap" means are here.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::hours::WeeklyHours;
use super::span::Span;
use crate::ids::VisitTypeId;

/// Where an appointment stands. A cancelled appointment stays (with its reason) but no longer
/// occupies its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppointmentStatus {
    Booked,
    Arrived,
    Completed,
    NoShow,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be booked, arrived, completed or no_show (cancel to cancel)")]
pub struct UnknownStatus;

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 5] = [
        AppointmentStatus::Booked,
        AppointmentStatus::Arrived,
        AppointmentStatus::Completed,
        AppointmentStatus::NoShow,
        AppointmentStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Arrived => "arrived",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::NoShow => "no_show",
            AppointmentStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or(UnknownStatus)
    }

    /// A status staff may set directly; cancelling goes through its own action (with a
    /// reason and a message to the patient).
    pub fn parse_settable(raw: &str) -> Result<Self, UnknownStatus> {
        match Self::parse(raw)? {
            AppointmentStatus::Cancelled => Err(UnknownStatus),
            status => Ok(status),
        }
    }

    /// Whether the appointment still holds its time in the calendar.
    pub fn occupies(self) -> bool {
        self != AppointmentStatus::Cancelled
    }
}

/// The time an appointment blocks: itself plus the visit type's buffers before and after.
pub fn occupied(
    start: Timestamp,
    end: Timestamp,
    before: SignedDuration,
    after: SignedDuration,
) -> Option<Span> {
    Span::new(start, end).map(|span| span.padded(before, after))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidStart {
    #[error("must be a time like 2026-12-01T09:30:00+01:00 or 2026-12-01T09:30")]
    Format,
    #[error("does not exist on that day (the clocks skip it)")]
    Skipped,
    #[error("must be on a whole minute")]
    NotWholeMinute,
}

/// Reads a start time: an RFC 3339 instant, or a wall-clock time in the practice's zone.
/// A wall-clock time the clocks skip is refused rather than moved; one that occurs twice
/// (the autumn hour) means the first.
pub fn parse_start(raw: &str, zone: &TimeZone) -> Result<Timestamp, InvalidStart> {
    let raw = raw.trim();
    let instant = match raw.parse::<Timestamp>() {
        Ok(instant) => instant,
        Err(_) => {
            let civil: jiff::civil::DateTime = raw.parse().map_err(|_| InvalidStart::Format)?;
            let ambiguous = zone.to_ambiguous_timestamp(civil);
            if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
                return Err(InvalidStart::Skipped);
            }
            ambiguous.earlier().map_err(|_| InvalidStart::Format)?
        }
    };
    if instant.subsec_nanosecond() != 0 || instant.as_second() % 60 != 0 {
        return Err(InvalidStart::NotWholeMinute);
    }
    Ok(instant)
}

/// Whether [`start`, `end`) lies within one of the practitioner's opening intervals for this
/// visit type on the start's day (in the practice's zone) and clear of every absence.
pub fn within_opening_hours(
    hours: &WeeklyHours,
    zone: &TimeZone,
    visit_type: VisitTypeId,
    start: Timestamp,
    end: Timestamp,
    absences: &[Span],
) -> bool {
    let Some(own) = Span::new(start, end) else {
        return false;
    };
    if absences.iter().any(|a| a.overlaps(&own)) {
        return false;
    }
    let date = zone.to_datetime(start).date();
    hours
        .intervals_on(date, Some(visit_type))
        .into_iter()
        .any(|(open, close)| {
            let opens = zone
                .to_ambiguous_timestamp(date.to_datetime(open))
                .compatible();
            let closes = zone.to_ambiguous_timestamp(date.to_datetime(close)).later();
            matches!((opens, closes), (Ok(opens), Ok(closes)) if opens <= start && end <= closes)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn starts_are_instants_or_practice_wall_clock() {
        let utc: Timestamp = "2026-12-01T08:30:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse_start("2026-12-01T09:30:00+01:00", &berlin()), Ok(utc));
        assert_eq!(parse_start("2026-12-01T09:30", &berlin()), Ok(utc));
        assert_eq!(
            parse_start("2026-03-29T02:30", &berlin()),
            Err(InvalidStart::Skipped)
        );
        // The autumn hour that occurs twice means the first (still summer time, +02:00).
        let first: Timestamp = "2026-10-25T00:30:00Z"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse_start("2026-10-25T02:30", &berlin()), Ok(first));
        assert_eq!(
            parse_start("2026-12-01T09:30:10Z", &berlin()),
            Err(InvalidStart::NotWholeMinute)
        );
        assert_eq!(parse_start("morgen", &berlin()), Err(InvalidStart::Format));
    }

    #[test]
    fn opening_hours_cover_an_appointment_or_not() {
        let raw = |weekday: &str, start: &str, end: &str| super::super::hours::RawOpeningRule {
            weekday: weekday.into(),
            start: start.into(),
            end: end.into(),
            ..Default::default()
        };
        let hours =
            WeeklyHours::parse(&[raw("tue", "08:00", "12:00"), raw("tue", "14:00", "18:00")])
                .unwrap_or_else(|e| panic!("{e:?}"));
        let at = |s: &str| parse_start(s, &berlin()).unwrap_or_else(|e| panic!("{e}"));
        let minutes = |m| SignedDuration::from_mins(m);
        let visit = VisitTypeId::random();
        let inside = |start: &str, length, absences: &[Span]| {
            let start = at(start);
            within_opening_hours(
                &hours,
                &berlin(),
                visit,
                start,
                start + minutes(length),
                absences,
            )
        };
        assert!(inside("2026-12-01T08:00", 30, &[]));
        assert!(inside("2026-12-01T11:30", 30, &[]));
        assert!(!inside("2026-12-01T11:45", 30, &[]), "runs past closing");
        assert!(!inside("2026-12-01T12:30", 30, &[]), "lunch break");
        assert!(!inside("2026-12-02T09:00", 30, &[]), "closed on Wednesdays");
        let absent = Span::new(at("2026-12-01T09:00"), at("2026-12-01T10:00"));
        let absent: Vec<Span> = absent.into_iter().collect();
        assert!(!inside("2026-12-01T09:30", 30, &absent));
        assert!(inside("2026-12-01T10:00", 30, &absent));
    }

    #[test]
    fn only_cancelled_appointments_free_their_time() {
        for status in AppointmentStatus::ALL {
            assert_eq!(status.occupies(), status != AppointmentStatus::Cancelled);
            assert_eq!(AppointmentStatus::parse(status.as_str()), Ok(status));
        }
        assert_eq!(
            AppointmentStatus::parse_settable("cancelled"),
            Err(UnknownStatus)
        );
        assert_eq!(
            AppointmentStatus::parse_settable("no_show"),
            Ok(AppointmentStatus::NoShow)
        );
    }
}
