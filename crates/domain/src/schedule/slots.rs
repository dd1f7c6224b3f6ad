//! The slot engine: which start times can be offered for a visit.
//!
//! For each practitioner, date and opening interval that admits the visit type, the
//! candidates are the wall-clock times `open`, `open + d`, `open + 2d`, … before `close`,
//! where `d` is the visit's duration. A candidate becomes a slot when the visit fits before
//! the interval closes, lies between the earliest and latest allowed start, and its window
//! widened by the buffers touches no blocked span.
//!
//! # Daylight saving time
//!
//! Candidates are planned in civil time and only then mapped to instants in the practice's
//! zone, by one rule:
//!
//! - **Wall times as planned.** The grid is the practitioner's plan ("every 30 minutes from
//!   01:00"), so a slot's wall-clock time is always on it. Nothing is re-anchored after a
//!   clock change: on 2026-03-29 in Berlin a 45-minute grid from 01:00 offers 01:00, 01:45,
//!   03:15, 04:00, never a shifted 03:00.
//! - **Nothing invented in a gap.** A wall time that does not exist (02:30 on the spring
//!   night) is skipped. Moving it to 03:30 would offer a time nobody planned and that may
//!   collide with the grid after the gap.
//! - **A fold is two real hours.** A wall time that happens twice (02:30 on the autumn
//!   night) is offered twice, once per instant: the practitioner really works both hours.
//!
//! The interval's closing time is read as the later instant when it is ambiguous (in a
//! gap: the first instant after it; in a fold: its second occurrence), so an interval never
//! closes before its wall-clock end. A slot lasts exactly the visit's duration in real
//! time; its end may show a different wall-clock offset than its start.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use super::hours::{WeeklyHours, add_days};
use super::span::Span;
use crate::ids::{PractitionerId, VisitTypeId};

/// Durations below this are no visit; the guard keeps a bad input from asking for a grid
/// of billions of candidates.
const MIN_DURATION: SignedDuration = SignedDuration::from_mins(1);

/// What is being booked, and when it may start.
#[derive(Debug, Clone, Copy)]
pub struct SlotRequest<'a> {
    /// The practice's zone, in which opening hours are meant.
    pub tz: &'a TimeZone,
    pub from: Date,
    /// Inclusive.
    pub to: Date,
    pub visit_type: VisitTypeId,
    pub duration: SignedDuration,
    /// Free time needed before the visit; negative counts as zero.
    pub buffer_before: SignedDuration,
    /// Free time needed after the visit; negative counts as zero.
    pub buffer_after: SignedDuration,
    /// No slot starts before this (now plus the minimum lead time).
    pub earliest: Timestamp,
    /// No slot starts after this (now plus the booking horizon).
    pub latest: Timestamp,
}

/// One practitioner's calendar as the engine needs it.
#[derive(Debug, Clone, Copy)]
pub struct CalendarInput<'a> {
    pub practitioner: PractitionerId,
    pub hours: &'a WeeklyHours,
    /// Absences and existing appointments (already widened by their buffers), any order,
    /// overlaps allowed.
    pub blocked: &'a [Span],
}

/// A start that can be offered: `end - start` is the visit's duration in real time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
    pub practitioner: PractitionerId,
}

/// All free slots of the calendars for the request, sorted by (start, practitioner),
/// without duplicates.
pub fn free_slots(req: &SlotRequest, calendars: &[CalendarInput]) -> Vec<Slot> {
    if req.duration < MIN_DURATION || req.earliest > req.latest {
        return Vec::new();
    }
    let mut days = plan_days(req);
    let mut slots = Vec::new();
    let mut scratch = Vec::new();
    // Calendars in practitioner order, so that a stable sort by start alone yields the
    // order by (start, practitioner): equal starts are common and this spares comparing ids.
    let mut ordered: Vec<&CalendarInput> = calendars.iter().collect();
    ordered.sort_by_key(|calendar| calendar.practitioner);
    for calendar in ordered {
        let blocked = Blocked::new(calendar.blocked, req, &mut scratch);
        let mut cursor = Cursor::new(&blocked);
        for day in &mut days {
            for (open, close) in calendar.hours.intervals_on(day.date, Some(req.visit_type)) {
                for &(start, end) in day.candidates(req, open, close) {
                    if cursor.allows(start) {
                        slots.push(Slot {
                            start,
                            end,
                            practitioner: calendar.practitioner,
                        });
                    }
                }
            }
        }
    }
    slots.sort_by_key(|slot| slot.start);
    slots.dedup();
    slots
}

/// A date of the request: how its wall times map to instants, and the candidates of each
/// opening interval met so far (practitioners mostly share their hours, so each interval's
/// grid is worked out once per call).
struct Day<'a> {
    date: Date,
    tz: &'a TimeZone,
    /// `Some` when one offset holds for every wall time of the date (see [`fixed_offset`]):
    /// then wall-clock steps are real-time steps.
    fixed: Option<Offset>,
    grids: Vec<Grid>,
}

/// The candidates `(start, end)` of one opening interval, sorted by start, already within
/// the interval, the lead time and the horizon; only blocked time is left to check.
struct Grid {
    open: Time,
    close: Time,
    candidates: Vec<(Timestamp, Timestamp)>,
}

/// The request's dates, cut to those on which a start between `earliest` and `latest` can
/// fall (with a day's margin, since a fold may cross midnight).
fn plan_days<'a>(req: &SlotRequest<'a>) -> Vec<Day<'a>> {
    let first = add_days(req.tz.to_datetime(req.earliest).date(), -1).unwrap_or(req.from);
    let last = add_days(req.tz.to_datetime(req.latest).date(), 1).unwrap_or(req.to);
    let (from, to) = (req.from.max(first), req.to.min(last));
    let mut days = Vec::new();
    let mut date = from;
    while date <= to {
        days.push(Day {
            date,
            tz: req.tz,
            fixed: fixed_offset(req.tz, date),
            grids: Vec::new(),
        });
        match add_days(date, 1) {
            Some(next) => date = next,
            None => break,
        }
    }
    days
}

/// The single offset of `date` when both midnights around it are unambiguous with that
/// offset and no transition lies between them. Then every wall time of the date exists
/// exactly once: a fold or gap inside the date would need a transition in between, and
/// one just outside it would make a midnight ambiguous.
fn fixed_offset(tz: &TimeZone, date: Date) -> Option<Offset> {
    let next = add_days(date, 1)?;
    let midnight = |d: Date| tz.to_ambiguous_timestamp(d.to_datetime(Time::midnight()));
    let (start, end) = (midnight(date), midnight(next));
    let (AmbiguousOffset::Unambiguous { offset }, AmbiguousOffset::Unambiguous { offset: later }) =
        (start.offset(), end.offset())
    else {
        return None;
    };
    if offset != later {
        return None;
    }
    let start = offset.to_timestamp(start.datetime()).ok()?;
    let end = offset.to_timestamp(end.datetime()).ok()?;
    match tz.following(start).next() {
        Some(transition) if transition.timestamp() < end => None,
        _ => Some(offset),
    }
}

impl Day<'_> {
    /// The candidates of the interval `open..close` on this date, worked out on first use.
    fn candidates(
        &mut self,
        req: &SlotRequest,
        open: Time,
        close: Time,
    ) -> &[(Timestamp, Timestamp)] {
        let index = match self
            .grids
            .iter()
            .position(|g| g.open == open && g.close == close)
        {
            Some(index) => index,
            None => {
                let candidates = self.grid(req, open, close);
                self.grids.push(Grid {
                    open,
                    close,
                    candidates,
                });
                self.grids.len() - 1
            }
        };
        &self.grids[index].candidates
    }

    fn grid(&self, req: &SlotRequest, open: Time, close: Time) -> Vec<(Timestamp, Timestamp)> {
        let mut candidates = Vec::new();
        let Some(closing) = self.closing(close) else {
            return candidates;
        };
        // The last start whose visit still ends by closing time.
        let Ok(last_start) = closing.checked_sub(req.duration) else {
            return candidates;
        };
        let last_start = last_start.min(req.latest);
        if let Some(offset) = self.fixed {
            // One offset all day: wall-clock steps are real-time steps.
            let Ok(mut start) = offset.to_timestamp(self.date.to_datetime(open)) else {
                return candidates;
            };
            // The grid steps by the duration, so each visit ends where the next one starts.
            while start <= last_start {
                let Ok(end) = start.checked_add(req.duration) else {
                    break;
                };
                if start >= req.earliest {
                    candidates.push((start, end));
                }
                start = end;
            }
            return candidates;
        }
        let mut offer = |start: Timestamp| {
            if start >= req.earliest
                && start <= last_start
                && let Ok(end) = start.checked_add(req.duration)
            {
                candidates.push((start, end));
            }
        };
        let mut time = open;
        while time < close {
            for start in self.instants(time).into_iter().flatten() {
                offer(start);
            }
            match time.checked_add(req.duration) {
                Ok(next) => time = next,
                Err(_) => break,
            }
        }
        // A fold interleaves the two passes through the repeated hour.
        candidates.sort_unstable();
        candidates
    }

    /// Every instant the wall time denotes: none in a gap, two in a fold (earlier first).
    fn instants(&self, time: Time) -> [Option<Timestamp>; 2] {
        let dt = self.date.to_datetime(time);
        match self.tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset } => [offset.to_timestamp(dt).ok(), None],
            AmbiguousOffset::Gap { .. } => [None, None],
            AmbiguousOffset::Fold { before, after } => {
                [before.to_timestamp(dt).ok(), after.to_timestamp(dt).ok()]
            }
        }
    }

    /// The instant an interval closes at: the later one when the wall time is ambiguous.
    fn closing(&self, time: Time) -> Option<Timestamp> {
        let dt: DateTime = self.date.to_datetime(time);
        match self.fixed {
            Some(offset) => offset.to_timestamp(dt).ok(),
            None => self.tz.to_ambiguous_timestamp(dt).later().ok(),
        }
    }
}

/// The starts a calendar's blocked time forbids, as sorted, disjoint open intervals.
///
/// A visit starting at `s` occupies `[s - before, s + duration + after)`; it overlaps the
/// blocked span `[b, e)` exactly when `b - duration - after < s < e + before`.
struct Blocked(Vec<(Timestamp, Timestamp)>);

impl Blocked {
    /// `scratch` is reused across calendars to spare an allocation each.
    fn new(spans: &[Span], req: &SlotRequest, scratch: &mut Vec<Span>) -> Blocked {
        scratch.clear();
        scratch.extend(spans.iter().filter(|span| span.start < span.end));
        // Stable on purpose: storage hands over long sorted runs (appointments, then
        // absences), which this sort merges instead of sorting afresh.
        scratch.sort_by_key(|span| span.start);
        // Union the blocked time first (touching spans join), so fewer spans need shifting.
        let mut united: Vec<Span> = Vec::with_capacity(scratch.len());
        for &span in scratch.iter() {
            match united.last_mut() {
                Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
                _ => united.push(span),
            }
        }
        let before = req.buffer_before.max(SignedDuration::ZERO);
        let reach = req
            .duration
            .checked_add(req.buffer_after.max(SignedDuration::ZERO))
            .unwrap_or(SignedDuration::MAX);
        let mut forbidden: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(united.len());
        for span in united {
            let low = span.start.checked_sub(reach).unwrap_or(Timestamp::MIN);
            let high = if before.is_zero() {
                span.end
            } else {
                span.end.checked_add(before).unwrap_or(Timestamp::MAX)
            };
            match forbidden.last_mut() {
                // Open intervals that only touch stay apart: the shared point is allowed.
                Some(last) if low < last.1 => last.1 = last.1.max(high),
                _ => forbidden.push((low, high)),
            }
        }
        Blocked(forbidden)
    }
}

/// Answers "may a visit start here?" for one calendar; moves forward through the forbidden
/// intervals while the questions come in order, and searches when they jump back.
struct Cursor<'b> {
    forbidden: &'b [(Timestamp, Timestamp)],
    index: usize,
    last: Option<Timestamp>,
}

impl<'b> Cursor<'b> {
    fn new(blocked: &'b Blocked) -> Cursor<'b> {
        Cursor {
            forbidden: &blocked.0,
            index: 0,
            last: None,
        }
    }

    fn allows(&mut self, start: Timestamp) -> bool {
        if self.last.is_none_or(|last| start < last) {
            self.index = self.forbidden.partition_point(|&(_, high)| high <= start);
        } else {
            while self
                .forbidden
                .get(self.index)
                .is_some_and(|&(_, high)| high <= start)
            {
                self.index += 1;
            }
        }
        self.last = Some(start);
        self.forbidden
            .get(self.index)
            .is_none_or(|&(low, _)| low >= start)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::schedule::hours::RawOpeningRule;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn hours(rules: &[(&str, &str, &str)]) -> WeeklyHours {
        let raw: Vec<RawOpeningRule> = rules
            .iter()
            .map(|&(weekday, start, end)| RawOpeningRule {
                weekday: weekday.to_owned(),
                start: start.to_owned(),
                end: end.to_owned(),
                ..RawOpeningRule::default()
            })
            .collect();
        WeeklyHours::parse(&raw).unwrap()
    }

    fn request(tz: &TimeZone, day: Date, minutes: i64) -> SlotRequest<'_> {
        SlotRequest {
            tz,
            from: day,
            to: day,
            visit_type: VisitTypeId::random(),
            duration: SignedDuration::from_mins(minutes),
            buffer_before: SignedDuration::ZERO,
            buffer_after: SignedDuration::ZERO,
            earliest: Timestamp::MIN,
            latest: Timestamp::MAX,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn span(start: &str, end: &str) -> Span {
        Span::new(ts(start), ts(end)).unwrap()
    }

    /// Slot starts as Berlin wall-clock times with their offsets.
    fn walls(slots: &[Slot]) -> Vec<String> {
        slots
            .iter()
            .map(|slot| {
                slot.start
                    .to_zoned_datetime(berlin())
                    .strftime("%H:%M%:z")
                    .to_string()
            })
            .collect()
    }

    fn one<'a>(hours: &'a WeeklyHours, blocked: &'a [Span]) -> [CalendarInput<'a>; 1] {
        [CalendarInput {
            practitioner: PractitionerId::random(),
            hours,
            blocked,
        }]
    }

    #[test]
    fn an_ordinary_morning_is_cut_into_visits() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 5, 4), 30),
            &one(&hours(&[("mon", "08:00", "10:00")]), &[]),
        );
        assert_eq!(
            walls(&slots),
            ["08:00+02:00", "08:30+02:00", "09:00+02:00", "09:30+02:00"]
        );
        assert_eq!(slots[0].start, ts("2026-05-04T06:00:00Z"));
        assert_eq!(slots[0].end, ts("2026-05-04T06:30:00Z"));
    }

    #[test]
    fn the_grid_steps_by_the_duration_and_a_visit_must_end_by_closing() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 5, 4), 45),
            &one(&hours(&[("mon", "08:00", "10:00")]), &[]),
        );
        assert_eq!(walls(&slots), ["08:00+02:00", "08:45+02:00"]);
    }

    #[test]
    fn wall_times_in_the_spring_gap_are_skipped_not_shifted() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 3, 29), 30),
            &one(&hours(&[("sun", "01:00", "05:00")]), &[]),
        );
        assert_eq!(
            walls(&slots),
            [
                "01:00+01:00",
                "01:30+01:00",
                "03:00+02:00",
                "03:30+02:00",
                "04:00+02:00",
                "04:30+02:00",
            ]
        );
        // The 01:30 visit lasts 30 real minutes and ends at 03:00 CEST.
        assert_eq!(slots[1].end, ts("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn after_the_spring_gap_the_grid_is_not_re_anchored() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 3, 29), 45),
            &one(&hours(&[("sun", "01:00", "05:00")]), &[]),
        );
        // 01:00, 01:45, (02:30 does not exist), 03:15, 04:00; 04:45 would end after 05:00.
        assert_eq!(
            walls(&slots),
            ["01:00+01:00", "01:45+01:00", "03:15+02:00", "04:00+02:00"]
        );
    }

    #[test]
    fn wall_times_in_the_autumn_fold_are_offered_twice() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 10, 25), 30),
            &one(&hours(&[("sun", "01:00", "04:00")]), &[]),
        );
        assert_eq!(
            walls(&slots),
            [
                "01:00+02:00",
                "01:30+02:00",
                "02:00+02:00",
                "02:30+02:00",
                "02:00+01:00",
                "02:30+01:00",
                "03:00+01:00",
                "03:30+01:00",
            ]
        );
        assert_eq!(slots[0].start, ts("2026-10-24T23:00:00Z"));
        assert_eq!(slots[7].end, ts("2026-10-25T03:00:00Z"));
    }

    #[test]
    fn an_interval_closing_in_the_gap_closes_after_it() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 3, 29), 60),
            &one(&hours(&[("sun", "00:00", "02:30")]), &[]),
        );
        // 02:30 does not exist; the interval closes at 03:30 CEST, so the 01:00 visit
        // (ending 03:00 CEST) fits.
        assert_eq!(walls(&slots), ["00:00+01:00", "01:00+01:00"]);
    }

    #[test]
    fn an_interval_closing_in_the_fold_closes_at_the_second_occurrence() {
        let tz = berlin();
        let slots = free_slots(
            &request(&tz, date(2026, 10, 25), 60),
            &one(&hours(&[("sun", "01:00", "02:30")]), &[]),
        );
        // Closing is 02:30 CET (01:30Z): the first 02:00 fits, the second would end 03:00 CET.
        assert_eq!(walls(&slots), ["01:00+02:00", "02:00+02:00"]);
    }

    #[test]
    fn buffers_keep_distance_from_blocked_time() {
        let tz = berlin();
        let hours = hours(&[("mon", "08:00", "11:00")]);
        let blocked = [span("2026-05-04T07:00:00Z", "2026-05-04T07:30:00Z")];
        let calendars = one(&hours, &blocked);
        let plain = request(&tz, date(2026, 5, 4), 30);
        assert_eq!(
            walls(&free_slots(&plain, &calendars)),
            [
                "08:00+02:00",
                "08:30+02:00",
                "09:30+02:00",
                "10:00+02:00",
                "10:30+02:00"
            ]
        );
        let buffered = SlotRequest {
            buffer_before: SignedDuration::from_mins(10),
            buffer_after: SignedDuration::from_mins(10),
            ..plain
        };
        assert_eq!(
            walls(&free_slots(&buffered, &calendars)),
            ["08:00+02:00", "10:00+02:00", "10:30+02:00"]
        );
    }

    #[test]
    fn a_slot_touching_blocked_time_is_free() {
        let tz = berlin();
        let hours = hours(&[("mon", "08:00", "09:30")]);
        let blocked = [span("2026-05-04T06:30:00Z", "2026-05-04T07:00:00Z")];
        let calendars = one(&hours, &blocked);
        assert_eq!(
            walls(&free_slots(&request(&tz, date(2026, 5, 4), 30), &calendars)),
            ["08:00+02:00", "09:00+02:00"]
        );
    }

    #[test]
    fn a_visit_that_exactly_fills_a_gap_is_offered() {
        let tz = berlin();
        let hours = hours(&[("mon", "08:00", "10:00")]);
        // Booked 08:00–08:55 and 09:35–10:00 (wall): with 5-minute buffers on each side a
        // 30-minute visit at 09:00 needs exactly 08:55–09:35.
        let blocked = [
            span("2026-05-04T06:00:00Z", "2026-05-04T06:55:00Z"),
            span("2026-05-04T07:35:00Z", "2026-05-04T08:00:00Z"),
        ];
        let req = SlotRequest {
            buffer_before: SignedDuration::from_mins(5),
            buffer_after: SignedDuration::from_mins(5),
            ..request(&tz, date(2026, 5, 4), 30)
        };
        assert_eq!(
            walls(&free_slots(&req, &one(&hours, &blocked))),
            ["09:00+02:00"]
        );
    }

    #[test]
    fn overlapping_unsorted_blocked_spans_are_all_honoured() {
        let tz = berlin();
        let hours = hours(&[("mon", "08:00", "12:00")]);
        let blocked = [
            span("2026-05-04T09:00:00Z", "2026-05-04T09:30:00Z"),
            span("2026-05-04T06:00:00Z", "2026-05-04T07:00:00Z"),
            span("2026-05-04T06:15:00Z", "2026-05-04T07:15:00Z"),
            span("2026-05-04T06:20:00Z", "2026-05-04T06:40:00Z"),
        ];
        let calendars = one(&hours, &blocked);
        assert_eq!(
            walls(&free_slots(&request(&tz, date(2026, 5, 4), 30), &calendars)),
            ["09:30+02:00", "10:00+02:00", "10:30+02:00", "11:30+02:00"]
        );
    }

    #[test]
    fn lead_time_and_horizon_are_inclusive_bounds_on_the_start() {
        let tz = berlin();
        let limited = SlotRequest {
            earliest: ts("2026-05-04T06:30:00Z"),
            latest: ts("2026-05-04T07:30:00Z"),
            ..request(&tz, date(2026, 5, 4), 30)
        };
        let hours = hours(&[("mon", "08:00", "11:00")]);
        let calendars = one(&hours, &[]);
        assert_eq!(
            walls(&free_slots(&limited, &calendars)),
            ["08:30+02:00", "09:00+02:00", "09:30+02:00"]
        );
        let one_ns_late = SlotRequest {
            earliest: ts("2026-05-04T06:30:00.000000001Z"),
            ..limited
        };
        assert_eq!(
            walls(&free_slots(&one_ns_late, &calendars)),
            ["09:00+02:00", "09:30+02:00"]
        );
    }

    #[test]
    fn days_outside_lead_time_and_horizon_give_nothing() {
        let tz = berlin();
        let req = SlotRequest {
            from: date(2026, 5, 1),
            to: date(2026, 5, 31),
            earliest: ts("2026-05-11T00:00:00Z"),
            latest: ts("2026-05-12T00:00:00Z"),
            ..request(&tz, date(2026, 5, 4), 60)
        };
        let slots = free_slots(&req, &one(&hours(&[("mon", "08:00", "10:00")]), &[]));
        assert_eq!(walls(&slots), ["08:00+02:00", "09:00+02:00"]);
        assert_eq!(slots[0].start, ts("2026-05-11T06:00:00Z"));
    }

    #[test]
    fn a_rule_for_other_visit_types_offers_nothing() {
        let tz = berlin();
        let req = request(&tz, date(2026, 5, 4), 30);
        let raw = |ids: Vec<String>| RawOpeningRule {
            weekday: "mon".to_owned(),
            start: "08:00".to_owned(),
            end: "09:00".to_owned(),
            visit_type_ids: ids,
            ..RawOpeningRule::default()
        };
        let other = WeeklyHours::parse(&[raw(vec![VisitTypeId::random().to_string()])]).unwrap();
        assert!(free_slots(&req, &one(&other, &[])).is_empty());
        let own = WeeklyHours::parse(&[raw(vec![req.visit_type.to_string()])]).unwrap();
        assert_eq!(free_slots(&req, &one(&own, &[])).len(), 2);
    }

    #[test]
    fn slots_of_several_practitioners_come_sorted_by_start_then_practitioner() {
        let tz = berlin();
        let morning = hours(&[("mon", "08:00", "09:00")]);
        let early = hours(&[("mon", "07:30", "08:30")]);
        let (a, b) = {
            let (x, y) = (PractitionerId::random(), PractitionerId::random());
            (x.min(y), x.max(y))
        };
        let calendars = [
            CalendarInput {
                practitioner: b,
                hours: &morning,
                blocked: &[],
            },
            CalendarInput {
                practitioner: a,
                hours: &early,
                blocked: &[],
            },
        ];
        let slots = free_slots(&request(&tz, date(2026, 5, 4), 30), &calendars);
        let got: Vec<(String, PractitionerId)> = walls(&slots)
            .into_iter()
            .zip(slots.iter().map(|s| s.practitioner))
            .collect();
        assert_eq!(
            got,
            [
                ("07:30+02:00".to_owned(), a),
                ("08:00+02:00".to_owned(), a),
                ("08:00+02:00".to_owned(), b),
                ("08:30+02:00".to_owned(), b),
            ]
        );
    }

    #[test]
    fn the_same_calendar_twice_gives_no_duplicates() {
        let tz = berlin();
        let hours = hours(&[("mon", "08:00", "09:00")]);
        let calendar = CalendarInput {
            practitioner: PractitionerId::random(),
            hours: &hours,
            blocked: &[],
        };
        let slots = free_slots(&request(&tz, date(2026, 5, 4), 30), &[calendar, calendar]);
        assert_eq!(slots.len(), 2);
    }

    #[test]
    fn a_fortnightly_rule_opens_the_engine_only_in_on_weeks() {
        let tz = berlin();
        let raw = RawOpeningRule {
            weekday: "mon".to_owned(),
            start: "08:00".to_owned(),
            end: "09:00".to_owned(),
            every_weeks: Some(2),
            valid_from: Some("2026-05-04".to_owned()),
            ..RawOpeningRule::default()
        };
        let hours = WeeklyHours::parse(&[raw]).unwrap();
        let req = SlotRequest {
            to: date(2026, 5, 24),
            ..request(&tz, date(2026, 5, 4), 60)
        };
        let slots = free_slots(&req, &one(&hours, &[]));
        let starts: Vec<Timestamp> = slots.iter().map(|s| s.start).collect();
        assert_eq!(
            starts,
            [ts("2026-05-04T06:00:00Z"), ts("2026-05-18T06:00:00Z")]
        );
    }

    #[test]
    fn a_duration_under_a_minute_offers_nothing() {
        let tz = berlin();
        let req = SlotRequest {
            duration: SignedDuration::from_secs(59),
            ..request(&tz, date(2026, 5, 4), 30)
        };
        assert!(free_slots(&req, &one(&hours(&[("mon", "08:00", "09:00")]), &[])).is_empty());
    }

    mod blocked_properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn a_slot_is_offered_exactly_when_its_buffered_window_is_free(
                blocked in proptest::collection::vec((0i64..720, 1i64..120), 0..12),
                duration in 5i64..=90,
                before in 0i64..=30,
                after in 0i64..=30,
            ) {
                let tz = berlin();
                let day = date(2026, 5, 4);
                let hours = hours(&[("mon", "08:00", "18:00")]);
                let morning = ts("2026-05-04T05:00:00Z");
                let spans: Vec<Span> = blocked
                    .iter()
                    .map(|&(at, len)| {
                        let start = morning.checked_add(SignedDuration::from_mins(at)).unwrap();
                        Span::new(start, start.checked_add(SignedDuration::from_mins(len)).unwrap()).unwrap()
                    })
                    .collect();
                let req = SlotRequest {
                    buffer_before: SignedDuration::from_mins(before),
                    buffer_after: SignedDuration::from_mins(after),
                    ..request(&tz, day, duration)
                };
                let all = free_slots(&req, &one(&hours, &[]));
                let expected: Vec<Timestamp> = all
                    .iter()
                    .filter(|slot| {
                        let window = Span { start: slot.start, end: slot.end }
                            .padded(req.buffer_before, req.buffer_after);
                        !spans.iter().any(|b| b.overlaps(&window))
                    })
                    .map(|slot| slot.start)
                    .collect();
                let got: Vec<Timestamp> = free_slots(&req, &one(&hours, &spans))
                    .iter()
                    .map(|slot| slot.start)
                    .collect();
                prop_assert_eq!(got, expected);
            }
        }
    }

    mod dst_properties {
        use proptest::prelude::*;

        use super::*;

        /// A date within three days of the last Sunday of March or October.
        fn near_transition(year: i16, october: bool, shift: i64) -> Date {
            let month = if october { 10 } else { 3 };
            let last = date(year, month, 31);
            let sunday = add_days(last, -i64::from(last.weekday().to_sunday_zero_offset()));
            add_days(sunday.unwrap(), shift).unwrap()
        }

        fn every_day(open: Time, close: Time) -> WeeklyHours {
            let raw: Vec<RawOpeningRule> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .map(|weekday| RawOpeningRule {
                    weekday: (*weekday).to_owned(),
                    start: crate::schedule::hours::format_time(open),
                    end: crate::schedule::hours::format_time(close),
                    ..RawOpeningRule::default()
                })
                .collect();
            WeeklyHours::parse(&raw).unwrap()
        }

        /// Every instant that truly shows `dt` on a Berlin clock.
        fn real_instants(tz: &TimeZone, dt: DateTime) -> Vec<Timestamp> {
            let ambiguous = tz.to_ambiguous_timestamp(dt);
            let mut instants: Vec<Timestamp> = [ambiguous.earlier(), ambiguous.later()]
                .into_iter()
                .flatten()
                .filter(|t| tz.to_datetime(*t) == dt)
                .collect();
            instants.dedup();
            instants
        }

        fn minutes(m: u32) -> Time {
            Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).unwrap()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn slots_around_berlin_transitions_keep_the_planned_grid(
                year in 2024i16..=2030,
                october in any::<bool>(),
                shift in -3i64..=3,
                open in prop_oneof![0u32..300, 0u32..1439],
                length in prop_oneof![1u32..300, 1u32..1440],
                duration in 5i64..=120,
            ) {
                let tz = berlin();
                let day = near_transition(year, october, shift);
                let (open, close) = (minutes(open), minutes((open + length).min(1439)));
                let hours = every_day(open, close);
                let practitioners = [PractitionerId::random(), PractitionerId::random()];
                let calendars = practitioners.map(|practitioner| CalendarInput {
                    practitioner,
                    hours: &hours,
                    blocked: &[],
                });
                let req = SlotRequest {
                    from: add_days(day, -1).unwrap(),
                    to: add_days(day, 1).unwrap(),
                    ..request(&tz, day, duration)
                };
                let slots = free_slots(&req, &calendars);
                let step = SignedDuration::from_mins(duration);

                for slot in &slots {
                    // (a) On the planned grid, within the interval, on a requested date.
                    let wall = tz.to_datetime(slot.start);
                    prop_assert!(wall.date() >= req.from && wall.date() <= req.to);
                    prop_assert!(wall.time() >= open && wall.time() < close);
                    let since_open = wall.time().duration_since(open);
                    prop_assert_eq!(since_open.as_nanos() % step.as_nanos(), 0, "off grid: {}", wall);
                    // (d) Exactly the visit's duration in real time.
                    prop_assert_eq!(slot.end.duration_since(slot.start), step);
                }
                // (b) No duplicates: strictly increasing by (start, practitioner).
                for pair in slots.windows(2) {
                    prop_assert!(
                        (pair[0].start, pair[0].practitioner) < (pair[1].start, pair[1].practitioner)
                    );
                }
                // (c) No loss: every existing grid time that fits is offered to everyone.
                let mut expected = 0;
                let mut date = req.from;
                while date <= req.to {
                    let closing = tz.to_ambiguous_timestamp(date.to_datetime(close)).later().unwrap();
                    let mut time = open;
                    while time < close {
                        for start in real_instants(&tz, date.to_datetime(time)) {
                            if start.checked_add(step).unwrap() <= closing {
                                expected += practitioners.len();
                                for practitioner in practitioners {
                                    prop_assert!(
                                        slots.iter().any(|s| s.start == start && s.practitioner == practitioner),
                                        "missing {} {}", date.to_datetime(time), start
                                    );
                                }
                            }
                        }
                        match time.checked_add(step) {
                            Ok(next) => time = next,
                            Err(_) => break,
                        }
                    }
                    date = add_days(date, 1).unwrap();
                }
                prop_assert_eq!(slots.len(), expected);
            }
        }
    }
}
