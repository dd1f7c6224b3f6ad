//! The waiting list: a patient with an appointment asks for an earlier one of the same
//! visit type. When such a time frees up, the first few who joined are offered it at once;
//! the first to accept gets it. Here are the rules: how many are offered one time, how long
//! an offer stands, and which waiting appointments a freed time suits.

use jiff::{SignedDuration, Timestamp};

/// How many waiting patients one freed time is offered to at once, in the order they joined,
/// unless the practice sets another number.
pub const OFFERED_AT_ONCE: usize = 5;

/// A practice's number of patients offered a freed time at once: 1 to 20.
pub fn offered_at_once(raw: i64) -> Result<usize, crate::error::DomainError> {
    match usize::try_from(raw) {
        Ok(n) if (1..=20).contains(&n) => Ok(n),
        _ => Err(crate::error::DomainError::invalid(
            "offers_at_once",
            "must be between 1 and 20",
        )),
    }
}

/// How long an offer stands at most.
pub const OFFER_VALIDITY: SignedDuration = SignedDuration::from_hours(2);

/// Until when an offer of a time starting at `start` stands when made at `now`: two hours,
/// but no later than the visit type's lead time before the start (the practice needs that
/// notice for an online booking too). `None` when that moment has passed: too late to offer.
pub fn offer_expiry(
    now: Timestamp,
    start: Timestamp,
    min_lead: SignedDuration,
) -> Option<Timestamp> {
    let until = (now + OFFER_VALIDITY).min(start - min_lead);
    (until > now).then_some(until)
}

/// Whether a freed time at `freed_start` is worth offering to a patient whose appointment
/// starts at `current_start`: only an earlier one is.
pub fn is_earlier(freed_start: Timestamp, current_start: Timestamp) -> bool {
    freed_start < current_start
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    const LEAD: SignedDuration = SignedDuration::from_mins(60);

    #[test]
    fn an_offer_stands_two_hours_when_the_time_is_far_off() {
        assert_eq!(
            offer_expiry(at("2026-03-25T00:00:00Z"), at("2026-03-30T07:00:00Z"), LEAD),
            Some(at("2026-03-25T02:00:00Z"))
        );
    }

    #[test]
    fn an_offer_ends_at_the_lead_time_before_a_close_start() {
        assert_eq!(
            offer_expiry(at("2026-03-30T05:00:00Z"), at("2026-03-30T07:00:00Z"), LEAD),
            Some(at("2026-03-30T06:00:00Z"))
        );
    }

    #[test]
    fn a_time_within_the_lead_time_is_not_offered() {
        assert_eq!(
            offer_expiry(at("2026-03-30T06:00:00Z"), at("2026-03-30T07:00:00Z"), LEAD),
            None,
            "exactly the lead time before"
        );
        assert_eq!(
            offer_expiry(at("2026-03-30T05:59:59Z"), at("2026-03-30T07:00:00Z"), LEAD),
            Some(at("2026-03-30T06:00:00Z")),
            "one second earlier"
        );
    }

    #[test]
    fn only_an_earlier_time_is_offered() {
        let current = at("2026-03-30T12:00:00Z");
        assert!(is_earlier(at("2026-03-30T11:59:59Z"), current));
        assert!(!is_earlier(current, current));
        assert!(!is_earlier(at("2026-03-30T12:00:01Z"), current));
    }
}
