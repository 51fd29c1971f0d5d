//! The window log: every window as the engine saw it, for evaluation and plots.
//!
//! Only the evaluator needs it, so it is compiled in by guardian-core's `window-log` feature
//! (guardian-cli enables it); apps build the engine without it. The engine tells the log of
//! every window in one call ([`WindowLog::record`]), which without the feature is empty and
//! compiles away.

#[cfg(feature = "window-log")]
pub(crate) use log::WindowLog;
#[cfg(feature = "window-log")]
pub use log::WindowRecord;

/// Without the `window-log` feature: no log, nothing recorded.
#[cfg(not(feature = "window-log"))]
#[derive(Debug)]
pub(crate) struct WindowLog;

#[cfg(not(feature = "window-log"))]
impl WindowLog {
    /// The log of a new engine.
    pub fn new() -> Self {
        Self
    }

    /// Records nothing.
    #[inline(always)]
    pub fn record(
        &mut self,
        _end_k: i64,
        _peak: f32,
        _score: Option<f32>,
        _phase: crate::detector::DetectorPhase,
    ) {
    }
}

#[cfg(feature = "window-log")]
mod log {
    use serde::{Deserialize, Serialize};

    use crate::detector::DetectorPhase;
    use crate::engine::Engine;
    use crate::grid::GRID_PERIOD_NS;
    use crate::sample::STANDARD_GRAVITY;

    /// One window as the engine saw it, recorded only when [`Engine::record_windows`] is on.
    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    pub struct WindowRecord {
        /// Timestamp of the window's last frame, ns.
        pub end_t_ns: i64,
        /// Peak |a| in the band, g.
        pub band_peak_g: f32,
        /// Model score, when the model ran.
        pub score: Option<f32>,
        /// Detector phase after the window.
        pub phase: DetectorPhase,
    }

    /// The windows recorded so far, while recording is on.
    #[derive(Debug)]
    pub(crate) struct WindowLog(Option<Vec<WindowRecord>>);

    impl WindowLog {
        /// The log of a new engine: not recording.
        pub fn new() -> Self {
            Self(None)
        }

        /// A window ending at frame `end_k` whose band peaks at `peak` m/s^2 was scored
        /// `score`, leaving the detector in `phase`.
        pub fn record(&mut self, end_k: i64, peak: f32, score: Option<f32>, phase: DetectorPhase) {
            if let Some(log) = &mut self.0 {
                log.push(WindowRecord {
                    end_t_ns: end_k * GRID_PERIOD_NS,
                    band_peak_g: peak / STANDARD_GRAVITY,
                    score,
                    phase,
                });
            }
        }
    }

    impl Engine {
        /// Starts (or stops) recording every window in a log, for evaluation and plots. Off
        /// by default (it allocates). Only with guardian-core's `window-log` feature.
        pub fn record_windows(&mut self, on: bool) {
            self.pipeline.window_log = WindowLog(on.then(Vec::new));
        }

        /// Takes the window log recorded so far. Only with guardian-core's `window-log`
        /// feature.
        pub fn take_window_log(&mut self) -> Vec<WindowRecord> {
            self.pipeline
                .window_log
                .0
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        }
    }
}
