//! Matching fall alarms to true falls: the one tolerance and the one rule `demo` and `eval` use.

use guardian_core::{DetectedFall, Event};

/// A detected impact within this of a true fall's impact is that fall, ns.
pub const MATCH_TOLERANCE_NS: i64 = 1_500_000_000;

/// The fall alarms among the engine's `events`, in order.
pub fn fall_alarms(events: &[Event]) -> Vec<DetectedFall> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Fall(fall) => Some(*fall),
            _ => None,
        })
        .collect()
}

/// Matches alarms to true falls. `falls` holds each truth entry's impact (`None`: not a fall);
/// `alarms` the detected impacts in the order the engine raised them. Each alarm in turn catches
/// the first fall not yet caught whose impact lies within [`MATCH_TOLERANCE_NS`] of its own, so
/// the earliest alarm near a fall catches it. Returns, per alarm, the index in `falls` of the
/// fall it caught, or `None` for a false alarm.
pub fn match_alarms(
    falls: &[Option<i64>],
    alarms: impl IntoIterator<Item = i64>,
) -> Vec<Option<usize>> {
    let mut caught = vec![false; falls.len()];
    alarms
        .into_iter()
        .map(|alarm| {
            let hit = (0..falls.len()).find(|&i| {
                !caught[i] && falls[i].is_some_and(|t| (t - alarm).abs() <= MATCH_TOLERANCE_NS)
            })?;
            caught[hit] = true;
            Some(hit)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn the_earliest_alarm_within_the_tolerance_catches_each_fall_once() {
        let falls = [Some(10_000 * MS), None, Some(20_000 * MS)];
        let alarms = [3_000, 8_500, 10_200, 21_501, 19_000, 20_100].map(|ms| ms * MS);
        assert_eq!(
            match_alarms(&falls, alarms),
            vec![None, Some(0), None, None, Some(2), None]
        );
        assert_eq!(match_alarms(&[], alarms), vec![None; 6]);
    }
}
