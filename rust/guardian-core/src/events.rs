//! What the engine tells its host: falls, the alert's end, sensor health.

use serde::{Deserialize, Serialize};

use crate::sample::Sensor;

/// A fall the engine detected ([`Event::Fall`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectedFall {
    /// Impact instant, ns (sensor clock).
    pub impact_t_ns: i64,
    /// Instant the post-impact check confirmed the fall and the alert was raised, ns.
    pub confirmed_t_ns: i64,
    /// Model score of the confirming window, in [0, 1].
    pub score: f32,
    /// Peak |a| at the impact, in g.
    pub peak_g: f32,
}

/// What the engine tells its host.
///
/// As JSON, an object with the variant's name in `kind` (snake_case) and its fields beside it:
/// `{"kind":"fall","impact_t_ns":..,"confirmed_t_ns":..,"score":..,"peak_g":..}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A fall was detected and an alert raised; the user may cancel it.
    Fall(DetectedFall),
    /// The user cancelled the alert ("I'm OK").
    AlertCancelled {
        /// Impact instant of the cancelled alert, ns.
        impact_t_ns: i64,
        /// Instant of the cancellation, ns (sensor clock).
        t_ns: i64,
    },
    /// The host should call for help: nobody cancelled within the cancel window, or the user
    /// asked for help (`by_user`).
    AlertEscalated {
        /// Impact instant of the alert, ns.
        impact_t_ns: i64,
        /// Instant of the escalation, ns (sensor clock).
        t_ns: i64,
        /// True when the user confirmed the alert ("I need help") before the window ran out.
        #[serde(default)]
        by_user: bool,
    },
    /// Full mode only: one sensor has delivered nothing for longer than the engine can hold the
    /// other's values (`frame::MAX_PENDING`, 5.12 s), so no frames are made and falls cannot
    /// be detected. A host that sees this for the gyroscope can switch to the acc_only model.
    SensorStalled {
        /// The silent sensor.
        sensor: Sensor,
        /// Timestamp of the newest sample pushed when the stall was noticed, ns.
        t_ns: i64,
    },
    /// Frames are made again after [`Event::SensorStalled`].
    SensorResumed {
        /// The sensor that had stalled.
        sensor: Sensor,
        /// Timestamp of the first frame made again, ns.
        t_ns: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fall_is_one_flat_json_object_with_its_kind() {
        let fall = Event::Fall(DetectedFall {
            impact_t_ns: 1_000,
            confirmed_t_ns: 2_500,
            score: 0.75,
            peak_g: 3.5,
        });
        let text =
            r#"{"kind":"fall","impact_t_ns":1000,"confirmed_t_ns":2500,"score":0.75,"peak_g":3.5}"#;
        assert_eq!(serde_json::to_string(&fall).expect("serializes"), text);
        assert_eq!(serde_json::from_str::<Event>(text).expect("parses"), fall);
        let cancelled = Event::AlertCancelled {
            impact_t_ns: 1_000,
            t_ns: 4_000,
        };
        let text = r#"{"kind":"alert_cancelled","impact_t_ns":1000,"t_ns":4000}"#;
        assert_eq!(serde_json::to_string(&cancelled).expect("serializes"), text);
        assert_eq!(
            serde_json::from_str::<Event>(text).expect("parses"),
            cancelled
        );
    }
}
