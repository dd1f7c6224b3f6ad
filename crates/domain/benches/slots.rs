//! How long one slot search takes on a realistic calendar. Prints numbers; asserts nothing.
//!
//! Run with `cargo bench -p termin-domain --bench slots`. Each practitioner works
//! Mon–Fri 08:00–12:00 and 14:00–18:00, about 70 % of the quarter hours are booked with
//! 15-minute appointments, and there are a few absences (a day off, a weekly afternoon).

use std::hint::black_box;
use std::time::{Duration, Instant};

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use termin_domain::ids::{PractitionerId, VisitTypeId};
use termin_domain::schedule::absence::{AbsencePlan, RawAbsencePlan};
use termin_domain::schedule::hours::{RawOpeningRule, WeeklyHours};
use termin_domain::schedule::slots::{CalendarInput, SlotRequest, free_slots};
use termin_domain::schedule::span::Span;

const ITERATIONS: usize = 200;
const WARM_UP: usize = 20;

fn must<T, E: std::fmt::Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what}: {err:?}"),
    }
}

/// A small deterministic generator (xorshift), so that every run books the same cells.
struct Dice(u64);

impl Dice {
    fn roll(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn booked(&mut self) -> bool {
        self.roll() % 100 < 70
    }
}

fn opening_hours() -> WeeklyHours {
    let mut raw = Vec::new();
    for weekday in ["mon", "tue", "wed", "thu", "fri"] {
        for (start, end) in [("08:00", "12:00"), ("14:00", "18:00")] {
            raw.push(RawOpeningRule {
                weekday: weekday.to_owned(),
                start: start.to_owned(),
                end: end.to_owned(),
                ..RawOpeningRule::default()
            });
        }
    }
    must(WeeklyHours::parse(&raw), "opening hours")
}

fn add_days(day: Date, days: i64) -> Date {
    must(
        day.checked_add(SignedDuration::from_hours(24 * days)),
        "date",
    )
}

/// Booked quarter hours in chronological order, then the absences (as storage would
/// hand them over: two queries, concatenated).
fn blocked(
    tz: &TimeZone,
    hours: &WeeklyHours,
    from: Date,
    days: i64,
    dice: &mut Dice,
    n: i64,
) -> Vec<Span> {
    let quarter = SignedDuration::from_mins(15);
    let mut spans = Vec::new();
    for offset in 0..days {
        let day = add_days(from, offset);
        for (open, close) in hours.intervals_on(day, None) {
            let mut start = must(
                tz.to_ambiguous_timestamp(day.to_datetime(open))
                    .compatible(),
                "open",
            );
            let close = must(
                tz.to_ambiguous_timestamp(day.to_datetime(close))
                    .compatible(),
                "close",
            );
            while start < close {
                let end = must(start.checked_add(quarter), "end");
                if dice.booked() {
                    spans.extend(Span::new(start, end));
                }
                start = end;
            }
        }
    }
    let day_off = add_days(from, 2 + n % 5).to_string();
    let absences = [
        RawAbsencePlan {
            start_date: day_off.clone(),
            end_date: day_off,
            ..RawAbsencePlan::default()
        },
        RawAbsencePlan {
            start_date: add_days(from, 3).to_string(),
            end_date: add_days(from, 3).to_string(),
            start_time: Some("15:00".to_owned()),
            end_time: Some("18:00".to_owned()),
            repeat_weekly_until: Some(add_days(from, days).to_string()),
        },
    ];
    for raw in &absences {
        let plan = must(AbsencePlan::parse(raw), "absence");
        spans.extend(plan.spans(tz, from, add_days(from, days)));
    }
    spans
}

fn run(name: &str, tz: &TimeZone, practitioners: i64, days: i64) {
    let hours = opening_hours();
    let from = date(2026, 6, 1);
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let calendars_data: Vec<(PractitionerId, Vec<Span>)> = (0..practitioners)
        .map(|n| {
            (
                PractitionerId::random(),
                blocked(tz, &hours, from, days, &mut dice, n),
            )
        })
        .collect();
    let calendars: Vec<CalendarInput> = calendars_data
        .iter()
        .map(|(practitioner, blocked)| CalendarInput {
            practitioner: *practitioner,
            hours: &hours,
            blocked,
        })
        .collect();
    let now: Timestamp = must("2026-05-31T12:00:00Z".parse(), "now");
    let req = SlotRequest {
        tz,
        from,
        to: add_days(from, days - 1),
        visit_type: VisitTypeId::random(),
        duration: SignedDuration::from_mins(15),
        buffer_before: SignedDuration::ZERO,
        buffer_after: SignedDuration::ZERO,
        earliest: now,
        latest: must(
            now.checked_add(SignedDuration::from_hours(24 * 90)),
            "horizon",
        ),
    };

    let mut found = 0;
    for _ in 0..WARM_UP {
        found = black_box(free_slots(black_box(&req), black_box(&calendars))).len();
    }
    let mut times: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let started = Instant::now();
            let slots = free_slots(black_box(&req), black_box(&calendars));
            let elapsed = started.elapsed();
            black_box(slots);
            elapsed
        })
        .collect();
    times.sort_unstable();
    let median = times[ITERATIONS / 2];
    let p99 = times[(ITERATIONS * 99).div_ceil(100) - 1];
    let blocked: usize = calendars.iter().map(|c| c.blocked.len()).sum();
    println!(
        "slots {name}: median {} µs, p99 {} µs ({found} slots, {blocked} blocked spans, {ITERATIONS} iterations)",
        median.as_micros(),
        p99.as_micros(),
    );
}

fn main() {
    let tz = must(TimeZone::get("Europe/Berlin"), "zone");
    run("1x4w", &tz, 1, 28);
    run("50x1w", &tz, 50, 7);
}
