//! The `guardian` command's library: recording format, model bundle, and the commands, so
//! integration tests and benchmarks can call them.

pub mod bench;
pub mod bundle;
pub mod demo;
pub mod eval;
pub mod frames;
pub mod recording;
pub mod replay;

use std::path::PathBuf;

use clap::Args;

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
}
