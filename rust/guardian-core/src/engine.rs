//! The streaming engine: samples in, events out.

pub(crate) mod window_log;
mod window_scorer;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::card::{CardError, ModelCard, SensorSet};
use crate::detector::{
    ConfigError, Detector, DetectorConfig, DetectorCounters, DetectorPhase, Resolved, WindowVerdict,
};
use crate::events::Event;
use crate::frame::Frame;
use crate::grid::GRID_PERIOD_NS;
use crate::ingest::Ingest;
use crate::input::ModelInput;
use crate::resampler::IngestCounters;
use crate::sample::{Sample, Sensor};
use crate::scorer::{ScoreError, Scorer};
use crate::stall::StallMonitor;
use crate::window::{WindowStep, Windower};
use window_log::WindowLog;
use window_scorer::WindowScorer;

/// The preprocessing version this core implements (`docs/PREPROCESSING.md`).
pub const PREPROCESSING_VERSION: u32 = 1;
/// Events kept for the host before the oldest is dropped (the host drains them after pushes).
pub const EVENT_QUEUE: usize = 256;

/// Why the engine refused something. Samples of a refused push are not consumed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// `stop` was called; create a new engine to start again.
    #[error("the engine is stopped: samples pushed after stop are not accepted")]
    Stopped,
    /// The detector configuration is out of range.
    #[error("invalid detector configuration: {0}")]
    InvalidConfig(#[from] ConfigError),
    /// The model card does not fit this engine ([`ModelCard::validate`]).
    #[error("invalid model card: {0}")]
    CardMismatch(#[from] CardError),
    /// The model failed on a window. The batch was still ingested; that window was not scored.
    #[error(transparent)]
    Model(#[from] ScoreError),
}

/// Everything the engine counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Accelerometer ingest counters.
    pub acc: IngestCounters,
    /// Gyroscope ingest counters.
    pub gyro: IngestCounters,
    /// Gyroscope samples ignored because the engine runs the acc_only model.
    pub gyro_ignored: u64,
    /// Grid values discarded because the other sensor lacked their instant.
    pub unpaired: u64,
    /// Frames produced.
    pub frames: u64,
    /// Segments of consecutive frames (a gap or reset starts a new one).
    pub segments: u64,
    /// Detector counters (windows, model runs, candidates, alerts).
    pub detector: DetectorCounters,
    /// Windows the model failed on.
    pub model_errors: u64,
    /// Events dropped because the host did not drain the queue.
    pub dropped_events: u64,
    /// Times a sensor was reported stalled ([`Event::SensorStalled`]).
    pub stalls: u64,
}

/// Everything downstream of the ingest path; split from [`Engine`] so the ingest callback can
/// borrow it while the ingest path is borrowed too.
struct Pipeline {
    detector: Detector,
    scorer: WindowScorer,
    input: ModelInput,
    events: VecDeque<Event>,
    dropped_events: u64,
    frames: u64,
    segments: u64,
    model_errors: u64,
    first_error: Option<ScoreError>,
    window_log: WindowLog,
    stall: StallMonitor,
}

impl Pipeline {
    fn emit(events: &mut VecDeque<Event>, dropped: &mut u64, e: Event) {
        if events.len() == EVENT_QUEUE {
            events.pop_front();
            *dropped += 1;
        }
        events.push_back(e);
    }

    /// `frame` was stored in `w` (its newest), with `step`.
    fn on_frame(&mut self, w: &Windower, frame: Frame, step: WindowStep) {
        if let Some(e) = self.stall.on_frame(frame.t_ns()) {
            Self::emit(&mut self.events, &mut self.dropped_events, e);
        }
        if step.restarted || self.frames == 0 {
            self.segments += 1;
        }
        if step.restarted {
            self.detector.on_restart();
        }
        self.frames += 1;
        let (events, dropped) = (&mut self.events, &mut self.dropped_events);
        let verdict = self
            .detector
            .on_frame(w, step.complete, |e| Self::emit(events, dropped, e));
        if let WindowVerdict::Window {
            impact_k,
            peak,
            score,
        } = verdict
        {
            self.on_window(w, frame.k, impact_k, peak, score);
        }
    }

    /// A window of `w` ending at frame `end_k` completed; its band's impact is `impact_k` with
    /// |a| `peak` m/s^2; the model scores it when `run_model`.
    fn on_window(&mut self, w: &Windower, end_k: i64, impact_k: i64, peak: f32, run_model: bool) {
        let mut score = None;
        if run_model {
            match self.scorer.score(self.input.window(w)) {
                Ok(s) => {
                    score = Some(s);
                    let (events, dropped) = (&mut self.events, &mut self.dropped_events);
                    self.detector
                        .on_score(w, impact_k, peak, s, |e| Self::emit(events, dropped, e));
                }
                Err(e) => {
                    self.model_errors += 1;
                    self.first_error.get_or_insert(e);
                }
            }
        }
        self.window_log
            .record(end_k, peak, score, self.detector.phase());
    }
}

/// Guardian's streaming fall-detection engine.
///
/// Push accelerometer and gyroscope samples (any rate from about 30 to 500 Hz, batched or one
/// at a time, interleaved in any order within 100 ms); drain [`Event`]s. The engine resamples
/// onto the 50 Hz grid, cuts windows, runs the model through its [`Scorer`] only when the impact
/// trigger fires, and runs the detection state machine. Memory is bounded whatever the input;
/// steady-state ingest does not allocate. `Send`, not `Sync`: use it from one thread at a time.
pub struct Engine {
    sensors: SensorSet,
    ingest: Ingest,
    pipeline: Pipeline,
    stopped: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("sensors", &self.sensors)
            .field("stopped", &self.stopped)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine for the card's model of `sensors`, with `config` over the card's defaults.
    /// `scorer` must run that model (its input/output quantization is the card's).
    pub fn new(
        card: &ModelCard,
        sensors: SensorSet,
        config: &DetectorConfig,
        scorer: Box<dyn Scorer>,
    ) -> Result<Self, EngineError> {
        let cfg = Self::resolve(card, sensors, config)?;
        let spec = card.model(sensors);
        let channels = sensors.channels();
        Ok(Self {
            sensors,
            ingest: Ingest::new(sensors, card.window_frames, cfg.hop),
            pipeline: Pipeline {
                detector: Detector::new(cfg),
                scorer: WindowScorer::new(
                    scorer,
                    spec.scoring,
                    card.window_frames * channels,
                    channels,
                    spec.input.quant(),
                    spec.output.quant(),
                ),
                input: ModelInput::new(card.window_frames, channels, spec.input.quant()),
                events: VecDeque::with_capacity(EVENT_QUEUE),
                dropped_events: 0,
                frames: 0,
                segments: 0,
                model_errors: 0,
                first_error: None,
                window_log: WindowLog::new(),
                stall: StallMonitor::default(),
            },
            stopped: false,
        })
    }

    /// Checks `card` and `config` exactly as [`Engine::new`] does, without a model: a host can
    /// refuse them before loading anything.
    pub fn check(
        card: &ModelCard,
        sensors: SensorSet,
        config: &DetectorConfig,
    ) -> Result<(), EngineError> {
        Self::resolve(card, sensors, config).map(|_| ())
    }

    fn resolve(
        card: &ModelCard,
        sensors: SensorSet,
        config: &DetectorConfig,
    ) -> Result<Resolved, EngineError> {
        card.validate()?;
        Ok(config.resolve(card, sensors)?)
    }

    /// The sensor set (and so the model) this engine runs.
    pub fn sensors(&self) -> SensorSet {
        self.sensors
    }

    /// Pushes a batch of samples of one sensor, in arrival order.
    ///
    /// Bad samples (NaN, duplicates, reordering) are counted, not errors. Returns
    /// [`EngineError::Stopped`] without consuming anything after [`Engine::stop`], and
    /// [`EngineError::Model`] if the model failed on a window of this batch (the batch was still
    /// ingested). Does not allocate in steady state.
    pub fn push(&mut self, sensor: Sensor, samples: &[Sample]) -> Result<(), EngineError> {
        if self.stopped {
            return Err(EngineError::Stopped);
        }
        let Self {
            ingest, pipeline, ..
        } = self;
        let silent = ingest.push(sensor, samples, |w, f, step| pipeline.on_frame(w, f, step));
        let t_ns = samples.last().map_or(0, |s| s.t_ns);
        if let Some(e) = pipeline.stall.after_push(silent, t_ns) {
            Pipeline::emit(&mut pipeline.events, &mut pipeline.dropped_events, e);
        }
        match self.pipeline.first_error.take() {
            Some(e) => Err(EngineError::Model(e)),
            None => Ok(()),
        }
    }

    /// Takes the oldest pending event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.pipeline.events.pop_front()
    }

    /// Takes every pending event, oldest first.
    pub fn drain_events(&mut self) -> impl Iterator<Item = Event> + '_ {
        self.pipeline.events.drain(..)
    }

    /// Advances the alert timers to `now_ns` (sensor clock) when no samples arrive, so an
    /// alert still escalates if the sensors stop.
    pub fn tick(&mut self, now_ns: i64) -> Result<(), EngineError> {
        self.with_detector(|d, emit| d.tick(now_ns, emit))
    }

    /// The user answered "I'm OK": cancels the raised alert. Returns whether one was raised.
    pub fn cancel_alert(&mut self, now_ns: i64) -> Result<bool, EngineError> {
        self.with_detector(|d, emit| d.cancel(now_ns, emit))
    }

    /// The user asked for help: escalates the raised alert at once
    /// ([`Event::AlertEscalated`] with `by_user`). Returns whether one was raised.
    pub fn confirm_alert(&mut self, now_ns: i64) -> Result<bool, EngineError> {
        self.with_detector(|d, emit| d.confirm(now_ns, emit))
    }

    /// End of a finite recording: a post-impact check that has at least half of its frames is
    /// decided on what it has. Streaming hosts never need this.
    pub fn finish(&mut self) -> Result<(), EngineError> {
        let t = self.ingest.windower().last_k().unwrap_or(0) * GRID_PERIOD_NS;
        self.with_detector(|d, emit| d.on_finish(t, emit))
    }

    /// Runs `f` on the detector with an event sink, unless the engine is stopped.
    fn with_detector<R>(
        &mut self,
        f: impl FnOnce(&mut Detector, &mut dyn FnMut(Event)) -> R,
    ) -> Result<R, EngineError> {
        if self.stopped {
            return Err(EngineError::Stopped);
        }
        let p = &mut self.pipeline;
        let (events, dropped) = (&mut p.events, &mut p.dropped_events);
        Ok(f(&mut p.detector, &mut |e| {
            Pipeline::emit(events, dropped, e)
        }))
    }

    /// Stops the engine: later pushes return [`EngineError::Stopped`]. Pending events stay
    /// available.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Where the detector is.
    pub fn phase(&self) -> DetectorPhase {
        self.pipeline.detector.phase()
    }

    /// Counters so far.
    pub fn stats(&self) -> EngineStats {
        let p = &self.pipeline;
        EngineStats {
            acc: *self.ingest.counters(Sensor::Acc),
            gyro: *self.ingest.counters(Sensor::Gyro),
            gyro_ignored: self.ingest.gyro_ignored(),
            unpaired: self.ingest.unpaired(),
            frames: p.frames,
            segments: p.segments,
            detector: *p.detector.counters(),
            model_errors: p.model_errors,
            dropped_events: p.dropped_events,
            stalls: p.stall.stalls(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A facade moves the engine to its own thread.
    const _: () = {
        const fn assert_send<T: Send>() {}
        assert_send::<Engine>();
        assert_send::<EngineError>();
        assert_send::<Event>();
    };
}
