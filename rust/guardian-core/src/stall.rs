//! Sensor health in full mode: a sensor the frame fusion finds silent (its partner's values
//! overflow the fusion, [`crate::ingest::Ingest::push`]) has stalled ([`Event::SensorStalled`]);
//! the next frame made means it is back ([`Event::SensorResumed`]).

use crate::events::Event;
use crate::sample::Sensor;

/// The one sensor reported stalled and not yet resumed, and how many stalls were reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct StallMonitor {
    stalled: Option<Sensor>,
    stalls: u64,
}

impl StallMonitor {
    /// After a push of samples ending at `t_ns`, during which the fusion found `silent` silent
    /// (if any): a stall, reported once until frames are made again.
    pub fn after_push(&mut self, silent: Option<Sensor>, t_ns: i64) -> Option<Event> {
        if self.stalled.is_some() {
            return None;
        }
        let silent = silent?;
        self.stalled = Some(silent);
        self.stalls += 1;
        Some(Event::SensorStalled {
            sensor: silent,
            t_ns,
        })
    }

    /// A frame was made at `t_ns`: a stalled sensor has resumed.
    pub fn on_frame(&mut self, t_ns: i64) -> Option<Event> {
        self.stalled
            .take()
            .map(|sensor| Event::SensorResumed { sensor, t_ns })
    }

    /// Stalls reported so far.
    pub fn stalls(&self) -> u64 {
        self.stalls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_reported_once_until_frames_resume() {
        let mut m = StallMonitor::default();
        assert_eq!(m.after_push(None, 10), None);
        assert_eq!(
            m.after_push(Some(Sensor::Gyro), 20),
            Some(Event::SensorStalled {
                sensor: Sensor::Gyro,
                t_ns: 20
            })
        );
        assert_eq!(m.after_push(Some(Sensor::Gyro), 30), None);
        assert_eq!(
            m.on_frame(40),
            Some(Event::SensorResumed {
                sensor: Sensor::Gyro,
                t_ns: 40
            })
        );
        assert_eq!(m.on_frame(60), None);
        assert!(m.after_push(Some(Sensor::Acc), 70).is_some());
        assert_eq!(m.stalls(), 2);
    }
}
