//! `guardian`: Guardian's command-line tool.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use guardian_cli::{bench, bundle, demo, eval, frames, replay, EngineArgs};
use guardian_core::{Engine, QuantParams, Scorer, SensorSet};

/// Guardian fall detection: replay recordings, run the demo, benchmark.
#[derive(Debug, Parser)]
#[command(name = "guardian", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which model(s) to run: the values of `--sensors` (and of `frames --mode`). Each option
/// offers only the values valid for its command ([`SensorsArg::parser`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SensorsArg {
    Auto,
    Full,
    AccOnly,
    Both,
}

use SensorsArg::{AccOnly, Auto, Both, Full};

impl SensorsArg {
    /// The value's name on the command line and its help.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            Auto => (
                "auto",
                "Full if the recording has gyroscope rows, else acc-only",
            ),
            Full => ("full", "Accelerometer and gyroscope"),
            AccOnly => ("acc-only", "Accelerometer only"),
            Both => ("both", "Both models"),
        }
    }

    /// A parser of the values `allowed`, with their help; `spell` turns each value's name
    /// into the one the option takes.
    fn parser(
        allowed: &'static [SensorsArg],
        spell: fn(&'static str) -> &'static str,
    ) -> impl TypedValueParser<Value = SensorsArg> {
        let values = allowed.iter().map(move |a| {
            let (name, help) = a.describe();
            PossibleValue::new(spell(name)).help(help)
        });
        PossibleValuesParser::new(values).map(move |s| {
            *allowed
                .iter()
                .find(|a| spell(a.describe().0) == s)
                .expect("clap accepts only the allowed values")
        })
    }

    /// The model this value names; `None` for auto (and both).
    fn fixed(self) -> Option<SensorSet> {
        match self {
            Auto | Both => None,
            Full => Some(SensorSet::Full),
            AccOnly => Some(SensorSet::AccOnly),
        }
    }

    /// The models this value names, in the order they run.
    fn models(self) -> Vec<SensorSet> {
        match self.fixed() {
            Some(set) => vec![set],
            None => vec![SensorSet::Full, SensorSet::AccOnly],
        }
    }
}

/// A value's name as `--sensors` takes it.
fn kebab(name: &'static str) -> &'static str {
    name
}

/// A value's name as `frames --mode` takes it: as the parity test and the model card spell
/// sensor sets (`acc_only`).
fn snake(name: &'static str) -> &'static str {
    match name {
        "acc-only" => "acc_only",
        other => other,
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stream a recording (CSV `t_ns,sensor,x,y,z`) through the engine at full speed; prints
    /// one JSON object per event on stdout and a summary on stderr
    Replay {
        /// The recording
        file: PathBuf,
        #[command(flatten)]
        engine: EngineArgs,
        /// Which model to run
        #[arg(long, default_value = "auto", value_parser = SensorsArg::parser(&[Auto, Full, AccOnly], kebab))]
        sensors: SensorsArg,
        /// Print the summary on stderr as JSON
        #[arg(long)]
        json_summary: bool,
    },
    /// Generate a synthetic day of phone movement with known truth, run it through the
    /// shipped model, and compare what was detected with the truth
    Demo {
        #[command(flatten)]
        engine: EngineArgs,
        /// Seed of the synthetic day
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Falls in the day
        #[arg(long, default_value_t = 4)]
        falls: usize,
        /// Which model to run
        #[arg(long, default_value = "full", value_parser = SensorsArg::parser(&[Auto, Full, AccOnly], kebab))]
        sensors: SensorsArg,
        /// Print the result as JSON on stdout
        #[arg(long)]
        json: bool,
        /// Also write the day as a recording (CSV) to this file
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
    /// Measure bare model invoke time, full per-window cost, engine and replay throughput
    Bench {
        #[command(flatten)]
        engine: EngineArgs,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Model invocations to time
        #[arg(long, default_value_t = 3000)]
        invokes: usize,
        /// Hours of synthetic input for the throughput measurements
        #[arg(long, default_value_t = 24.0)]
        hours: f64,
    },
    /// Print the resampled frames and window starts of a recording as CSV (the preprocessing
    /// parity test compares this with the training pipeline)
    Frames {
        /// The recording
        file: PathBuf,
        /// Sensor set
        #[arg(long, default_value = "full", value_parser = SensorsArg::parser(&[Full, AccOnly], snake))]
        mode: SensorsArg,
        /// Hop between window starts, frames
        #[arg(long, default_value_t = 25)]
        hop: usize,
        /// Input scale: also print the quantized features (docs/PREPROCESSING.md section 9)
        #[arg(long)]
        scale: Option<f32>,
        /// Input zero point (with --scale)
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        zero_point: i32,
    },
    /// Event-level evaluation: stream every recording of labels files (from `python -m
    /// guardian_eval export`) through fresh engines; write metrics.json and results.jsonl
    Eval {
        /// Labels file(s) `file,dataset,subject,age_group,activity,is_fall,impact_t_ns,duration_s`
        /// (recording paths relative to the labels file's folder)
        #[arg(long, required = true, value_name = "FILE")]
        labels: Vec<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
        /// Which model(s) to run
        #[arg(long, default_value = "both", value_parser = SensorsArg::parser(&[Full, AccOnly, Both], kebab))]
        sensors: SensorsArg,
        /// Output folder
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Validate a card and `--config` as `replay` does, then load both models in LiteRT and
    /// check them against the card
    CheckModel {
        #[command(flatten)]
        engine: EngineArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay {
            file,
            engine,
            sensors,
            json_summary,
        } => replay::run(&file, &engine, sensors.fixed(), json_summary),
        Command::Demo {
            engine,
            seed,
            falls,
            sensors,
            json,
            write,
        } => {
            let sensors = sensors.fixed().unwrap_or(SensorSet::Full);
            demo::run(&engine, seed, falls, sensors, json, write.as_deref())
        }
        Command::Bench {
            engine,
            json,
            invokes,
            hours,
        } => bench::run(&engine, json, invokes, hours),
        Command::Frames {
            file,
            mode,
            hop,
            scale,
            zero_point,
        } => {
            let sensors = mode.fixed().unwrap_or(SensorSet::Full);
            let quant = scale.map(|scale| QuantParams { scale, zero_point });
            frames::run(&file, sensors, hop, quant)
        }
        Command::CheckModel { engine } => check_model(&engine),
        Command::Eval {
            labels,
            engine,
            sensors,
            out,
        } => eval::run(&labels, &engine, &sensors.models(), &out).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout went away (`guardian replay ... | head`): stop quietly.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Checks the card and `--config` exactly as `replay` does (both models), then loads each
/// model in LiteRT.
fn check_model(args: &EngineArgs) -> anyhow::Result<()> {
    let bundle = bundle::ModelBundle::load(args.model.as_deref())?;
    let config = bundle::load_config(args.config.as_deref())?;
    for sensors in [SensorSet::Full, SensorSet::AccOnly] {
        Engine::check(&bundle.card, sensors, &config)
            .with_context(|| format!("{} ({sensors:?} model)", bundle.origin))?;
    }
    // The structural pre-check of both models first: a damaged model is reported before
    // LiteRT is loaded (and before it prints anything).
    for sensors in [SensorSet::Full, SensorSet::AccOnly] {
        guardian_litert::check_tflite_model(bundle.model_bytes(sensors)).with_context(|| {
            format!(
                "model {} ({})",
                bundle.card.model(sensors).file,
                bundle.origin
            )
        })?;
    }
    let lib = bundle::load_litert(args.litert.as_deref())?;
    for sensors in [SensorSet::Full, SensorSet::AccOnly] {
        let mut scorer = bundle::quiet_scorer(&bundle, &lib, sensors)?;
        // One invoke, so that a model that loads but cannot run is found here too.
        let zeros = vec![0i8; scorer.input_len()];
        let q = scorer
            .score(&zeros)
            .with_context(|| format!("{sensors:?} model"))?;
        let spec = bundle.card.model(sensors);
        println!(
            "{}: ok ({} bytes, input {:?} scale {} zp {}, threshold {}, XNNPACK fully accelerated: {}, raw output on a zero window {q})",
            spec.file,
            bundle.model_bytes(sensors).len(),
            spec.input.shape,
            spec.input.scale,
            spec.input.zero_point,
            spec.threshold,
            scorer.fully_accelerated()
        );
    }
    println!("library: {}", lib.path().display());
    Ok(())
}
