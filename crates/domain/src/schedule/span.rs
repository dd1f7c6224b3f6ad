//! A stretch of real time: half-open `[start, end)` between two instants. Appointments,
//! absences and free slots are all spans once they leave civil time; comparing instants
//! (not wall-clock times) is what keeps a DST night from double-booking or losing an hour.

use jiff::{SignedDuration, Timestamp};

/// A half-open interval of instants, `start` inclusive and `end` exclusive.
///
/// [`Span::new`] refuses an empty or reversed span; the fields stay public so that storage
/// and tests can read them without ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Span {
    /// The span from `start` up to (not including) `end`; `None` unless `start < end`.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<Span> {
        (start < end).then_some(Span { start, end })
    }

    /// Whether the two spans share at least one instant. Spans that only touch
    /// (one ends where the other starts) do not overlap: back-to-back appointments are fine.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether every instant of `other` lies in `self`.
    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// How long the span lasts in real time.
    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }

    /// The span widened by `before` at the start and `after` at the end, the way buffers
    /// around an appointment are applied. A negative padding counts as zero (a buffer never
    /// shrinks an appointment), and the result saturates at the ends of the time line.
    pub fn padded(&self, before: SignedDuration, after: SignedDuration) -> Span {
        let before = before.max(SignedDuration::ZERO);
        let after = after.max(SignedDuration::ZERO);
        Span {
            start: self.start.checked_sub(before).unwrap_or(Timestamp::MIN),
            end: self.end.checked_add(after).unwrap_or(Timestamp::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn span(start: &str, end: &str) -> Span {
        Span::new(ts(start), ts(end)).unwrap()
    }

    #[test]
    fn an_empty_or_reversed_span_is_refused() {
        let t = ts("2026-05-04T08:00:00Z");
        assert_eq!(Span::new(t, t), None);
        assert_eq!(Span::new(ts("2026-05-04T09:00:00Z"), t), None);
    }

    #[test]
    fn spans_that_only_touch_do_not_overlap() {
        let a = span("2026-05-04T08:00:00Z", "2026-05-04T08:30:00Z");
        let b = span("2026-05-04T08:30:00Z", "2026-05-04T09:00:00Z");
        assert!(!a.overlaps(&b));
        assert!(!b.overlaps(&a));
    }

    #[test]
    fn spans_sharing_one_nanosecond_overlap() {
        let a = span("2026-05-04T08:00:00Z", "2026-05-04T08:30:00.000000001Z");
        let b = span("2026-05-04T08:30:00Z", "2026-05-04T09:00:00Z");
        assert!(a.overlaps(&b));
        assert!(b.overlaps(&a));
    }

    #[test]
    fn a_span_inside_another_overlaps_and_is_contained() {
        let outer = span("2026-05-04T08:00:00Z", "2026-05-04T12:00:00Z");
        let inner = span("2026-05-04T09:00:00Z", "2026-05-04T09:15:00Z");
        assert!(outer.overlaps(&inner));
        assert!(inner.overlaps(&outer));
        assert!(outer.contains(&inner));
        assert!(!inner.contains(&outer));
        assert!(outer.contains(&outer));
    }

    #[test]
    fn padding_widens_both_ends() {
        let a = span("2026-05-04T08:00:00Z", "2026-05-04T08:30:00Z");
        let padded = a.padded(SignedDuration::from_mins(5), SignedDuration::from_mins(10));
        assert_eq!(padded, span("2026-05-04T07:55:00Z", "2026-05-04T08:40:00Z"));
        assert_eq!(padded.duration(), SignedDuration::from_mins(45));
    }

    #[test]
    fn negative_padding_counts_as_zero() {
        let a = span("2026-05-04T08:00:00Z", "2026-05-04T08:30:00Z");
        let padded = a.padded(
            SignedDuration::from_mins(-20),
            SignedDuration::from_mins(-40),
        );
        assert_eq!(padded, a);
    }

    #[test]
    fn padding_saturates_at_the_end_of_time() {
        let a = Span::new(ts("2026-05-04T08:00:00Z"), Timestamp::MAX).unwrap();
        let padded = a.padded(SignedDuration::ZERO, SignedDuration::from_hours(1));
        assert_eq!(padded.end, Timestamp::MAX);
    }
}
