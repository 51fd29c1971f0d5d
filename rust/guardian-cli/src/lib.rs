//! The `guardian` command's library: recording format, model bundle, and the commands, so
//! integration tests and benchmarks can call them.

pub mod bench;
pub mod bundle;
pub mod demo;
pub mod eval;
pub mod feed;
pub mod frames;
pub mod matching;
pub mod recording;
pub mod replay;

use std::path::PathBuf;

use clap::Args;
pub use guardian_runtime::RuntimeKind;

/// Options shared by the commands that run the engine.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// Model card (`model_card.json`) or a folder holding one [default: the shipped models,
    /// built into this binary]
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Detector configuration, JSON (keys of `DetectorConfig`; missing keys keep defaults)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Path of libLiteRt.so [default: $GUARDIAN_LITERT_LIB, then .cache/litert/]
    #[arg(long, value_name = "FILE")]
    pub litert: Option<PathBuf>,
    /// Inference runtime: litert (LiteRT 2.1.4) or classic (the TensorFlow Lite C API phones
    /// have; `replay` and `demo`: `bench` and `eval` refuse it, `check-model` checks LiteRT)
    #[arg(long, value_name = "RUNTIME", default_value = "litert", value_parser = parse_runtime)]
    pub runtime: RuntimeKind,
    /// Path of libtensorflowlite_c.so, with --runtime classic [default: $GUARDIAN_TFLITE_LIB,
    /// then .cache/tflite-classic/]
    #[arg(long, value_name = "FILE")]
    pub tflite: Option<PathBuf>,
}

impl EngineArgs {
    /// Refuses `--runtime classic` for a command that measures or needs LiteRT itself.
    pub fn require_litert(&self, command: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.runtime == RuntimeKind::LiteRt && self.tflite.is_none(),
            "`guardian {command}` runs LiteRT only (--runtime litert, no --tflite)"
        );
        Ok(())
    }
}

/// Recording time covered by `frames` frames of the grid, s.
pub fn grid_seconds(frames: u64) -> f64 {
    // The grid rate is a whole 50 Hz: dividing by it gives the bits dividing by 50.0 gave.
    frames as f64 / (1_000_000_000 / guardian_core::GRID_PERIOD_NS) as f64
}

fn parse_runtime(s: &str) -> Result<RuntimeKind, String> {
    s.parse()
}
