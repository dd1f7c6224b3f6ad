//! The rules of encrypted backups, free of I/O: how a backup is named, when the daily and
//! weekly runs fall due, which old backups may go, and when an installation counts as
//! protected. The backup crate encrypts, uploads and lists; every question whose answer must
//! not depend on a storage backend or on a clock is answered here, and tested here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::{DomainError, FieldErrors};

/// Serialises a type as its `Display` text and deserialises it through its `parse` (also
/// `FromStr`), so that a value read from a file or the network is as valid as one built in
/// code.
macro_rules! serde_as_text {
    ($name:ident, $error:ident) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw)
                    .map_err(|err| serde::de::Error::custom(format_args!("{raw:?} {err}")))
            }
        }

        impl FromStr for $name {
            type Err = $error;
            fn from_str(raw: &str) -> Result<Self, $error> {
                Self::parse(raw)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Backup ids

/// The id of one backup: its creation time in UTC to the second, then 32 random bits, e.g.
/// `20260329T010000Z-9f86d081`.
///
/// The id names the backup's objects in every store, so the parser admits exactly this shape
/// and nothing else: no `/`, no `..`, no upper case, no extra characters, no impossible date.
/// The time comes first so that the text order is the time order, which listings and
/// retention rely on; the random part keeps apart two runs that start in the same second.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackupId {
    // The derived order compares `raw` first, and `created_at` follows from `raw`: the text
    // decides the order.
    raw: String,
    created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a backup id (YYYYMMDDTHHMMSSZ-xxxxxxxx: a UTC time and 8 lower-case hex digits)")]
pub struct InvalidBackupId;

/// The length of `YYYYMMDDTHHMMSSZ-xxxxxxxx`.
const ID_LEN: usize = 25;

/// 0000-01-01T00:00:00Z, the earliest time a four-digit year can show. No real clock is
/// earlier; `BackupId::new` clamps to it so that the shape always holds.
const EARLIEST_ID_TIME: Timestamp = Timestamp::constant(-62_167_219_200, 0);

impl BackupId {
    /// The id of a backup created at `created_at` (sub-seconds dropped), with `random` from
    /// the OS random source.
    pub fn new(created_at: Timestamp, random: [u8; 4]) -> Self {
        let created_at = floor_to_second(created_at.max(EARLIEST_ID_TIME));
        let t = TimeZone::UTC.to_datetime(created_at);
        let [a, b, c, d] = random;
        let raw = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{a:02x}{b:02x}{c:02x}{d:02x}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        );
        Self { raw, created_at }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidBackupId> {
        let b = raw.as_bytes();
        if b.len() != ID_LEN {
            return Err(InvalidBackupId);
        }
        let digits = |from: usize, to: usize| b[from..to].iter().all(u8::is_ascii_digit);
        let shape = digits(0, 8)
            && b[8] == b'T'
            && digits(9, 15)
            && b[15] == b'Z'
            && b[16] == b'-'
            && b[17..]
                .iter()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if !shape {
            return Err(InvalidBackupId);
        }
        // Two ASCII digits, at most 99: fits an i8.
        let two = |at: usize| ((b[at] - b'0') * 10 + (b[at + 1] - b'0')) as i8;
        let year = i16::from(two(0)) * 100 + i16::from(two(2));
        let date = Date::new(year, two(4), two(6)).map_err(|_| InvalidBackupId)?;
        let time = Time::new(two(9), two(11), two(13), 0).map_err(|_| InvalidBackupId)?;
        let created_at = Offset::UTC
            .to_timestamp(date.to_datetime(time))
            .map_err(|_| InvalidBackupId)?;
        Ok(Self {
            raw: raw.to_owned(),
            created_at,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// When the backup was created, to the second.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
}

/// Rounds down to the whole second (towards the past, also before 1970).
fn floor_to_second(at: Timestamp) -> Timestamp {
    let second = if at.subsec_nanosecond() < 0 {
        at.as_second() - 1
    } else {
        at.as_second()
    };
    // Rounding down a time at or after EARLIEST_ID_TIME (a whole second) stays in range.
    Timestamp::from_second(second).unwrap_or(at)
}

impl fmt::Display for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

serde_as_text!(BackupId, InvalidBackupId);

// ---------------------------------------------------------------------------------------------
// Target names

/// The name of a backup target in the operator's configuration, e.g. `offsite` or `nas-2`:
/// 1–40 of `a-z`, `0-9`, `_` and `-`, starting with a letter or digit. It shows up in logs,
/// status output and metrics, so it is kept to characters that need no quoting anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be 1–40 characters of a–z, 0–9, '_' and '-', starting with a letter or digit")]
pub struct InvalidTargetName;

impl TargetName {
    pub const MAX_LEN: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, InvalidTargetName> {
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        let ok_first = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok_chars && ok_first && raw.len() <= Self::MAX_LEN {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidTargetName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TargetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_as_text!(TargetName, InvalidTargetName);

// ---------------------------------------------------------------------------------------------
// Schedules

/// A time of day on the 24-hour clock, to the minute: when the daily backup runs, in the
/// installation's time zone. Written `H:MM` or `HH:MM`; `24:00`, seconds and anything
/// around the time are refused, so that a typo in the configuration stops the start instead
/// of moving the backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DailyAt(Time);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a time of day as HH:MM, from 00:00 to 23:59")]
pub struct InvalidDailyAt;

impl Default for DailyAt {
    /// 02:00: the quietest hour of a practice, before the first early appointments.
    fn default() -> Self {
        Self(Time::constant(2, 0, 0, 0))
    }
}

impl DailyAt {
    pub fn parse(raw: &str) -> Result<Self, InvalidDailyAt> {
        let (hour, minute) = raw.split_once(':').ok_or(InvalidDailyAt)?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !(1..=2).contains(&hour.len()) || minute.len() != 2 || !digits(hour) || !digits(minute) {
            return Err(InvalidDailyAt);
        }
        let hour: i8 = hour.parse().map_err(|_| InvalidDailyAt)?;
        let minute: i8 = minute.parse().map_err(|_| InvalidDailyAt)?;
        Time::new(hour, minute, 0, 0)
            .map(Self)
            .map_err(|_| InvalidDailyAt)
    }

    pub fn hour(self) -> i8 {
        self.0.hour()
    }

    pub fn minute(self) -> i8 {
        self.0.minute()
    }

    pub fn time(self) -> Time {
        self.0
    }

    /// The most recent instant at or before `now` at which the daily run fell due in `zone`:
    /// today's time of day if it has come, else yesterday's. A run that finds no backup since
    /// this instant is owed one. See [`due_on`] for the days the clocks change.
    pub fn latest_slot(self, now: Timestamp, zone: &TimeZone) -> Timestamp {
        let today = zone.to_datetime(now).date();
        match due_on(today, self.0, zone) {
            Some(due) if due <= now => due,
            // Only at the ends of jiff's range (year ±9999) is there no yesterday.
            _ => today
                .yesterday()
                .ok()
                .and_then(|day| due_on(day, self.0, zone))
                .unwrap_or(now),
        }
    }

    /// The first instant strictly after `now` at which the daily run falls due in `zone`:
    /// what a scheduler sleeps until.
    pub fn next_slot(self, now: Timestamp, zone: &TimeZone) -> Timestamp {
        let today = zone.to_datetime(now).date();
        match due_on(today, self.0, zone) {
            Some(due) if due > now => due,
            // Only at the ends of jiff's range (year ±9999) is there no tomorrow.
            _ => today
                .tomorrow()
                .ok()
                .and_then(|day| due_on(day, self.0, zone))
                .unwrap_or(now),
        }
    }
}

impl fmt::Display for DailyAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

serde_as_text!(DailyAt, InvalidDailyAt);

/// The instant at which a run planned for `time` on `date` falls due in `zone`.
///
/// On the day the clocks go forward a time in the skipped hour (02:30 in Berlin) falls due
/// when the gap ends (03:00 summer time), the first instant whose wall-clock time is not
/// before it: the run is neither lost nor moved later than it must. (jiff's "compatible"
/// reading would give 03:30, an hour after the gap.) On the day the clocks go back a time
/// in the repeated hour falls due once, at the earlier of its two instants, so there are
/// never two runs that day. `None` only at the ends of jiff's range.
fn due_on(date: Date, time: Time, zone: &TimeZone) -> Option<Timestamp> {
    let wall = date.to_datetime(time);
    let ambiguous = zone.to_ambiguous_timestamp(wall);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { before, after } => {
            // Read with the offset after the gap, the wall time is an instant before the
            // transition; the next transition from there is the end of the gap.
            let ahead = after.to_timestamp(wall).ok()?;
            zone.following(ahead)
                .next()
                .map(|transition| transition.timestamp())
                .or_else(|| before.to_timestamp(wall).ok())
        }
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
            ambiguous.earlier().ok()
        }
    }
}

/// A day of the week and a time of day: when the weekly run (the restore test) falls due.
/// Written `sun 04:00` or `Sunday 04:00`, English day names in any case, one space between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeeklyAt {
    pub weekday: Weekday,
    pub at: DailyAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a day and a time of day, e.g. \"sun 04:00\" or \"Sunday 04:00\"")]
pub struct InvalidWeeklyAt;

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

impl Default for WeeklyAt {
    /// Sunday 04:00: after the daily run of 02:00, on the day a practice is closed.
    fn default() -> Self {
        Self {
            weekday: Weekday::Sunday,
            at: DailyAt(Time::constant(4, 0, 0, 0)),
        }
    }
}

impl WeeklyAt {
    pub fn parse(raw: &str) -> Result<Self, InvalidWeeklyAt> {
        let (day, at) = raw.split_once(' ').ok_or(InvalidWeeklyAt)?;
        let day = day.to_ascii_lowercase();
        let weekday = WEEKDAYS
            .iter()
            .find(|(name, _)| day == *name || day == name[..3])
            .map(|(_, weekday)| *weekday)
            .ok_or(InvalidWeeklyAt)?;
        let at = DailyAt::parse(at).map_err(|_| InvalidWeeklyAt)?;
        Ok(Self { weekday, at })
    }

    /// The most recent instant at or before `now` at which the weekly run fell due in
    /// `zone` (this week's day and time if they have come, else last week's). Clock changes
    /// as for [`DailyAt::latest_slot`].
    pub fn latest_slot(self, now: Timestamp, zone: &TimeZone) -> Timestamp {
        let today = zone.to_datetime(now).date();
        let this_week = if today.weekday() == self.weekday {
            Some(today)
        } else {
            today.nth_weekday(-1, self.weekday).ok()
        };
        match this_week.and_then(|day| due_on(day, self.at.0, zone)) {
            Some(due) if due <= now => due,
            // Only at the ends of jiff's range is there no week before.
            _ => this_week
                .and_then(|day| day.nth_weekday(-1, self.weekday).ok())
                .and_then(|day| due_on(day, self.at.0, zone))
                .unwrap_or(now),
        }
    }

    /// The first instant strictly after `now` at which the weekly run falls due in `zone`.
    pub fn next_slot(self, now: Timestamp, zone: &TimeZone) -> Timestamp {
        let today = zone.to_datetime(now).date();
        let this_week = if today.weekday() == self.weekday {
            Some(today)
        } else {
            today.nth_weekday(1, self.weekday).ok()
        };
        match this_week.and_then(|day| due_on(day, self.at.0, zone)) {
            Some(due) if due > now => due,
            // Only at the ends of jiff's range is there no week after.
            _ => this_week
                .and_then(|day| day.nth_weekday(1, self.weekday).ok())
                .and_then(|day| due_on(day, self.at.0, zone))
                .unwrap_or(now),
        }
    }
}

impl fmt::Display for WeeklyAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = WEEKDAYS
            .iter()
            .find(|(_, weekday)| *weekday == self.weekday)
            .map_or("", |(name, _)| &name[..3]);
        write!(f, "{name} {}", self.at)
    }
}

serde_as_text!(WeeklyAt, InvalidWeeklyAt);

// ---------------------------------------------------------------------------------------------
// Retention

/// How many backups are kept, grandfather-father-son: the newest backup of each of the
/// `daily` most recent days that have one, of each of the `weekly` most recent ISO weeks and
/// of each of the `monthly` most recent months (civil days, weeks and months in the
/// installation's time zone). One backup may count for a day, a week and a month at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    daily: u32,
    weekly: u32,
    monthly: u32,
}

impl Default for Retention {
    /// A week of days, a month of weeks, a year of months.
    fn default() -> Self {
        Self {
            daily: 7,
            weekly: 4,
            monthly: 12,
        }
    }
}

/// One backup as found in a store. Its time comes from the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBackup {
    pub id: BackupId,
    /// A restore test decrypted and checked it. Only such a backup may make older ones go.
    pub verified: bool,
}

impl Retention {
    /// More than this many of a kind is a typo, not a policy.
    pub const MAX: u32 = 1000;

    /// Checks a policy from the configuration. At least one daily backup is kept: a policy
    /// that keeps nothing is not a backup policy.
    pub fn checked(daily: u32, weekly: u32, monthly: u32) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        if !(1..=Self::MAX).contains(&daily) {
            errors.add("daily", "must be between 1 and 1000");
        }
        if weekly > Self::MAX {
            errors.add("weekly", "must be between 0 and 1000");
        }
        if monthly > Self::MAX {
            errors.add("monthly", "must be between 0 and 1000");
        }
        errors.into_result()?;
        Ok(Self {
            daily,
            weekly,
            monthly,
        })
    }

    pub fn daily(&self) -> u32 {
        self.daily
    }

    pub fn weekly(&self) -> u32 {
        self.weekly
    }

    pub fn monthly(&self) -> u32 {
        self.monthly
    }

    /// The backups of one target that may be deleted, oldest first.
    ///
    /// A backup outside the policy goes only when a newer backup exists that a restore test
    /// verified. A broken run of encryption or upload therefore never costs the last good
    /// backup: the newest verified backup is never deleted, nothing is deleted while none is
    /// verified, and at least one backup always remains. The order of `backups` does not
    /// matter; an id listed twice counts once (verified if either entry is).
    pub fn to_delete(&self, backups: &[StoredBackup], zone: &TimeZone) -> Vec<BackupId> {
        let mut verified: BTreeMap<&BackupId, bool> = BTreeMap::new();
        for backup in backups {
            *verified.entry(&backup.id).or_default() |= backup.verified;
        }
        let Some(newest_verified) = verified
            .iter()
            .rev()
            .find(|(_, ok)| **ok)
            .map(|(id, _)| *id)
        else {
            return Vec::new();
        };
        let keep = self.keep(verified.keys().rev().copied(), zone);
        verified
            .keys()
            .take_while(|id| **id < newest_verified)
            .filter(|id| !keep.contains(*id))
            .map(|id| (*id).clone())
            .collect()
    }

    /// The backups the policy keeps, from the ids newest first.
    fn keep<'a>(
        &self,
        newest_first: impl Iterator<Item = &'a BackupId>,
        zone: &TimeZone,
    ) -> BTreeSet<&'a BackupId> {
        let mut days = Periods::new(self.daily);
        let mut weeks = Periods::new(self.weekly);
        let mut months = Periods::new(self.monthly);
        let mut keep = BTreeSet::new();
        for id in newest_first {
            let date = zone.to_datetime(id.created_at()).date();
            let week = date.iso_week_date();
            // `|`, not `||`: every kind must see the backup to count its period.
            let kept = days.claim((date.year(), date.month(), date.day()))
                | weeks.claim((week.year(), week.week(), 0))
                | months.claim((date.year(), date.month(), 0));
            if kept {
                keep.insert(id);
            }
        }
        keep
    }
}

/// The periods (days, weeks or months) of one kind seen so far, newest first, up to the
/// number the policy keeps.
struct Periods {
    limit: usize,
    seen: BTreeSet<(i16, i8, i8)>,
}

impl Periods {
    fn new(limit: u32) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            seen: BTreeSet::new(),
        }
    }

    /// Whether a backup of `period`, seen newest first, is its period's newest and the
    /// period is among the most recent `limit` ones.
    fn claim(&mut self, period: (i16, i8, i8)) -> bool {
        if self.seen.len() >= self.limit || self.seen.contains(&period) {
            return false;
        }
        self.seen.insert(period)
    }
}

// ---------------------------------------------------------------------------------------------
// Health

/// A target whose last successful backup is older than this is stale: a daily run plus half
/// a day of grace, enough for a run delayed by a restart, too little to miss a lost day.
/// Exactly 36 hours is not yet stale.
pub const STALE_AFTER: SignedDuration = SignedDuration::from_hours(36);

/// The promise of the seed is two independent servers: fewer targets is no protection
/// against losing one.
pub const MIN_TARGETS: usize = 2;

/// What is known about one configured target, from the run records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub name: TargetName,
    pub last_success: Option<Timestamp>,
    /// When the last run failed and a short error code (never a secret or a URL).
    pub last_failure: Option<(Timestamp, String)>,
}

/// Whether the installation's data is protected, for the operator and for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupStatus {
    Protected,
    Unprotected,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Protected => "protected",
            Self::Unprotected => "unprotected",
        }
    }
}

/// One reason the installation is not protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum BackupProblem {
    /// Fewer than [`MIN_TARGETS`] distinct targets are configured.
    TooFewTargets { configured: usize },
    /// The target has no successful backup at all.
    NeverSucceeded { target: TargetName },
    /// The newest event of the target is a failure.
    LastRunFailed {
        target: TargetName,
        at: Timestamp,
        error: String,
    },
    /// The target's last success is older than [`STALE_AFTER`].
    Stale {
        target: TargetName,
        last_success: Timestamp,
    },
}

impl BackupProblem {
    /// The machine-readable name, as in the JSON output and the metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooFewTargets { .. } => "too_few_targets",
            Self::NeverSucceeded { .. } => "never_succeeded",
            Self::LastRunFailed { .. } => "last_run_failed",
            Self::Stale { .. } => "stale",
        }
    }
}

impl fmt::Display for BackupProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewTargets { configured } => write!(
                f,
                "{configured} backup target(s) configured; \
                 at least {MIN_TARGETS} independent ones are needed"
            ),
            Self::NeverSucceeded { target } => {
                write!(f, "target {target}: no backup has succeeded yet")
            }
            Self::LastRunFailed { target, at, error } => {
                write!(f, "target {target}: the last run failed at {at}: {error}")
            }
            Self::Stale {
                target,
                last_success,
            } => write!(
                f,
                "target {target}: the last successful backup is from {last_success}, \
                 more than {} hours ago",
                STALE_AFTER.as_hours()
            ),
        }
    }
}

/// The protection status and everything that stands in its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupHealth {
    pub status: BackupStatus,
    pub problems: Vec<BackupProblem>,
}

impl BackupHealth {
    pub fn is_protected(&self) -> bool {
        self.status == BackupStatus::Protected
    }
}

/// Assesses the installation from the facts of its targets at `now`. Protected only without
/// any problem. Problems come in the order of `targets` (for each target: never succeeded,
/// last run failed, stale), after a missing second target. A target without any success
/// that has failed has both problems: the failure carries the error code. A failure at the
/// same instant as the last success does not count as newer. Targets listed twice under one
/// name count once towards [`MIN_TARGETS`].
pub fn assess(targets: &[TargetFacts], now: Timestamp) -> BackupHealth {
    let mut problems = Vec::new();
    let configured = targets
        .iter()
        .map(|t| &t.name)
        .collect::<BTreeSet<_>>()
        .len();
    if configured < MIN_TARGETS {
        problems.push(BackupProblem::TooFewTargets { configured });
    }
    for target in targets {
        if target.last_success.is_none() {
            problems.push(BackupProblem::NeverSucceeded {
                target: target.name.clone(),
            });
        }
        if let Some((at, error)) = &target.last_failure
            && target.last_success.is_none_or(|success| *at > success)
        {
            problems.push(BackupProblem::LastRunFailed {
                target: target.name.clone(),
                at: *at,
                error: error.clone(),
            });
        }
        if let Some(success) = target.last_success
            && now.duration_since(success) > STALE_AFTER
        {
            problems.push(BackupProblem::Stale {
                target: target.name.clone(),
                last_success: success,
            });
        }
    }
    let status = if problems.is_empty() {
        BackupStatus::Protected
    } else {
        BackupStatus::Unprotected
    };
    BackupHealth { status, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::value::{Error as DeError, StrDeserializer};

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn daily(raw: &str) -> DailyAt {
        DailyAt::parse(raw).unwrap()
    }

    fn name(raw: &str) -> TargetName {
        TargetName::parse(raw).unwrap()
    }

    // ----- ids ---------------------------------------------------------------------------

    #[test]
    fn id_round_trips_and_drops_subseconds() {
        let id = BackupId::new(at("2026-03-29T01:00:00.999Z"), [0x9f, 0x86, 0xd0, 0x01]);
        assert_eq!(id.as_str(), "20260329T010000Z-9f86d001");
        assert_eq!(id.to_string(), "20260329T010000Z-9f86d001");
        assert_eq!(id.created_at(), at("2026-03-29T01:00:00Z"));
        let parsed = BackupId::parse(id.as_str()).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.created_at(), id.created_at());
        assert_eq!("20260329T010000Z-9f86d001".parse::<BackupId>(), Ok(id));
    }

    #[test]
    fn id_rounds_down_also_before_1970_and_clamps_to_year_zero() {
        let id = BackupId::new(at("1969-12-31T23:59:59.5Z"), [0, 0, 0, 0]);
        assert_eq!(id.as_str(), "19691231T235959Z-00000000");
        assert_eq!(id.created_at(), at("1969-12-31T23:59:59Z"));
        let id = BackupId::new(Timestamp::MIN, [0xff; 4]);
        assert_eq!(id.as_str(), "00000101T000000Z-ffffffff");
        assert_eq!(BackupId::parse(id.as_str()), Ok(id));
        let id = BackupId::new(Timestamp::MAX, [1, 2, 3, 4]);
        assert_eq!(BackupId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn id_parse_refuses_everything_but_the_exact_shape() {
        let long = format!("{}0", "20260329T010000Z-9f86d081");
        for bad in [
            "",
            "20260329T010000Z-9f86d08",
            long.as_str(),
            "20260329T010000Z-9F86D081",
            "20260329t010000z-9f86d081",
            "20260329T010000Z_9f86d081",
            "20260329T010000Z-9f86d08g",
            "2026032XT010000Z-9f86d081",
            "20260329 010000Z-9f86d081",
            "20260329T010000+-9f86d081",
            " 0260329T010000Z-9f86d081",
            "20260329T010000Z-9f86d08 ",
            "20260329T010000Z-9f86d0/1",
            "20260329T010000Z-9f86..81",
            "../../../../../../etc/pwd",
            "20260230T010000Z-9f86d081",
            "20261301T010000Z-9f86d081",
            "20260329T240000Z-9f86d081",
            "20260329T016000Z-9f86d081",
            "20260329T010060Z-9f86d081",
            "99991231T235959Z-9f86d081",
            "2026-03-29T01:00:00Z-9f86",
        ] {
            assert_eq!(BackupId::parse(bad), Err(InvalidBackupId), "{bad:?}");
        }
        // Multi-byte characters cannot sneak in with a matching byte length either.
        assert_eq!(
            BackupId::parse("2026032９T010000Z-9f86d0"),
            Err(InvalidBackupId)
        );
        assert!(BackupId::parse("20240229T235959Z-00000000").is_ok());
    }

    #[test]
    fn id_order_is_time_order() {
        let mut ids = [
            BackupId::new(at("2026-03-29T01:00:01Z"), [0, 0, 0, 0]),
            BackupId::new(at("2025-12-31T23:59:59Z"), [0xff, 0, 0, 0]),
            BackupId::new(at("2026-03-29T01:00:00Z"), [0xff, 0xff, 0xff, 0xff]),
            BackupId::new(at("2026-03-29T01:00:00Z"), [0, 0, 0, 1]),
        ];
        ids.sort();
        let times: Vec<Timestamp> = ids.iter().map(BackupId::created_at).collect();
        assert!(times.is_sorted());
        assert_eq!(ids[1].as_str(), "20260329T010000Z-00000001");
        assert_eq!(ids[2].as_str(), "20260329T010000Z-ffffffff");
    }

    #[test]
    fn deserialising_validates() {
        let ok =
            BackupId::deserialize(StrDeserializer::<DeError>::new("20260329T010000Z-9f86d081"));
        assert_eq!(ok.unwrap().as_str(), "20260329T010000Z-9f86d081");
        let bad = BackupId::deserialize(StrDeserializer::<DeError>::new("../x"));
        assert!(bad.unwrap_err().to_string().contains("is not a backup id"));
        let bad = TargetName::deserialize(StrDeserializer::<DeError>::new("Offsite"));
        assert!(bad.is_err());
        let ok = WeeklyAt::deserialize(StrDeserializer::<DeError>::new("Sunday 4:00"));
        assert_eq!(ok.unwrap(), WeeklyAt::default());
        assert!(DailyAt::deserialize(StrDeserializer::<DeError>::new("24:00")).is_err());
    }

    // ----- target names ------------------------------------------------------------------

    #[test]
    fn target_names() {
        let forty = "a".repeat(40);
        for good in [
            "a",
            "0",
            "offsite",
            "nas-2",
            "nas_2",
            "1st",
            "a-",
            forty.as_str(),
        ] {
            assert_eq!(TargetName::parse(good).unwrap().as_str(), good);
        }
        let forty_one = "a".repeat(41);
        for bad in [
            "",
            "-a",
            "_a",
            "Offsite",
            "a b",
            "a/b",
            "a.b",
            "..",
            "ä",
            " a",
            forty_one.as_str(),
        ] {
            assert_eq!(TargetName::parse(bad), Err(InvalidTargetName), "{bad:?}");
        }
        assert!(name("b") > name("a-z"));
        assert_eq!(name("nas-2").to_string(), "nas-2");
    }

    // ----- daily and weekly schedules ----------------------------------------------------

    #[test]
    fn daily_at_parses_strictly() {
        for (raw, hour, minute) in [
            ("02:00", 2, 0),
            ("2:00", 2, 0),
            ("0:00", 0, 0),
            ("00:00", 0, 0),
            ("23:59", 23, 59),
            ("9:05", 9, 5),
        ] {
            let at = daily(raw);
            assert_eq!((at.hour(), at.minute()), (hour, minute), "{raw}");
        }
        for bad in [
            "", "24:00", "02:60", "02:00:00", "2", "0200", "02:0", "002:00", ":00", "02:",
            " 02:00", "02:00 ", "+2:00", "-1:00", "02-00", "02h00", "２:00", "02:5x",
        ] {
            assert_eq!(DailyAt::parse(bad), Err(InvalidDailyAt), "{bad:?}");
        }
        assert_eq!(daily("2:00").to_string(), "02:00");
        assert_eq!(DailyAt::default(), daily("02:00"));
        assert_eq!("23:59".parse::<DailyAt>(), Ok(daily("23:59")));
    }

    #[test]
    fn daily_latest_slot_is_today_once_the_time_has_come_else_yesterday() {
        let zone = berlin();
        let two = daily("02:00"); // 01:00Z in winter
        // 01:30 CET: today's 02:00 is still ahead.
        assert_eq!(
            two.latest_slot(at("2026-01-15T00:30:00Z"), &zone),
            at("2026-01-14T01:00:00Z")
        );
        assert_eq!(
            two.latest_slot(at("2026-01-15T00:59:59Z"), &zone),
            at("2026-01-14T01:00:00Z")
        );
        // The due instant itself counts.
        assert_eq!(
            two.latest_slot(at("2026-01-15T01:00:00Z"), &zone),
            at("2026-01-15T01:00:00Z")
        );
        assert_eq!(
            two.latest_slot(at("2026-01-15T22:59:59Z"), &zone),
            at("2026-01-15T01:00:00Z")
        );
        // 00:30 CET on the 16th is already the next civil day; its 02:00 is ahead.
        assert_eq!(
            two.latest_slot(at("2026-01-15T23:30:00Z"), &zone),
            at("2026-01-15T01:00:00Z")
        );
        // In UTC the same time of day is another instant.
        assert_eq!(
            two.latest_slot(at("2026-01-15T01:30:00Z"), &TimeZone::UTC),
            at("2026-01-14T02:00:00Z")
        );
        // Summer time: 02:00 CEST is 00:00Z.
        assert_eq!(
            two.latest_slot(at("2026-07-01T00:00:00Z"), &zone),
            at("2026-07-01T00:00:00Z")
        );
    }

    #[test]
    fn daily_next_slot_is_strictly_after_now() {
        let zone = berlin();
        let two = daily("02:00");
        assert_eq!(
            two.next_slot(at("2026-01-15T00:59:59Z"), &zone),
            at("2026-01-15T01:00:00Z")
        );
        assert_eq!(
            two.next_slot(at("2026-01-15T01:00:00Z"), &zone),
            at("2026-01-16T01:00:00Z")
        );
        assert_eq!(
            daily("0:00").next_slot(at("2026-01-15T22:59:59Z"), &zone),
            at("2026-01-15T23:00:00Z")
        );
    }

    #[test]
    fn a_time_in_the_skipped_hour_falls_due_when_the_gap_ends() {
        // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 never happens.
        let zone = berlin();
        let half_past_two = daily("02:30");
        assert_eq!(
            half_past_two.latest_slot(at("2026-03-29T00:59:59Z"), &zone),
            at("2026-03-28T01:30:00Z")
        );
        assert_eq!(
            half_past_two.latest_slot(at("2026-03-29T01:00:00Z"), &zone),
            at("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            half_past_two.latest_slot(at("2026-03-29T12:00:00Z"), &zone),
            at("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            half_past_two.next_slot(at("2026-03-28T12:00:00Z"), &zone),
            at("2026-03-29T01:00:00Z")
        );
        // The day after: 02:30 CEST again.
        assert_eq!(
            half_past_two.next_slot(at("2026-03-29T01:00:00Z"), &zone),
            at("2026-03-30T00:30:00Z")
        );
        // The gap's start falls due at its end too; 03:00 is unaffected.
        assert_eq!(
            daily("02:00").next_slot(at("2026-03-28T12:00:00Z"), &zone),
            at("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            daily("03:00").next_slot(at("2026-03-28T12:00:00Z"), &zone),
            at("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn a_time_in_the_repeated_hour_falls_due_once_at_the_first_instant() {
        // Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00Z; 02:30 happens at
        // 00:30Z (CEST) and again at 01:30Z (CET).
        let zone = berlin();
        let half_past_two = daily("02:30");
        assert_eq!(
            half_past_two.latest_slot(at("2026-10-25T00:29:59Z"), &zone),
            at("2026-10-24T00:30:00Z")
        );
        for now in [
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:15:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T01:45:00Z",
            "2026-10-25T22:00:00Z",
        ] {
            assert_eq!(
                half_past_two.latest_slot(at(now), &zone),
                at("2026-10-25T00:30:00Z"),
                "{now}"
            );
        }
        // Between the two 02:30s the next run is tomorrow's, not a second one today.
        assert_eq!(
            half_past_two.next_slot(at("2026-10-25T00:30:00Z"), &zone),
            at("2026-10-26T01:30:00Z")
        );
        assert_eq!(
            half_past_two.next_slot(at("2026-10-25T01:15:00Z"), &zone),
            at("2026-10-26T01:30:00Z")
        );
    }

    #[test]
    fn weekly_at_parses_day_names() {
        let sunday_four = WeeklyAt {
            weekday: Weekday::Sunday,
            at: daily("04:00"),
        };
        for raw in ["sun 04:00", "Sunday 04:00", "SUN 4:00", "sUnDaY 04:00"] {
            assert_eq!(WeeklyAt::parse(raw), Ok(sunday_four), "{raw}");
        }
        assert_eq!(WeeklyAt::default(), sunday_four);
        assert_eq!(
            WeeklyAt::parse("wed 23:59"),
            Ok(WeeklyAt {
                weekday: Weekday::Wednesday,
                at: daily("23:59"),
            })
        );
        assert_eq!(
            WeeklyAt::parse("thursday 0:00").map(|w| w.weekday),
            Ok(Weekday::Thursday)
        );
        for bad in [
            "",
            "sun",
            "sunday",
            "04:00",
            "sun04:00",
            "sun  04:00",
            " sun 04:00",
            "su 04:00",
            "sund 04:00",
            "sundays 04:00",
            "sonntag 04:00",
            "04:00 sun",
            "sun 24:00",
            "sun 04:00:00",
        ] {
            assert_eq!(WeeklyAt::parse(bad), Err(InvalidWeeklyAt), "{bad:?}");
        }
        assert_eq!(sunday_four.to_string(), "sun 04:00");
        assert_eq!(
            WeeklyAt::parse("Mon 7:05").unwrap().to_string(),
            "mon 07:05"
        );
    }

    #[test]
    fn weekly_latest_and_next_slot() {
        let zone = berlin();
        let weekly = WeeklyAt::default(); // Sunday 04:00 = 03:00Z in winter
        assert_eq!(date(2026, 1, 18).weekday(), Weekday::Sunday);
        assert_eq!(
            weekly.latest_slot(at("2026-01-18T02:59:59Z"), &zone),
            at("2026-01-11T03:00:00Z")
        );
        assert_eq!(
            weekly.latest_slot(at("2026-01-18T03:00:00Z"), &zone),
            at("2026-01-18T03:00:00Z")
        );
        assert_eq!(
            weekly.latest_slot(at("2026-01-21T12:00:00Z"), &zone),
            at("2026-01-18T03:00:00Z")
        );
        assert_eq!(
            weekly.latest_slot(at("2026-01-24T22:59:59Z"), &zone),
            at("2026-01-18T03:00:00Z")
        );
        assert_eq!(
            weekly.next_slot(at("2026-01-18T03:00:00Z"), &zone),
            at("2026-01-25T03:00:00Z")
        );
        assert_eq!(
            weekly.next_slot(at("2026-01-14T12:00:00Z"), &zone),
            at("2026-01-18T03:00:00Z")
        );
        // The Sunday the clocks go forward: 04:00 CEST is 02:00Z.
        assert_eq!(
            weekly.latest_slot(at("2026-04-01T00:00:00Z"), &zone),
            at("2026-03-29T02:00:00Z")
        );
        // A weekly time in the skipped hour falls due when the gap ends.
        let in_gap = WeeklyAt::parse("sun 02:30").unwrap();
        assert_eq!(
            in_gap.latest_slot(at("2026-03-31T00:00:00Z"), &zone),
            at("2026-03-29T01:00:00Z")
        );
    }

    // ----- retention ---------------------------------------------------------------------

    fn backup(time: &str, verified: bool) -> StoredBackup {
        StoredBackup {
            id: BackupId::new(at(time), [0xab, 0xcd, 0xef, 0x01]),
            verified,
        }
    }

    /// One backup a day at 02:00 Berlin (01:00Z) in January 2026, for the given days.
    fn january(days: impl IntoIterator<Item = i8>, verified: bool) -> Vec<StoredBackup> {
        days.into_iter()
            .map(|day| backup(&format!("2026-01-{day:02}T01:00:00Z"), verified))
            .collect()
    }

    fn retention(daily: u32, weekly: u32, monthly: u32) -> Retention {
        Retention::checked(daily, weekly, monthly).unwrap()
    }

    #[test]
    fn retention_bounds() {
        assert_eq!(Retention::default(), retention(7, 4, 12));
        let r = retention(1, 0, 0);
        assert_eq!((r.daily(), r.weekly(), r.monthly()), (1, 0, 0));
        assert!(Retention::checked(1000, 1000, 1000).is_ok());
        let Err(DomainError::Invalid(fields)) = Retention::checked(0, 1001, 1001) else {
            panic!("field errors expected");
        };
        let names: Vec<&str> = fields.iter().map(|(f, _)| f).collect();
        assert_eq!(names, ["daily", "monthly", "weekly"]);
        let Err(DomainError::Invalid(fields)) = Retention::checked(1001, 0, 0) else {
            panic!("field errors expected");
        };
        assert!(fields.get("daily").is_some());
    }

    #[test]
    fn thirty_verified_days_with_the_default_policy() {
        // 2026-01-01 is a Thursday. ISO weeks: W02 = Jan 5–11, W03 = 12–18, W04 = 19–25,
        // W05 = Jan 26–Feb 1. Kept: the days 24–30, the newest of W04 (25), W03 (18) and
        // W02 (11), and of January (30). All else goes.
        let backups = january(1..=30, true);
        let deleted = Retention::default().to_delete(&backups, &berlin());
        let expected: Vec<BackupId> = january((1..=10).chain(12..=17).chain(19..=23), true)
            .into_iter()
            .map(|b| b.id)
            .collect();
        assert_eq!(deleted.len(), 21);
        assert_eq!(deleted, expected);
    }

    #[test]
    fn input_order_does_not_matter() {
        let backups = january(1..=30, true);
        let expected = Retention::default().to_delete(&backups, &berlin());
        let mut reversed = backups.clone();
        reversed.reverse();
        let mut rotated = backups.clone();
        rotated.rotate_left(11);
        let mut doubled = backups.clone();
        doubled.extend(backups.iter().cloned());
        for shuffled in [reversed, rotated, doubled] {
            assert_eq!(
                Retention::default().to_delete(&shuffled, &berlin()),
                expected
            );
        }
    }

    #[test]
    fn nothing_goes_while_no_backup_is_verified() {
        let backups = january(1..=30, false);
        assert!(
            Retention::default()
                .to_delete(&backups, &berlin())
                .is_empty()
        );
        assert!(retention(1, 0, 0).to_delete(&[], &berlin()).is_empty());
    }

    #[test]
    fn only_backups_older_than_the_newest_verified_may_go() {
        // Ten days, only the 5th verified (the newer runs may be broken). The policy keeps
        // only the 10th; the 6th–9th stay because no verified backup is newer, and so does
        // the 5th itself.
        let mut backups = january(1..=10, false);
        backups[4].verified = true;
        let deleted = retention(1, 0, 0).to_delete(&backups, &berlin());
        let expected: Vec<BackupId> = backups[..4].iter().map(|b| b.id.clone()).collect();
        assert_eq!(deleted, expected);
        // The newest verified backup never goes, even when the policy would drop it.
        assert!(!deleted.contains(&backups[4].id));
    }

    #[test]
    fn a_single_backup_is_never_deleted() {
        let only = [backup("2026-01-15T01:00:00Z", true)];
        assert!(retention(1, 0, 0).to_delete(&only, &berlin()).is_empty());
        let only = [backup("2026-01-15T01:00:00Z", false)];
        assert!(retention(1, 0, 0).to_delete(&only, &berlin()).is_empty());
    }

    #[test]
    fn the_newest_of_a_day_is_kept() {
        let backups = [
            backup("2026-01-15T01:00:00Z", true),
            backup("2026-01-15T13:00:00Z", true),
            backup("2026-01-15T20:00:00Z", true),
        ];
        let deleted = retention(1, 0, 0).to_delete(&backups, &berlin());
        assert_eq!(deleted, [backups[0].id.clone(), backups[1].id.clone()]);
    }

    #[test]
    fn monthly_backups_reach_back_a_year() {
        // One verified backup on the 10th of each month from 2025-01 to 2026-03 (15 months).
        let backups: Vec<StoredBackup> = (0..15)
            .map(|n| {
                let (year, month) = (2025 + n / 12, n % 12 + 1);
                backup(&format!("{year}-{month:02}-10T10:00:00Z"), true)
            })
            .collect();
        let deleted = Retention::default().to_delete(&backups, &berlin());
        // 12 months are kept (2025-04 … 2026-03); 2025-01 … 2025-03 go.
        let expected: Vec<BackupId> = backups[..3].iter().map(|b| b.id.clone()).collect();
        assert_eq!(deleted, expected);
    }

    #[test]
    fn days_and_months_are_those_of_the_zone() {
        // 22:30Z and 23:30Z on Jan 31 are Jan 31 23:30 and Feb 1 00:30 in Berlin.
        let backups = [
            backup("2026-01-31T22:30:00Z", true),
            backup("2026-01-31T23:30:00Z", true),
        ];
        let policy = retention(1, 0, 2);
        assert!(policy.to_delete(&backups, &berlin()).is_empty());
        assert_eq!(
            policy.to_delete(&backups, &TimeZone::UTC),
            [backups[0].id.clone()]
        );
    }

    proptest! {
        #[test]
        fn retention_never_loses_the_last_good_backup(
            raw in prop::collection::vec((0i64..400 * 86_400, any::<bool>(), any::<u8>()), 0..40),
            daily in 1u32..10,
            weekly in 0u32..6,
            monthly in 0u32..14,
        ) {
            let start = at("2025-01-01T00:00:00Z");
            let backups: Vec<StoredBackup> = raw
                .iter()
                .map(|(secs, verified, r)| StoredBackup {
                    id: BackupId::new(start + SignedDuration::from_secs(*secs), [*r, 0, 0, 0]),
                    verified: *verified,
                })
                .collect();
            let policy = retention(daily, weekly, monthly);
            let deleted = policy.to_delete(&backups, &berlin());
            prop_assert!(deleted.windows(2).all(|w| w[0] < w[1]));
            let ids: BTreeSet<&BackupId> = backups.iter().map(|b| &b.id).collect();
            prop_assert!(deleted.iter().all(|id| ids.contains(id)));
            let newest_verified = backups.iter().filter(|b| b.verified).map(|b| &b.id).max();
            match newest_verified {
                None => prop_assert!(deleted.is_empty()),
                Some(newest) => prop_assert!(deleted.iter().all(|id| id < newest)),
            }
            prop_assert!(deleted.len() < ids.len().max(1));
            let mut reversed = backups.clone();
            reversed.reverse();
            prop_assert_eq!(policy.to_delete(&reversed, &berlin()), deleted);
        }
    }

    // ----- health ------------------------------------------------------------------------

    fn healthy(target: &str, now: Timestamp) -> TargetFacts {
        TargetFacts {
            name: name(target),
            last_success: Some(now - SignedDuration::from_hours(3)),
            last_failure: None,
        }
    }

    #[test]
    fn two_healthy_targets_are_protected() {
        let now = at("2026-03-01T12:00:00Z");
        let health = assess(&[healthy("local", now), healthy("offsite", now)], now);
        assert_eq!(health.status, BackupStatus::Protected);
        assert!(health.is_protected());
        assert!(health.problems.is_empty());
        assert_eq!(health.status.as_str(), "protected");
    }

    #[test]
    fn fewer_than_two_targets_is_unprotected() {
        let now = at("2026-03-01T12:00:00Z");
        let health = assess(&[], now);
        assert_eq!(health.status, BackupStatus::Unprotected);
        assert_eq!(health.status.as_str(), "unprotected");
        assert_eq!(
            health.problems,
            [BackupProblem::TooFewTargets { configured: 0 }]
        );
        let health = assess(&[healthy("local", now)], now);
        assert_eq!(
            health.problems,
            [BackupProblem::TooFewTargets { configured: 1 }]
        );
        assert_eq!(health.problems[0].code(), "too_few_targets");
        // One target listed twice is still one server.
        let health = assess(&[healthy("local", now), healthy("local", now)], now);
        assert_eq!(
            health.problems,
            [BackupProblem::TooFewTargets { configured: 1 }]
        );
    }

    #[test]
    fn a_target_that_never_succeeded() {
        let now = at("2026-03-01T12:00:00Z");
        let fresh = TargetFacts {
            name: name("offsite"),
            last_success: None,
            last_failure: None,
        };
        let health = assess(&[healthy("local", now), fresh.clone()], now);
        assert_eq!(
            health.problems,
            [BackupProblem::NeverSucceeded {
                target: name("offsite")
            }]
        );
        assert_eq!(health.problems[0].code(), "never_succeeded");
        // Never succeeded and failed: both, the failure with its error code.
        let failed = TargetFacts {
            last_failure: Some((at("2026-03-01T02:00:00Z"), "s3_forbidden".to_owned())),
            ..fresh
        };
        let health = assess(&[healthy("local", now), failed], now);
        assert_eq!(
            health.problems,
            [
                BackupProblem::NeverSucceeded {
                    target: name("offsite")
                },
                BackupProblem::LastRunFailed {
                    target: name("offsite"),
                    at: at("2026-03-01T02:00:00Z"),
                    error: "s3_forbidden".to_owned(),
                },
            ]
        );
    }

    #[test]
    fn the_newest_event_decides_between_failure_and_success() {
        let now = at("2026-03-01T12:00:00Z");
        let failure_after_success = TargetFacts {
            name: name("offsite"),
            last_success: Some(at("2026-02-28T01:00:00Z")),
            last_failure: Some((at("2026-03-01T01:00:00Z"), "timeout".to_owned())),
        };
        let health = assess(&[healthy("local", now), failure_after_success], now);
        assert_eq!(health.status, BackupStatus::Unprotected);
        assert_eq!(
            health.problems,
            [BackupProblem::LastRunFailed {
                target: name("offsite"),
                at: at("2026-03-01T01:00:00Z"),
                error: "timeout".to_owned(),
            }]
        );
        assert_eq!(health.problems[0].code(), "last_run_failed");

        let success_after_failure = TargetFacts {
            name: name("offsite"),
            last_success: Some(at("2026-03-01T01:00:00Z")),
            last_failure: Some((at("2026-02-28T01:00:00Z"), "timeout".to_owned())),
        };
        let health = assess(&[healthy("local", now), success_after_failure], now);
        assert_eq!(health.status, BackupStatus::Protected);

        // A failure at the very instant of the success is not newer.
        let same_instant = TargetFacts {
            name: name("offsite"),
            last_success: Some(at("2026-03-01T01:00:00Z")),
            last_failure: Some((at("2026-03-01T01:00:00Z"), "timeout".to_owned())),
        };
        assert!(assess(&[healthy("local", now), same_instant], now).is_protected());
    }

    #[test]
    fn stale_after_more_than_36_hours() {
        let now = at("2026-03-02T12:00:00Z");
        let last = |success: &str| TargetFacts {
            name: name("offsite"),
            last_success: Some(at(success)),
            last_failure: None,
        };
        // Exactly 36 hours: not yet stale.
        let health = assess(&[healthy("local", now), last("2026-03-01T00:00:00Z")], now);
        assert!(health.is_protected(), "{:?}", health.problems);
        // One second more: stale.
        let health = assess(&[healthy("local", now), last("2026-02-28T23:59:59Z")], now);
        assert_eq!(health.status, BackupStatus::Unprotected);
        assert_eq!(
            health.problems,
            [BackupProblem::Stale {
                target: name("offsite"),
                last_success: at("2026-02-28T23:59:59Z"),
            }]
        );
        assert_eq!(health.problems[0].code(), "stale");
        assert_eq!(STALE_AFTER, SignedDuration::from_hours(36));
    }

    #[test]
    fn problems_read_well() {
        let text = BackupProblem::LastRunFailed {
            target: name("offsite"),
            at: at("2026-03-01T01:00:00Z"),
            error: "timeout".to_owned(),
        }
        .to_string();
        assert_eq!(
            text,
            "target offsite: the last run failed at 2026-03-01T01:00:00Z: timeout"
        );
        assert_eq!(
            BackupProblem::TooFewTargets { configured: 1 }.to_string(),
            "1 backup target(s) configured; at least 2 independent ones are needed"
        );
        let stale = BackupProblem::Stale {
            target: name("local"),
            last_success: at("2026-03-01T01:00:00Z"),
        };
        assert_eq!(
            stale.to_string(),
            "target local: the last successful backup is from 2026-03-01T01:00:00Z, \
             more than 36 hours ago"
        );
    }
}
