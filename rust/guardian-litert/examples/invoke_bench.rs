//! Times the bare LiteRT invoke of both models of a card.
//!
//! Usage: `cargo run --release -p guardian-litert --example invoke_bench [MODELS_DIR] [N]`
//! (default `models/`, 20000 invokes). The library is found by `LiteRtLibrary::locate`
//! (set `GUARDIAN_LITERT_LIB` to try another copy).

use std::path::PathBuf;
use std::time::Instant;

use guardian_core::ModelCard;
use guardian_litert::{LiteRtLibrary, LiteRtScorer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "models".into()));
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let card = ModelCard::from_json(&std::fs::read_to_string(dir.join("model_card.json"))?)?;
    let lib = LiteRtLibrary::locate()?;
    println!("library: {}", lib.path().display());
    for (name, spec) in [
        ("full", &card.models.full),
        ("acc_only", &card.models.acc_only),
    ] {
        let mut s = LiteRtScorer::from_file(&lib, dir.join(&spec.file), spec, card.window_frames)?;
        let window: Vec<i8> = (0..s.input_len())
            .map(|i| ((i * 37) % 61) as i8 - 30)
            .collect();
        for _ in 0..200 {
            s.invoke_raw(&window)?;
        }
        let start = Instant::now();
        let mut acc = 0i64;
        for _ in 0..n {
            acc += i64::from(s.invoke_raw(&window)?);
        }
        let per = start.elapsed().as_secs_f64() / n as f64;
        println!(
            "{name}: {:.2} us per invoke over {n} invokes (fully accelerated: {}, checksum {acc})",
            per * 1e6,
            s.fully_accelerated()
        );
    }
    Ok(())
}
